//! What the device operations share: the key file, finding users and devices, the
//! compare-and-swap loop, the audit line, and IAM's errors.

use std::sync::Arc;

use super::MAX_ATTEMPTS;
use crate::{
    domain::{IamError, SerialNumber, Service, UserName},
    mfa::{Keyring, Seed, SeedBinding},
    store::{DEVICES_PER_USER, DeviceRecord, ReplaceDevice, UserRecord},
};

impl Service {
    /// The keys of `--mfa-key-file`, or the ServiceFailure that says the flag is missing.
    pub(super) fn mfa_keys(&self) -> Result<Arc<Keyring>, IamError> {
        self.settings
            .mfa
            .keys
            .current()
            .ok_or(IamError::MfaKeysMissing)
    }

    pub(super) async fn existing_user(&self, user: &UserName) -> Result<UserRecord, IamError> {
        self.store
            .user(&user.key())
            .await?
            .ok_or_else(|| IamError::no_such_user(user.as_str()))
    }

    pub(super) fn device_key(&self, serial: &SerialNumber) -> Result<String, IamError> {
        serial
            .device_key(&self.settings.account_id)
            .ok_or_else(|| no_such_device(serial))
    }

    /// The device a serial number names: its key and its whole ARN must match.
    pub(super) async fn existing_device(
        &self,
        key: &str,
        serial: &SerialNumber,
    ) -> Result<DeviceRecord, IamError> {
        match self.store.device(key).await? {
            Some(device) if device.serial_number.eq_ignore_ascii_case(serial.as_str()) => {
                Ok(device)
            }
            _ => Err(no_such_device(serial)),
        }
    }

    /// The device, if it is enabled for `user`.
    pub(super) async fn enabled_device(
        &self,
        key: &str,
        serial: &SerialNumber,
        user: &UserName,
    ) -> Result<DeviceRecord, IamError> {
        let device = self.existing_device(key, serial).await?;
        if device.user_key.as_deref() != Some(user.key().as_str()) {
            return Err(no_device_of_user(serial, user));
        }
        Ok(device)
    }

    /// Swaps in the record `attempt` makes of the device it reads (with the version it read),
    /// reading again when a racing write got there first; the store's answer otherwise.
    pub(super) async fn swap_device<F>(
        &self,
        key: &str,
        serial: &SerialNumber,
        attempt: impl Fn() -> F,
    ) -> Result<ReplaceDevice, IamError>
    where
        F: Future<Output = Result<(u64, DeviceRecord), IamError>>,
    {
        for _ in 0..MAX_ATTEMPTS {
            let (expected, new) = attempt().await?;
            match self.store.replace_device(key, expected, new).await? {
                ReplaceDevice::Stale => continue,
                outcome => return Ok(outcome),
            }
        }
        Err(too_busy(serial))
    }
}

/// The associated data a device's seed is sealed with.
pub(super) fn binding<'a>(device_key: &'a str, user_id: Option<&'a str>) -> SeedBinding<'a> {
    SeedBinding {
        device_key,
        user_id,
    }
}

/// Opens a device's seed; a seed that does not open is the service's failure (logged with its
/// cause: which key, or that the record was altered), never the caller's.
pub(super) fn open_seed(
    keys: &Keyring,
    key: &str,
    device: &DeviceRecord,
    user: Option<&UserRecord>,
) -> Result<Seed, IamError> {
    let sealed = device
        .seed
        .as_ref()
        .ok_or_else(|| IamError::internal(anyhow::anyhow!("device {key} has no seed")))?;
    keys.open(sealed, &binding(key, user.map(|u| u.user_id.as_str())))
        .map_err(|error| {
            IamError::internal(anyhow::Error::new(error).context(format!(
                "opening the seed of MFA device {}",
                device.serial_number
            )))
        })
}

pub(super) fn no_such_device(serial: &SerialNumber) -> IamError {
    IamError::NoSuchEntity(format!(
        "VirtualMFADevice with serial number {} doesn't exist.",
        serial.as_str()
    ))
}

pub(super) fn no_device_of_user(serial: &SerialNumber, user: &UserName) -> IamError {
    IamError::NoSuchEntity(format!(
        "MFA Device with serial number {} not found for user {user}.",
        serial.as_str()
    ))
}

pub(super) fn device_limit() -> IamError {
    IamError::LimitExceeded(format!(
        "Cannot exceed quota for MFADevicesPerUser: {DEVICES_PER_USER}"
    ))
}

pub(super) fn too_busy(serial: &SerialNumber) -> IamError {
    IamError::internal(anyhow::anyhow!(
        "MFA device {} kept changing under {MAX_ATTEMPTS} attempts",
        serial.as_str()
    ))
}
