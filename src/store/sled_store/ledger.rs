//! The ledger: one record in its own tree that counts acknowledged writes and what they left
//! (users, profiles, MFA devices, the policy). Every acknowledged write updates it in the same sled
//! transaction as the data, so sled recovers both or neither; its `seq` is what the store held
//! when it last stopped, to compare with the acknowledged-write mark.

use prost::Message;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use crate::store::records::LedgerRecord;

pub(super) const TREE: &str = "ledger";
pub(super) const KEY: &[u8] = b"acknowledged";

/// What an acknowledged write changed, for the ledger's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    UserAdded,
    UserRemoved,
    /// A user's record rewritten (tags) or moved to a new name with its profile: counts stay.
    UserReplaced,
    ProfileAdded,
    ProfileRemoved,
    ProfileReplaced,
    DeviceAdded,
    DeviceRemoved,
    /// A device's record rewritten (assigned, unassigned, a code accepted): counts stay.
    DeviceReplaced,
    PolicySet,
    PolicyRemoved,
    /// An import starts writing into the empty store.
    ImportStarted,
    /// The import's records are all written.
    Imported {
        users: u64,
        profiles: u64,
        devices: u64,
        policy: bool,
    },
}

impl LedgerRecord {
    /// A ledger for a new store holding the given counts, with a fresh store id.
    pub(super) fn new(users: u64, profiles: u64, devices: u64, policy: bool) -> Self {
        Self {
            store_id: rand::random::<[u8; 16]>().to_vec(),
            seq: 0,
            users,
            profiles,
            policy,
            importing: false,
            devices,
        }
    }

    /// Counts one more acknowledged write and what it changed.
    pub(super) fn apply(&mut self, change: Change) {
        self.seq += 1;
        match change {
            Change::UserAdded => self.users += 1,
            Change::UserRemoved => self.users = self.users.saturating_sub(1),
            Change::ProfileAdded => self.profiles += 1,
            Change::ProfileRemoved => self.profiles = self.profiles.saturating_sub(1),
            Change::DeviceAdded => self.devices += 1,
            Change::DeviceRemoved => self.devices = self.devices.saturating_sub(1),
            Change::UserReplaced | Change::ProfileReplaced | Change::DeviceReplaced => {}
            Change::PolicySet => self.policy = true,
            Change::PolicyRemoved => self.policy = false,
            Change::ImportStarted => self.importing = true,
            Change::Imported {
                users,
                profiles,
                devices,
                policy,
            } => {
                self.users += users;
                self.profiles += profiles;
                self.devices += devices;
                self.policy |= policy;
                self.importing = false;
            }
        }
    }
}

/// The ledger as a transaction sees it.
pub(super) fn read_in(
    ledger: &TransactionalTree,
) -> Result<LedgerRecord, ConflictableTransactionError<anyhow::Error>> {
    let Some(bytes) = ledger.get(KEY)? else {
        return Err(ConflictableTransactionError::Abort(anyhow::anyhow!(
            "the store has no ledger (it was not opened through SledStore::open)"
        )));
    };
    LedgerRecord::decode(&*bytes)
        .map_err(|e| ConflictableTransactionError::Abort(anyhow::Error::new(e)))
}

/// Records `change` in the ledger inside a transaction; returns the write's number. While an
/// import writes its records, every other acknowledged write is refused (aborting its
/// transaction): the import's records would overwrite it, and its count would be wrong.
pub(super) fn record(
    ledger: &TransactionalTree,
    change: Change,
) -> Result<u64, ConflictableTransactionError<anyhow::Error>> {
    let mut record = read_in(ledger)?;
    if record.importing && !matches!(change, Change::Imported { .. }) {
        return Err(ConflictableTransactionError::Abort(anyhow::anyhow!(
            "an import is writing into this store; try again when it is done"
        )));
    }
    record.apply(change);
    ledger.insert(KEY, record.encode_to_vec())?;
    Ok(record.seq)
}

/// The ledger as stored, if there is one.
pub(super) fn read(tree: &sled::Tree) -> anyhow::Result<Option<LedgerRecord>> {
    match tree.get(KEY)? {
        Some(bytes) => Ok(Some(LedgerRecord::decode(&*bytes)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_counts_one_write_and_moves_its_count() {
        let mut ledger = LedgerRecord::new(0, 0, 0, false);
        for change in [
            Change::UserAdded,
            Change::UserAdded,
            Change::ProfileAdded,
            Change::ProfileReplaced,
            Change::PolicySet,
            Change::ProfileRemoved,
            Change::UserRemoved,
            Change::DeviceAdded,
            Change::DeviceAdded,
            Change::DeviceReplaced,
            Change::DeviceRemoved,
        ] {
            ledger.apply(change);
        }
        assert_eq!(
            (
                ledger.seq,
                ledger.users,
                ledger.profiles,
                ledger.devices,
                ledger.policy
            ),
            (11, 1, 0, 1, true)
        );
        ledger.apply(Change::PolicyRemoved);
        assert!(!ledger.policy);
        ledger.apply(Change::ImportStarted);
        assert!(ledger.importing);
        ledger.apply(Change::Imported {
            users: 5,
            profiles: 3,
            devices: 4,
            policy: true,
        });
        assert_eq!(
            (
                ledger.seq,
                ledger.users,
                ledger.profiles,
                ledger.devices,
                ledger.policy
            ),
            (14, 6, 3, 5, true)
        );
        assert!(!ledger.importing);
    }
}
