//! `Store::import` on sled: the whole snapshot and its count in the ledger in one transaction,
//! so that sled recovers all of it or none, then made durable as one acknowledged write.

use prost::Message;

use super::{
    POLICY_KEY, SledStore,
    ledger::{self, Change},
};
use crate::store::{Import, Snapshot, StoreResult};

impl SledStore {
    /// Blocks; the transaction holds every record in memory until it commits.
    pub(super) fn import_now(&self, snapshot: &Snapshot) -> StoreResult<Import> {
        let encoded: Vec<_> = snapshot
            .users
            .iter()
            .map(|u| {
                let profile = u.profile.as_ref().map(Message::encode_to_vec);
                (u.key.as_bytes(), u.user.encode_to_vec(), profile)
            })
            .collect();
        let policy = snapshot.policy.as_ref().map(Message::encode_to_vec);
        let change = Change::Imported {
            users: u64::try_from(encoded.len())?,
            profiles: u64::try_from(encoded.iter().filter(|(_, _, p)| p.is_some()).count())?,
            policy: policy.is_some(),
        };
        self.write_acknowledged(|t| {
            // The ledger counts every user, profile and policy the store holds (checked
            // against the records at open), and every acknowledged write updates it, so
            // reading it here also makes a racing write conflict with this transaction.
            let counts = ledger::read_in(t.ledger)?;
            if counts.users > 0 || counts.profiles > 0 || counts.policy {
                return Ok((Import::NotEmpty, None));
            }
            for (key, user, profile) in &encoded {
                t.users.insert(*key, user.as_slice())?;
                if let Some(profile) = profile {
                    t.profiles.insert(*key, profile.as_slice())?;
                }
            }
            if let Some(policy) = &policy {
                t.policy.insert(POLICY_KEY, policy.as_slice())?;
            }
            Ok((Import::Imported, Some(change)))
        })
    }
}
