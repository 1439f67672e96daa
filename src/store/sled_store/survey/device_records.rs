//! The MFA devices in a full read: every device decodes under its lower-cased name, an
//! assigned one names a user that exists and is in that user's index, and every index entry
//! names devices assigned to its user. Devices are few per user, so the users tree and the
//! index are looked up per device rather than read side by side.

use prost::Message as _;

use super::{Reader, Survey};
use crate::store::{DEVICES_PER_USER, DeviceRecord, sled_store::devices};

impl Survey {
    /// Reads the devices tree and the index of users' devices; `open` opens a tree by name.
    pub(super) fn read_devices(
        &mut self,
        open: &impl Fn(&str) -> Result<sled::Tree, (String, sled::Error)>,
    ) {
        let trees = open("users")
            .and_then(|users| Ok((users, open(devices::TREE)?, open(devices::INDEX_TREE)?)));
        let (users, devices, index) = match trees {
            Ok(trees) => trees,
            Err((name, e)) => {
                self.problems
                    .push(format!("the {name} tree cannot be opened: {e}"));
                return;
            }
        };
        let mut reader = Reader::new(devices::TREE, &devices);
        while let Some((key, value)) = reader.next(self) {
            self.device(&key, &value, &users, &index);
        }
        let mut reader = Reader::new(devices::INDEX_TREE, &index);
        while let Some((user_key, value)) = reader.next(self) {
            self.index_entry(&user_key, &value, &devices);
        }
    }

    fn device(&mut self, key: &[u8], value: &[u8], users: &sled::Tree, index: &sled::Tree) {
        self.devices += 1;
        let shown = String::from_utf8_lossy(key);
        let device = match DeviceRecord::decode(value) {
            Ok(device) => device,
            Err(_) => {
                self.problems
                    .push(format!("the MFA device {shown:?} does not decode"));
                return;
            }
        };
        if device.name.to_ascii_lowercase().as_bytes() != key {
            self.problems.push(format!(
                "the MFA device {shown:?} holds the name {:?}, whose key would differ",
                device.name
            ));
        }
        let Some(user_key) = &device.user_key else {
            return;
        };
        match users.get(user_key) {
            Ok(Some(_)) => {}
            Ok(None) => self.problems.push(format!(
                "the MFA device {shown:?} is enabled for {user_key:?}, which is no user"
            )),
            Err(e) => self.problems.push(format!(
                "the user of the MFA device {shown:?} cannot be read: {e}"
            )),
        }
        let listed = index
            .get(user_key)
            .ok()
            .flatten()
            .and_then(|keys| devices::DeviceKeys::decode(&*keys).ok())
            .is_some_and(|listed| listed.keys.iter().any(|k| k.as_bytes() == key));
        if !listed {
            self.problems.push(format!(
                "the MFA device {shown:?} is enabled for {user_key:?}, but not in the index of \
                 that user's devices"
            ));
        }
    }

    fn index_entry(&mut self, user_key: &[u8], value: &[u8], devices: &sled::Tree) {
        let user = String::from_utf8_lossy(user_key);
        let Ok(listed) = devices::DeviceKeys::decode(value) else {
            self.problems.push(format!(
                "the index of the MFA devices of {user:?} does not decode"
            ));
            return;
        };
        if listed.keys.is_empty() || listed.keys.len() > DEVICES_PER_USER {
            self.problems.push(format!(
                "the index of the MFA devices of {user:?} lists {} devices (1 to \
                 {DEVICES_PER_USER} expected)",
                listed.keys.len()
            ));
        }
        for key in &listed.keys {
            let assigned = devices
                .get(key)
                .ok()
                .flatten()
                .and_then(|bytes| DeviceRecord::decode(&*bytes).ok())
                .map(|device| device.user_key.is_some_and(|u| u.as_bytes() == user_key));
            match assigned {
                Some(true) => {}
                Some(false) => self.problems.push(format!(
                    "the index of the MFA devices of {user:?} lists {key:?}, which is not \
                     enabled for that user"
                )),
                None => self.problems.push(format!(
                    "the index of the MFA devices of {user:?} lists {key:?}, which is no \
                     readable device"
                )),
            }
        }
    }
}
