//! Virtual MFA devices on sled: the records under their keys in one tree, and an index of each
//! user's devices in another, written in the same transactions.
//!
//! The index holds one record per user that has devices: the sorted keys of its devices. A
//! list rather than one entry per device, because sled's transactions cannot scan a range:
//! counting a user's devices against the limit, refusing to delete a user that has some and
//! moving them with a rename all read it with one `get` inside the transaction.

use std::ops::Bound;

use anyhow::Context as _;
use prost::Message;

use super::{SledStore, TxResult, decode, decode_plain, ledger::Change};
use crate::store::{
    Assignment, DEVICES_PER_USER, DeleteDevice, DevicePage, DeviceRecord, InsertDevice,
    ReplaceDevice, StoreResult,
};
use sled::transaction::TransactionalTree;

pub(super) const TREE: &str = "devices";
pub(super) const INDEX_TREE: &str = "user_devices";

/// The keys of one user's devices, in byte order.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct DeviceKeys {
    #[prost(string, repeated, tag = "1")]
    pub(super) keys: Vec<String>,
}

/// The device keys of `user_key` as the transaction sees them (none: empty).
pub(super) fn listed(index: &TransactionalTree, user_key: &str) -> TxResult<DeviceKeys> {
    match index.get(user_key)? {
        Some(bytes) => decode(&bytes),
        None => Ok(DeviceKeys::default()),
    }
}

/// Stores `listed` as the device keys of `user_key`, removing the entry when it is empty.
fn store_listed(index: &TransactionalTree, user_key: &str, listed: &DeviceKeys) -> TxResult<()> {
    if listed.keys.is_empty() {
        index.remove(user_key)?;
    } else {
        index.insert(user_key, listed.encode_to_vec())?;
    }
    Ok(())
}

impl SledStore {
    pub(super) fn insert_device_now(
        &self,
        key: &str,
        device: &DeviceRecord,
    ) -> StoreResult<InsertDevice> {
        anyhow::ensure!(
            device.user_key.is_none(),
            "a new MFA device must be unassigned (replace_device assigns it)"
        );
        let bytes = device.encode_to_vec();
        self.write_acknowledged(|t| {
            if t.devices.get(key)?.is_some() {
                return Ok((InsertDevice::AlreadyExists, None));
            }
            t.devices.insert(key, bytes.as_slice())?;
            Ok((InsertDevice::Inserted, Some(Change::DeviceAdded)))
        })
    }

    /// See `Store::user_devices`. Plain reads, like `Store::profile`: each device returned was
    /// enabled for the user when it was read.
    pub(super) fn user_devices_now(&self, user_key: &str) -> StoreResult<Vec<DeviceRecord>> {
        let Some(bytes) = self.device_index.get(user_key)? else {
            return Ok(Vec::new());
        };
        let listed: DeviceKeys = decode_plain(&bytes)?;
        let mut found = Vec::with_capacity(listed.keys.len());
        for key in &listed.keys {
            let Some(bytes) = self.devices.get(key)? else {
                continue;
            };
            let device: DeviceRecord = decode_plain(&bytes)?;
            if device.user_key.as_deref() == Some(user_key) {
                found.push(device);
            }
        }
        Ok(found)
    }

    /// See `Store::list_devices`. A scan: it may read many records.
    pub(super) fn list_devices_now(
        &self,
        assignment: Assignment,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<DevicePage> {
        let range = match after {
            Some(after) => self
                .devices
                .range::<&[u8], _>((Bound::Excluded(after.as_bytes()), Bound::Unbounded)),
            None => self.devices.iter(),
        };
        let mut devices = Vec::new();
        let mut last_key = None;
        for entry in range {
            let (key, bytes) = entry?;
            let device: DeviceRecord = decode_plain(&bytes)?;
            let wanted = match assignment {
                Assignment::Assigned => device.user_key.is_some(),
                Assignment::Unassigned => device.user_key.is_none(),
                Assignment::Any => true,
            };
            if !wanted {
                continue;
            }
            if devices.len() == limit {
                return Ok(DevicePage {
                    devices,
                    next_after: last_key,
                });
            }
            last_key = Some(String::from_utf8(key.to_vec()).context("a device key is not UTF-8")?);
            devices.push(device);
        }
        Ok(DevicePage {
            devices,
            next_after: None,
        })
    }

    /// See `Store::replace_device`: the version check, the user's existence and device count,
    /// the record and the index, all in one transaction.
    pub(super) fn replace_device_now(
        &self,
        key: &str,
        expected_version: u64,
        device: &DeviceRecord,
    ) -> StoreResult<ReplaceDevice> {
        let bytes = device.encode_to_vec();
        self.write_acknowledged(|t| {
            let Some(stored) = t.devices.get(key)? else {
                return Ok((ReplaceDevice::NoDevice, None));
            };
            let stored: DeviceRecord = decode(&stored)?;
            if stored.version != expected_version {
                return Ok((ReplaceDevice::Stale, None));
            }
            if stored.user_key != device.user_key {
                if let Some(new_user) = &device.user_key {
                    if t.users.get(new_user.as_str())?.is_none() {
                        return Ok((ReplaceDevice::NoUser, None));
                    }
                    let mut keys = listed(t.device_index, new_user)?;
                    if keys.keys.len() >= DEVICES_PER_USER {
                        return Ok((ReplaceDevice::LimitExceeded, None));
                    }
                    if let Err(at) = keys.keys.binary_search_by(|k| k.as_str().cmp(key)) {
                        keys.keys.insert(at, key.to_owned());
                    }
                    store_listed(t.device_index, new_user, &keys)?;
                }
                if let Some(old_user) = &stored.user_key {
                    let mut keys = listed(t.device_index, old_user)?;
                    keys.keys.retain(|k| k != key);
                    store_listed(t.device_index, old_user, &keys)?;
                }
            }
            t.devices.insert(key, bytes.as_slice())?;
            Ok((ReplaceDevice::Replaced, Some(Change::DeviceReplaced)))
        })
    }

    pub(super) fn delete_device_now(&self, key: &str) -> StoreResult<DeleteDevice> {
        self.write_acknowledged(|t| {
            let Some(stored) = t.devices.get(key)? else {
                return Ok((DeleteDevice::NoDevice, None));
            };
            if decode::<DeviceRecord>(&stored)?.user_key.is_some() {
                return Ok((DeleteDevice::Assigned, None));
            }
            t.devices.remove(key)?;
            Ok((DeleteDevice::Deleted, Some(Change::DeviceRemoved)))
        })
    }
}

/// Inside a rename's transaction: the devices of `key` become devices of `new_key`, which has
/// none (it has no user). Each moved device's version is bumped, so that a replacement read
/// before the rename (which would put the old key back) is stale.
pub(super) fn move_devices(
    devices: &TransactionalTree,
    index: &TransactionalTree,
    key: &str,
    new_key: &str,
) -> TxResult<()> {
    let Some(listed) = index.remove(key)? else {
        return Ok(());
    };
    for device_key in &decode::<DeviceKeys>(&listed)?.keys {
        let Some(bytes) = devices.get(device_key.as_str())? else {
            continue;
        };
        let mut device: DeviceRecord = decode(&bytes)?;
        device.user_key = Some(new_key.to_owned());
        device.version += 1;
        devices.insert(device_key.as_str(), device.encode_to_vec())?;
    }
    index.insert(new_key, listed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::UserRecord;

    fn reopen(dir: &std::path::Path) -> anyhow::Result<SledStore> {
        loop {
            match SledStore::open(dir, 1 << 20) {
                Err(e) if format!("{e:#}").contains("another process holds it") => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    #[test]
    fn a_store_that_lost_a_device_is_refused_and_check_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), 1 << 20).unwrap();
        let ann = UserRecord {
            user_name: "Ann".into(),
            ..UserRecord::default()
        };
        store.insert_user_now("ann", &ann).unwrap();
        for name in ["Tok", "Spare"] {
            let device = DeviceRecord {
                name: name.into(),
                version: 1,
                ..DeviceRecord::default()
            };
            let key = name.to_ascii_lowercase();
            assert_eq!(
                store.insert_device_now(&key, &device).unwrap(),
                InsertDevice::Inserted
            );
        }
        let tok = store.devices.get("tok").unwrap().unwrap();
        let enabled = DeviceRecord {
            user_key: Some("ann".into()),
            version: 2,
            ..decode_plain(&tok).unwrap()
        };
        let replaced = store.replace_device_now("tok", 1, &enabled).unwrap();
        assert_eq!(replaced, ReplaceDevice::Replaced);
        drop(store);

        let report = SledStore::check_dir(dir.path(), None).unwrap();
        assert!(report.healthy(), "{report}");
        assert!(
            report.to_string().contains("MFA devices:      2"),
            "{report}"
        );

        // Records lost behind the store's back: the spare, and Ann's index entry.
        let store = reopen(dir.path()).unwrap();
        store.devices.remove("spare").unwrap();
        store.device_index.remove("ann").unwrap();
        store.durable().unwrap();
        drop(store);

        let refused = format!("{:#}", reopen(dir.path()).unwrap_err());
        for expected in [
            "the store holds 1 MFA devices, but its ledger recorded 2",
            "the MFA device \"tok\" is enabled for \"ann\", but not in the index",
        ] {
            assert!(refused.contains(expected), "{expected:?} in {refused}");
        }
        let report = SledStore::check_dir(dir.path(), None).unwrap().to_string();
        assert!(report.contains("MFA devices:      1"), "{report}");
        assert!(report.contains("PROBLEMS"), "{report}");
    }
}
