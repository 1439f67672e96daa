//! The second factor of VerifyPassword: a code from one of the user's enabled devices,
//! accepted once per device (the step it was made for is stored with a compare-and-swap, so of
//! two replicas given the same code at once exactly one accepts it).

use super::{MAX_ATTEMPTS, open_seed};
use crate::{
    domain::{IamError, Service},
    mfa::{self, Code},
    store::{DeviceRecord, ReplaceDevice, UserRecord},
};

/// What the user's devices say of a sign-in whose password is right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecondFactor {
    /// The user has no enabled device: the password is enough (a code given is ignored).
    NotEnrolled,
    /// The user has a device and no code was given.
    Required,
    /// A device made the code, for a step after the last one it was used for.
    Accepted,
    /// No device of the user made the code within the window, or it was used already.
    Rejected,
}

impl Service {
    /// Checks `code` against the devices enabled for `user` (stored under `key`): the step of
    /// now, shifted by the device's drift, and one on either side; a step at or before the
    /// device's last accepted step is refused (replay).
    pub(in crate::domain) async fn second_factor(
        &self,
        key: &str,
        user: &UserRecord,
        code: Option<&Code>,
    ) -> Result<SecondFactor, IamError> {
        let devices = self.store.user_devices(key).await?;
        if devices.is_empty() {
            return Ok(SecondFactor::NotEnrolled);
        }
        let Some(code) = code else {
            return Ok(SecondFactor::Required);
        };
        let keys = self.mfa_keys()?;
        for device in devices {
            let device_key = device.name.to_ascii_lowercase();
            let mut current = device;
            for _ in 0..MAX_ATTEMPTS {
                let seed = open_seed(&keys, &device_key, &current, Some(user))?;
                let center = mfa::step_at(self.clock.now_ms()) + current.drift_steps;
                let earliest = (center - 1).max(current.last_step.map_or(i64::MIN, |s| s + 1));
                let Some(step) = mfa::matching_step(&seed, code, earliest..=center + 1) else {
                    break;
                };
                let used = DeviceRecord {
                    last_step: Some(step),
                    version: current.version + 1,
                    ..current.clone()
                };
                match self
                    .store
                    .replace_device(&device_key, current.version, used)
                    .await?
                {
                    ReplaceDevice::Replaced => return Ok(SecondFactor::Accepted),
                    // Another sign-in used the device meanwhile: look again (a replay now fails).
                    ReplaceDevice::Stale => match self.store.device(&device_key).await? {
                        Some(again) if again.user_key.as_deref() == Some(key) => current = again,
                        _ => break,
                    },
                    _ => break,
                }
            }
        }
        Ok(SecondFactor::Rejected)
    }
}
