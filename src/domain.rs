//! The operations of the service, free of any protocol: validated inputs in, domain values or
//! an [`IamError`] out. Both the gRPC adapters and the Query API call these and nothing else.

mod audited;
mod clock;
mod directory;
mod echo;
mod error;
mod imported;
mod input;
mod login_profiles;
mod marker;
mod mfa_devices;
mod policy;
mod screening;
mod sign_in;
mod tags;
mod users;

use std::sync::Arc;

pub use clock::{Clock, ManualClock, SystemClock};
pub use directory::{ListUserTags, TagList, TagUser, UntagUser, UpdateUser};
pub use echo::{ECHO_LIMIT, Echo};
pub use error::{FieldViolation, IamError, Violations};
pub use imported::ImportLoginProfile;
pub use input::{Password, PathPrefix, UserName, UserPath};
pub use login_profiles::{CreateLoginProfile, LoginProfile, UpdateLoginProfile};
pub use mfa_devices::{
    CreateVirtualMfaDevice, DeactivateMfaDevice, DeviceCodes, DeviceList, Enrolment, KeyringSlot,
    ListMfaDevices, ListVirtualMfaDevices, MfaDevice, MfaSettings, SerialNumber, VirtualMfaDevice,
    devices_without_key, parse_serial_number, reseal_mfa_seeds,
};
pub use policy::{PasswordPolicy, PasswordPolicyFields, Rules, SYMBOLS, UpdatePasswordPolicy};
pub use screening::ScreeningRule;
pub use sign_in::{ATTEMPT_LEASE, ChangePassword, LockoutRule, Verdict, VerifyPassword};
pub use tags::{MAX_TAGS, Tag};
pub use users::{CreateUser, ListUsers, User, UserList};

use crate::{
    audit::AuditTrail,
    password::{HashError, Hasher},
    screening::Screening,
    store::Store,
};

/// Settings of the domain that come from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The 12-digit account id that ARNs and messages name.
    pub account_id: String,
    pub lockout: LockoutRule,
    /// The blocklists new passwords are screened against (off: none, and no context rule).
    pub screening: Screening,
    /// The keys and issuer of virtual MFA devices.
    pub mfa: MfaSettings,
}

/// The service's operations over one store, hashing pool and clock. Cloning is shallow.
#[derive(Debug, Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    hasher: Hasher,
    clock: Arc<dyn Clock>,
    settings: Arc<Settings>,
    audit: AuditTrail,
}

impl Service {
    pub fn new(
        store: Arc<dyn Store>,
        hasher: Hasher,
        clock: Arc<dyn Clock>,
        settings: Settings,
        audit: AuditTrail,
    ) -> Self {
        Self {
            store,
            hasher,
            clock,
            settings: Arc::new(settings),
            audit,
        }
    }

    /// Where audit lines go; health reads whether they all could be written.
    pub fn audit(&self) -> &AuditTrail {
        &self.audit
    }

    pub fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The service's time source; the Query API checks signature dates against it.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

impl From<Violations> for IamError {
    fn from(violations: Violations) -> Self {
        IamError::Validation(violations)
    }
}

impl From<HashError> for IamError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Throttled { retry_after } => IamError::Throttling { retry_after },
            HashError::Failed(cause) => IamError::Internal(cause),
        }
    }
}

/// A store error: Unavailable when the store says its database cannot be reached.
impl From<anyhow::Error> for IamError {
    fn from(cause: anyhow::Error) -> Self {
        if cause.downcast_ref::<crate::store::Unavailable>().is_some() {
            IamError::Unavailable(cause)
        } else {
            IamError::Internal(cause)
        }
    }
}

/// Parses the `userName` of a request that carries nothing else.
pub fn parse_user_name(raw: &str) -> Result<UserName, IamError> {
    Ok(UserName::parse("userName", raw)?)
}
