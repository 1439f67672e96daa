//! IAM virtual MFA devices: created with a fresh TOTP seed (shown once), enabled for a user
//! with two consecutive codes, resynchronised, deactivated and deleted, as IAM's API does them.
//!
//! Seeds are sealed under the key file's first key, bound to their device and, once enabled,
//! to their user's id (see [`crate::mfa`]). Every change of a device is a compare-and-swap of
//! its record, retried when a racing write got there first; the step a code was accepted for
//! is part of the record, so a code is accepted once per device, on every replica.

mod listing;
mod lookup;
mod requests;
mod rotation;
mod second_factor;

use std::{
    sync::{Arc, RwLock},
    time::SystemTime,
};

use secrecy::SecretString;

pub(super) use requests::parse_mfa_code;
pub use requests::{
    CreateVirtualMfaDevice, DeactivateMfaDevice, DeviceCodes, ListMfaDevices,
    ListVirtualMfaDevices, SerialNumber, parse_serial_number,
};
pub use rotation::{devices_without_key, reseal_mfa_seeds};
pub(super) use second_factor::SecondFactor;

use super::{IamError, Service, Tag, User, tags};
use crate::{
    meter,
    mfa::{self, Keyring, Seed},
    operation::Operation,
    store::{DEVICES_PER_USER, DeleteDevice, DeviceRecord, InsertDevice, ReplaceDevice},
};
use lookup::{binding, device_limit, no_device_of_user, no_such_device, open_seed};

/// How often a change retries after losing a compare-and-swap race before giving up.
const MAX_ATTEMPTS: usize = 64;
/// Resync looks this many steps (10 minutes) either side of now for the two codes.
const RESYNC_STEPS: i64 = 20;

/// What the domain needs to seal and show seeds.
#[derive(Debug, Clone)]
pub struct MfaSettings {
    /// The keys of `--mfa-key-file`; without them no seed can be made or read.
    pub keys: KeyringSlot,
    /// The issuer the otpauth URI names (`--mfa-issuer`).
    pub issuer: String,
}

/// The keys in force, swapped whole when the key file changes (see
/// [`Service::replace_mfa_keys`]); clones share the slot.
#[derive(Debug, Clone, Default)]
pub struct KeyringSlot(Arc<RwLock<Option<Arc<Keyring>>>>);

impl KeyringSlot {
    pub fn new(keys: Option<Arc<Keyring>>) -> Self {
        Self(Arc::new(RwLock::new(keys)))
    }

    /// The keys in force now.
    pub fn current(&self) -> Option<Arc<Keyring>> {
        // A poisoned lock still holds a whole keyring: swaps replace the Arc in one step.
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn replace(&self, keys: Arc<Keyring>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(keys);
    }
}

/// A virtual MFA device as the API shows it.
#[derive(Debug, Clone)]
pub struct VirtualMfaDevice {
    pub serial_number: String,
    /// Only in CreateVirtualMFADevice's answer.
    pub enrolment: Option<Enrolment>,
    /// The user the device is enabled for.
    pub user: Option<User>,
    pub enable_date: Option<SystemTime>,
    pub tags: Vec<Tag>,
}

/// What an authenticator app needs: the seed, as text and as a QR code of its otpauth URI.
#[derive(Clone)]
pub struct Enrolment {
    pub base32_seed: SecretString,
    pub qr_code_png: Vec<u8>,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(<redacted>)")
    }
}

/// A device enabled for a user, as ListMFADevices shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MfaDevice {
    pub user_name: String,
    pub serial_number: String,
    pub enable_date: SystemTime,
}

/// One page of a device listing.
#[derive(Debug, Clone)]
pub struct DeviceList<T> {
    pub devices: Vec<T>,
    /// Present when more devices follow; pass it back to get them.
    pub marker: Option<String>,
}

impl Service {
    pub async fn create_virtual_mfa_device(
        &self,
        request: CreateVirtualMfaDevice,
    ) -> Result<VirtualMfaDevice, IamError> {
        let serial = format!(
            "arn:aws:iam::{}:mfa{}{}",
            self.settings.account_id,
            request.path.as_str(),
            request.name.as_str()
        );
        self.audited_on(
            Operation::CreateVirtualMFADevice,
            None,
            Some(&serial),
            async {
                let keys = self.mfa_keys()?;
                if serial.len() > 256 {
                    return Err(IamError::InvalidInput(
                    "The serial number of the device (its ARN) would be longer than 256 characters."
                        .to_owned(),
                ));
                }
                let key = request.name.key();
                let seed = Seed::generate();
                let uri = mfa::otpauth_uri(
                    &self.settings.mfa.issuer,
                    request.name.as_str(),
                    &self.settings.account_id,
                    &seed,
                );
                // Drawing and compressing the image takes a millisecond or more: off the runtime.
                let qr_code_png = tokio::task::spawn_blocking(move || mfa::qr_png(&uri))
                    .await
                    .map_err(IamError::internal)?
                    .map_err(IamError::Internal)?;
                let record = DeviceRecord {
                    name: request.name.as_str().to_owned(),
                    path: request.path.as_str().to_owned(),
                    serial_number: serial.clone(),
                    create_date_ms: self.clock.now_ms(),
                    seed: Some(keys.seal(&seed, &binding(&key, None))),
                    tags: tags::sorted_records(request.tags.clone()),
                    user_key: None,
                    enable_date_ms: None,
                    last_step: None,
                    drift_steps: 0,
                    version: 0,
                };
                match self.store.insert_device(&key, record).await? {
                    InsertDevice::Inserted => {}
                    InsertDevice::AlreadyExists => {
                        return Err(IamError::EntityAlreadyExists(
                            "MFADevice entity at the same path and name already exists.".to_owned(),
                        ));
                    }
                }
                meter::mfa_device("created");
                Ok(VirtualMfaDevice {
                    serial_number: serial.clone(),
                    enrolment: Some(Enrolment {
                        base32_seed: seed.base32(),
                        qr_code_png,
                    }),
                    user: None,
                    enable_date: None,
                    // As given, like CreateUser's answer.
                    tags: request.tags,
                })
            },
        )
        .await
    }

    /// Order: input shape, then user and device exist, then the device's state (already
    /// enabled: EntityAlreadyExists; a ninth device: LimitExceeded), then the codes: the
    /// second must be the step after the first, both within the window.
    pub async fn enable_mfa_device(&self, request: DeviceCodes) -> Result<(), IamError> {
        let DeviceCodes {
            user,
            serial,
            first,
            second,
        } = &request;
        self.audited_on(
            Operation::EnableMFADevice,
            Some(user),
            Some(serial.as_str()),
            async {
                let keys = &self.mfa_keys()?;
                let user_record = &self.existing_user(user).await?;
                let key = &self.device_key(serial)?;
                let outcome = self
                    .swap_device(key, serial, move || async move {
                        let device = self.existing_device(key, serial).await?;
                        if device.user_key.is_some() {
                            return Err(IamError::EntityAlreadyExists(format!(
                                "MFA Device with serial number {} is already in use.",
                                device.serial_number
                            )));
                        }
                        if self.store.user_devices(&user.key()).await?.len() >= DEVICES_PER_USER {
                            return Err(device_limit());
                        }
                        let seed = open_seed(keys, key, &device, None)?;
                        let now = mfa::step_at(self.clock.now_ms());
                        let earliest = (now - 1).max(after_last_use(&device));
                        let Some(step) =
                            mfa::consecutive_steps(&seed, first, second, earliest..=now)
                        else {
                            return Err(IamError::InvalidAuthenticationCode);
                        };
                        let user_id = Some(user_record.user_id.as_str());
                        let enabled = DeviceRecord {
                            seed: Some(keys.seal(&seed, &binding(key, user_id))),
                            user_key: Some(user.key()),
                            enable_date_ms: Some(self.clock.now_ms()),
                            last_step: Some(step + 1),
                            drift_steps: 0,
                            version: device.version + 1,
                            ..device.clone()
                        };
                        Ok((device.version, enabled))
                    })
                    .await?;
                match outcome {
                    ReplaceDevice::Replaced => {
                        meter::mfa_device("enabled");
                        Ok(())
                    }
                    ReplaceDevice::NoUser => Err(IamError::no_such_user(user.as_str())),
                    ReplaceDevice::LimitExceeded => Err(device_limit()),
                    ReplaceDevice::NoDevice | ReplaceDevice::Stale => Err(no_such_device(serial)),
                }
            },
        )
        .await
    }

    /// Finds two consecutive codes within 10 minutes either side of now, after the last step
    /// the device was used for, and stores the device's clock drift, which sign-in applies.
    pub async fn resync_mfa_device(&self, request: DeviceCodes) -> Result<(), IamError> {
        let DeviceCodes {
            user,
            serial,
            first,
            second,
        } = &request;
        self.audited_on(
            Operation::ResyncMFADevice,
            Some(user),
            Some(serial.as_str()),
            async {
                let keys = &self.mfa_keys()?;
                let user_record = &self.existing_user(user).await?;
                let key = &self.device_key(serial)?;
                let outcome = self
                    .swap_device(key, serial, move || async move {
                        let device = self.enabled_device(key, serial, user).await?;
                        let seed = open_seed(keys, key, &device, Some(user_record))?;
                        let now = mfa::step_at(self.clock.now_ms());
                        let earliest = (now - RESYNC_STEPS).max(after_last_use(&device));
                        let latest = now + RESYNC_STEPS - 1;
                        let Some(step) =
                            mfa::consecutive_steps(&seed, first, second, earliest..=latest)
                        else {
                            return Err(IamError::InvalidAuthenticationCode);
                        };
                        let resynced = DeviceRecord {
                            last_step: Some(step + 1),
                            drift_steps: step + 1 - now,
                            version: device.version + 1,
                            ..device.clone()
                        };
                        Ok((device.version, resynced))
                    })
                    .await?;
                match outcome {
                    ReplaceDevice::Replaced => {
                        meter::mfa_device("resynced");
                        Ok(())
                    }
                    _ => Err(no_device_of_user(serial, user)),
                }
            },
        )
        .await
    }

    /// Unassigns the device; its seed is sealed again without the user, so the device can be
    /// enabled again (for anyone) with codes of the same authenticator.
    pub async fn deactivate_mfa_device(
        &self,
        request: DeactivateMfaDevice,
    ) -> Result<(), IamError> {
        let DeactivateMfaDevice { user, serial } = &request;
        self.audited_on(
            Operation::DeactivateMFADevice,
            Some(user),
            Some(serial.as_str()),
            async {
                let keys = &self.mfa_keys()?;
                let user_record = &self.existing_user(user).await?;
                let key = &self.device_key(serial)?;
                let outcome = self
                    .swap_device(key, serial, move || async move {
                        let device = self.enabled_device(key, serial, user).await?;
                        let seed = open_seed(keys, key, &device, Some(user_record))?;
                        let deactivated = DeviceRecord {
                            seed: Some(keys.seal(&seed, &binding(key, None))),
                            user_key: None,
                            enable_date_ms: None,
                            drift_steps: 0,
                            version: device.version + 1,
                            ..device.clone()
                        };
                        Ok((device.version, deactivated))
                    })
                    .await?;
                match outcome {
                    ReplaceDevice::Replaced => {
                        meter::mfa_device("deactivated");
                        Ok(())
                    }
                    _ => Err(no_device_of_user(serial, user)),
                }
            },
        )
        .await
    }

    pub async fn delete_virtual_mfa_device(&self, serial: SerialNumber) -> Result<(), IamError> {
        self.audited_on(
            Operation::DeleteVirtualMFADevice,
            None,
            Some(serial.as_str()),
            async {
                let key = self.device_key(&serial)?;
                self.existing_device(&key, &serial).await?;
                match self.store.delete_device(&key).await? {
                    DeleteDevice::Deleted => {
                        meter::mfa_device("deleted");
                        Ok(())
                    }
                    DeleteDevice::NoDevice => Err(no_such_device(&serial)),
                    DeleteDevice::Assigned => Err(IamError::DeleteConflict(
                        "Cannot delete entity, must deactivate MFA device first.".to_owned(),
                    )),
                }
            },
        )
        .await
    }
}

/// The first step a device may accept a code for: the one after the last it accepted.
fn after_last_use(device: &DeviceRecord) -> i64 {
    device.last_step.map_or(i64::MIN, |step| step + 1)
}
