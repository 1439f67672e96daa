//! The domain's one error type: an IAM error code with its message, word for word.
//!
//! Protocol adapters map it to the wire in one place each (`grpc::status` and
//! `query_api::status`); nothing else decides codes or messages. Refusals of the front doors
//! (authentication, the Query API's size limits and Action) are not the domain's: they are
//! `access::AuthError` and the Query API's own request errors.

use std::{borrow::Cow, fmt, time::Duration};

/// The pause a client is told to take after a transient fault of the store: about the time a
/// failover or a restarted database takes to answer again, and what health needs to notice it.
pub(super) const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// A constraint a request field failed, in the IAM ("Coral") validation form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The member name as IAM spells it (`userName`, `maxItems`, `tags.2.member.key`, ...).
    pub field: Cow<'static, str>,
    /// The failed constraint, e.g. `Member must have length less than or equal to 64`.
    pub constraint: String,
}

/// One or more field violations, reported together in request field order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Records that `field` failed `constraint`.
    pub fn push(&mut self, field: impl Into<Cow<'static, str>>, constraint: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            constraint: constraint.into(),
        });
    }

    /// Moves every violation of `other` to the end of this list.
    pub fn extend(&mut self, other: Violations) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldViolation> {
        self.0.iter()
    }

    /// Keeps the value of a field check and collects its violations, so that several fields can
    /// be checked before any error is returned.
    pub fn check<T>(&mut self, result: Result<T, Violations>) -> Option<T> {
        result.map_err(|violations| self.extend(violations)).ok()
    }

    /// Ok when nothing was recorded, else the ValidationError carrying every violation.
    pub fn into_result(self) -> Result<(), IamError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(IamError::Validation(self))
        }
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        let plural = if count == 1 { "" } else { "s" };
        write!(f, "{count} validation error{plural} detected: ")?;
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(
                f,
                "Value at '{}' failed to satisfy constraint: {}",
                v.field, v.constraint
            )?;
        }
        Ok(())
    }
}

/// Every failure a domain operation can answer. Variants are the IAM error codes; the message of each is the
/// IAM message, and never contains a password or a hash.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("{0}")]
    Validation(Violations),
    /// A ValidationError whose message is a sentence rather than field violations, e.g.
    /// `Must specify userName when calling with non-User credentials`.
    #[error("{0}")]
    ValidationMessage(String),
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    /// A request IAM refuses as a whole, e.g. tag keys that repeat.
    #[error("{0}")]
    InvalidInput(String),
    /// A quota would be exceeded, e.g. more than 50 tags on one user.
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    PasswordPolicyViolation(String),
    /// A PasswordPolicyViolation of screening: the password is known to attackers.
    #[error("{0}")]
    PasswordScreened(super::ScreeningRule),
    /// ChangePassword with a wrong old password.
    #[error("The old password is incorrect.")]
    InvalidCredentials,
    #[error("{0}")]
    AccessDenied(String),
    /// EnableMFADevice or ResyncMFADevice with codes the device did not make (403, as IAM).
    #[error("Authentication code for device is not valid.")]
    InvalidAuthenticationCode,
    #[error("{0}")]
    InvalidUserType(String),
    /// Load shed: the hashing queue is full. Safe to retry after `retry_after`.
    #[error("Rate exceeded")]
    Throttling { retry_after: Duration },
    /// Anything the caller cannot act on. Reaches the client as a fixed message; the cause is
    /// logged once where the error leaves the service.
    #[error("The request processing has failed because of an unknown error, exception or failure.")]
    Internal(#[source] anyhow::Error),
    /// Create, Enable or Resync of an MFA device on a server started without `--mfa-key-file`:
    /// a ServiceFailure whose message names the flag, so the operator knows what to fix.
    #[error("MFA devices need --mfa-key-file: the server was started without it.")]
    MfaKeysMissing,
    /// A transient fault of the store (its database unreachable, read-only, or too slow to
    /// answer: a lock or statement timeout): ServiceUnavailable, retryable after
    /// [`IamError::retry_after`] (gRPC UNAVAILABLE with RetryInfo, HTTP 503 with Retry-After).
    /// The cause is logged like Internal's.
    #[error("The request has failed due to a temporary failure of the server.")]
    Unavailable(#[source] anyhow::Error),
}

impl IamError {
    /// The IAM error code, as sent in `ErrorInfo.reason` and the Query API's `<Code>`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) | Self::ValidationMessage(_) => "ValidationError",
            Self::NoSuchEntity(_) => "NoSuchEntity",
            Self::EntityAlreadyExists(_) => "EntityAlreadyExists",
            Self::DeleteConflict(_) => "DeleteConflict",
            Self::InvalidInput(_) => "InvalidInput",
            Self::LimitExceeded(_) => "LimitExceeded",
            Self::PasswordPolicyViolation(_) | Self::PasswordScreened(_) => {
                "PasswordPolicyViolation"
            }
            Self::InvalidCredentials => "InvalidCredentials",
            Self::AccessDenied(_) => "AccessDenied",
            Self::InvalidAuthenticationCode => "InvalidAuthenticationCode",
            Self::InvalidUserType(_) => "InvalidUserType",
            Self::Throttling { .. } => "Throttling",
            Self::Internal(_) | Self::MfaKeysMissing => "ServiceFailure",
            Self::Unavailable(_) => "ServiceUnavailable",
        }
    }

    pub fn no_such_user(name: &str) -> Self {
        Self::NoSuchEntity(format!("The user with name {name} cannot be found."))
    }

    pub fn no_such_login_profile(name: &str) -> Self {
        Self::NoSuchEntity(format!("Login Profile for User {name} cannot be found."))
    }

    /// How long a client should wait before trying again, for the errors that say to: load
    /// shed and a transient fault of the store.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttling { retry_after } => Some(*retry_after),
            Self::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER),
            _ => None,
        }
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }

    /// The cause of a failure of the service itself (Internal or Unavailable), for the log.
    pub fn fault(&self) -> Option<&anyhow::Error> {
        match self {
            Self::Internal(cause) | Self::Unavailable(cause) => Some(cause),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_violation_reads_as_iam_writes_it() {
        let mut v = Violations::default();
        v.push(
            "userName",
            "Member must have length less than or equal to 64",
        );
        assert_eq!(
            v.to_string(),
            "1 validation error detected: Value at 'userName' failed to satisfy constraint: \
             Member must have length less than or equal to 64"
        );
    }

    #[test]
    fn several_violations_are_counted_and_joined_in_order() {
        let mut v = Violations::default();
        v.push(
            "minimumPasswordLength",
            "Member must have value less than or equal to 128",
        );
        v.push(
            "passwordReusePrevention",
            "Member must have value less than or equal to 24",
        );
        assert_eq!(
            v.to_string(),
            "2 validation errors detected: Value at 'minimumPasswordLength' failed to satisfy \
             constraint: Member must have value less than or equal to 128; Value at \
             'passwordReusePrevention' failed to satisfy constraint: Member must have value less \
             than or equal to 24"
        );
    }
}
