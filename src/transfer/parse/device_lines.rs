//! Checking a device line: a well-formed name unique without regard to case, a path, tags, a
//! seed whose bytes decode, and an assigned device's user on an earlier line, with at most
//! [`DEVICES_PER_USER`] devices each. The seed is never opened: import needs no key.

use super::{Reader, check_tags, lines::Device};
use crate::{
    domain::{Echo, UserPath},
    store::DEVICES_PER_USER,
};

/// IAM's bound on a virtual MFA device's name.
const NAME_MAX_LEN: usize = 226;

impl Reader {
    pub(super) fn device(&mut self, device: Device) -> Result<(), String> {
        let name = device.name.clone();
        let problem = |what: &str| format!("MFA device {}: {what}", Echo(&name));
        let name_ok = (1..=NAME_MAX_LEN).contains(&device.name.chars().count())
            && device
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        if !name_ok {
            return Err(problem(&format!(
                "the name is not 1 to {NAME_MAX_LEN} of [A-Za-z0-9_+=,.@-]"
            )));
        }
        UserPath::parse("path", &device.path).map_err(|v| problem(&v.to_string()))?;
        check_tags(&device.tags).map_err(|p| problem(&p))?;
        let key = device.name.to_ascii_lowercase();
        if self.device_keys.contains(&key) {
            return Err(problem(
                "an earlier device has this name (names are unique without regard to case)",
            ));
        }
        if let Some(user_key) = &device.user_key {
            if !self.keys.contains_key(user_key) {
                return Err(problem(&format!(
                    "enabled for {}, which names no user on an earlier line",
                    Echo(user_key)
                )));
            }
            let enabled = self.enabled.entry(user_key.clone()).or_default();
            if *enabled == DEVICES_PER_USER {
                return Err(problem(&format!(
                    "the user {} has {DEVICES_PER_USER} devices on earlier lines",
                    Echo(user_key)
                )));
            }
            *enabled += 1;
        }
        let record = device.into_record().map_err(problem)?;
        self.device_keys.insert(key);
        self.snapshot.devices.push(record);
        Ok(())
    }
}
