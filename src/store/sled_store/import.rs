//! `Store::import` on sled. One transaction holding every record costs memory in proportion
//! (100,000 users with profiles: 1.06 GB peak for the whole import in one transaction, 0.39 GB
//! in batches; debug build), so the records go in batches between two acknowledged writes: the first claims the empty store
//! (the ledger's `importing`), the last writes the policy and counts the records. A store that
//! stops between them still has `importing` set and is refused at open; acknowledged writes
//! meanwhile are refused (see [`ledger::record`]).
//!
//! The ledger lives in sled's log, which a damaged store may lose the end of, and which `check
//! --accept-loss` rebuilds. So the import is also marked outside sled, by a file
//! ([`MARKER`]) made durable after the claim and before the first record is written, and
//! removed only once the last one is durable: while it exists, `serve` and `check
//! --accept-loss` refuse the store.

use std::{collections::BTreeMap, fs::File, io, path::Path};

use anyhow::Context as _;
use prost::Message;

use super::{
    POLICY_KEY, SledStore,
    devices::DeviceKeys,
    ledger::{self, Change},
};
use crate::store::{DeviceRecord, Import, Snapshot, SnapshotUser, StoreResult};

/// Users (with their profiles) written per batch.
const BATCH: usize = 10_000;
/// The file in the data directory that says an import into it has not finished.
pub(super) const MARKER: &str = "IMPORTING";

/// Whether the data directory `dir` holds an import's marker.
pub(super) fn marked(dir: &Path) -> bool {
    dir.join(MARKER).exists()
}

/// Makes (`present`) or removes the marker in `dir`, durably: the directory is synced.
fn set_marker(dir: &Path, present: bool) -> io::Result<()> {
    let path = dir.join(MARKER);
    if present {
        File::create(&path)?.sync_all()?;
    } else {
        std::fs::remove_file(&path)?;
    }
    File::open(dir)?.sync_all()
}

impl SledStore {
    /// Blocks.
    pub(super) fn import_now(&self, snapshot: &Snapshot) -> StoreResult<Import> {
        if !self.claim_for_import()? {
            return Ok(Import::NotEmpty);
        }
        // After the claim (a store that was not empty is never marked), before any record.
        set_marker(&self.dir, true).context("marking the store as being imported into")?;
        for users in snapshot.users.chunks(BATCH) {
            self.write_batch(users)?;
        }
        for devices in snapshot.devices.chunks(BATCH) {
            self.write_device_batch(devices)?;
        }
        self.write_device_index(&snapshot.devices)?;
        let policy = snapshot.policy.as_ref().map(Message::encode_to_vec);
        let change = Change::Imported {
            users: u64::try_from(snapshot.users.len())?,
            profiles: u64::try_from(
                snapshot
                    .users
                    .iter()
                    .filter(|u| u.profile.is_some())
                    .count(),
            )?,
            devices: u64::try_from(snapshot.devices.len())?,
            policy: policy.is_some(),
        };
        self.write_acknowledged(|t| {
            if let Some(policy) = &policy {
                t.policy.insert(POLICY_KEY, policy.as_slice())?;
            }
            Ok(((), Some(change)))
        })?;
        // The last write was acknowledged, so it is durable: the import is whole.
        set_marker(&self.dir, false).context("removing the import marker")?;
        Ok(Import::Imported)
    }

    /// Marks the store as being imported into, durably, if it is empty: no user, profile, MFA
    /// device or policy, and no other import. The ledger counts all of them (checked against the records
    /// at open) and every acknowledged write updates it, so a racing write conflicts with this.
    fn claim_for_import(&self) -> StoreResult<bool> {
        self.write_acknowledged(|t| {
            let counts = ledger::read_in(t.ledger)?;
            if counts.users > 0
                || counts.profiles > 0
                || counts.devices > 0
                || counts.policy
                || counts.importing
            {
                return Ok((false, None));
            }
            Ok((true, Some(Change::ImportStarted)))
        })
    }

    fn write_batch(&self, users: &[SnapshotUser]) -> StoreResult<()> {
        let mut user_batch = sled::Batch::default();
        let mut profile_batch = sled::Batch::default();
        for SnapshotUser { key, user, profile } in users {
            user_batch.insert(key.as_bytes(), user.encode_to_vec());
            if let Some(profile) = profile {
                profile_batch.insert(key.as_bytes(), profile.encode_to_vec());
            }
        }
        self.watch(self.users.apply_batch(user_batch))?;
        self.watch(self.profiles.apply_batch(profile_batch))
    }

    /// The devices are stored under the keys of their names (the caller checked those).
    fn write_device_batch(&self, devices: &[DeviceRecord]) -> StoreResult<()> {
        let mut batch = sled::Batch::default();
        for device in devices {
            batch.insert(
                device.name.to_ascii_lowercase().as_bytes(),
                device.encode_to_vec(),
            );
        }
        self.watch(self.devices.apply_batch(batch))
    }

    /// The index of the users' devices, for every assigned device of `devices`.
    fn write_device_index(&self, devices: &[DeviceRecord]) -> StoreResult<()> {
        let mut by_user: BTreeMap<&str, DeviceKeys> = BTreeMap::new();
        for device in devices {
            if let Some(user_key) = &device.user_key {
                by_user
                    .entry(user_key)
                    .or_default()
                    .keys
                    .push(device.name.to_ascii_lowercase());
            }
        }
        let mut batch = sled::Batch::default();
        for (user_key, mut listed) in by_user {
            listed.keys.sort_unstable();
            batch.insert(user_key.as_bytes(), listed.encode_to_vec());
        }
        self.watch(self.device_index.apply_batch(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ProfileRecord, UserRecord};

    #[test]
    fn a_store_left_in_the_middle_of_an_import_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), 1 << 20).unwrap();
        assert!(store.claim_for_import().unwrap());
        assert!(!store.claim_for_import().unwrap(), "a second import got in");
        let user = SnapshotUser {
            key: "ann".into(),
            user: UserRecord {
                user_name: "Ann".into(),
                path: "/".into(),
                ..UserRecord::default()
            },
            profile: Some(ProfileRecord::default()),
        };
        store.write_batch(&[user]).unwrap();
        // An acknowledged write in the middle of the import is refused.
        let refused = store.put_policy_now(&Default::default()).unwrap_err();
        assert!(format!("{refused:#}").contains("an import"), "{refused:#}");
        store.durable().unwrap();
        drop(store);

        let refused = loop {
            match SledStore::open(dir.path(), 1 << 20) {
                Err(e) if format!("{e:#}").contains("another process holds it") => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break format!("{:#}", other.unwrap_err()),
            }
        };
        assert!(
            refused.contains("an import into this store did not finish"),
            "{refused}"
        );
    }
}
