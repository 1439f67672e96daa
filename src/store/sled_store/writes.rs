//! The acknowledged writes and the user scan, as blocking functions: each write is one
//! transaction that also counts it in the ledger, made durable before it returns. The
//! [`Store`](crate::store::Store) implementation runs them on the blocking pool.

use anyhow::Context as _;
use prost::Message;

use super::{POLICY_KEY, SledStore, decode, decode_plain, devices, ledger::Change};
use crate::store::{
    DeleteProfile, DeleteUser, InsertProfile, InsertUser, PolicyRecord, ProfileRecord,
    ReplaceProfile, ReplaceUser, StoreResult, UserPage, UserRecord,
};

impl SledStore {
    pub(super) fn insert_user_now(&self, key: &str, user: &UserRecord) -> StoreResult<InsertUser> {
        let bytes = user.encode_to_vec();
        self.write_acknowledged(|t| {
            if t.users.get(key)?.is_some() {
                return Ok((InsertUser::AlreadyExists, None));
            }
            t.users.insert(key, bytes.as_slice())?;
            Ok((InsertUser::Inserted, Some(Change::UserAdded)))
        })
    }

    pub(super) fn delete_user_now(&self, key: &str) -> StoreResult<DeleteUser> {
        let (outcome, seq) = self.write(|t| {
            if t.profiles.get(key)?.is_some() {
                return Ok((DeleteUser::HasProfile, None));
            }
            if t.device_index.get(key)?.is_some() {
                return Ok((DeleteUser::HasDevice, None));
            }
            Ok(match t.users.remove(key)? {
                Some(_) => (DeleteUser::Deleted, Some(Change::UserRemoved)),
                None => (DeleteUser::NoUser, None),
            })
        })?;
        if outcome == DeleteUser::Deleted {
            self.watch(self.lockouts.remove(key))?;
        }
        self.acknowledge(seq)?;
        Ok(outcome)
    }

    /// See `Store::list_users`. A scan: it may read many records.
    pub(super) fn list_users_now(
        &self,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<UserPage> {
        let range = match after {
            Some(after) => self.users.range::<&[u8], _>((
                std::ops::Bound::Excluded(after.as_bytes()),
                std::ops::Bound::Unbounded,
            )),
            None => self.users.iter(),
        };
        let mut users = Vec::new();
        let mut last_key = None;
        for entry in range {
            let (key, bytes) = entry?;
            let user: UserRecord = decode_plain(&bytes)?;
            if !user.path.starts_with(path_prefix) {
                continue;
            }
            if users.len() == limit {
                return Ok(UserPage {
                    users,
                    next_after: last_key,
                });
            }
            last_key = Some(String::from_utf8(key.to_vec()).context("a user key is not UTF-8")?);
            users.push(user);
        }
        Ok(UserPage {
            users,
            next_after: None,
        })
    }

    pub(super) fn replace_user_now(
        &self,
        key: &str,
        new_key: &str,
        expected: &UserRecord,
        user: &UserRecord,
    ) -> StoreResult<ReplaceUser> {
        let bytes = user.encode_to_vec();
        self.write_acknowledged(|t| {
            let Some(stored) = t.users.get(key)? else {
                return Ok((ReplaceUser::NoUser, None));
            };
            if decode::<UserRecord>(&stored)? != *expected {
                return Ok((ReplaceUser::Stale, None));
            }
            if new_key != key {
                if t.users.get(new_key)?.is_some() {
                    return Ok((ReplaceUser::NameTaken, None));
                }
                t.users.remove(key)?;
                if let Some(profile) = t.profiles.remove(key)? {
                    t.profiles.insert(new_key, profile)?;
                }
                // A lockout state left under the new key by an unknown name's failures is
                // replaced: the state that counts is the one of the user who now has the name.
                match t.lockouts.remove(key)? {
                    Some(lockout) => t.lockouts.insert(new_key, lockout)?,
                    None => t.lockouts.remove(new_key)?,
                };
                devices::move_devices(t.devices, t.device_index, key, new_key)?;
            }
            t.users.insert(new_key, bytes.as_slice())?;
            Ok((ReplaceUser::Replaced, Some(Change::UserReplaced)))
        })
    }

    /// Records the last use; not acknowledged (durable by the next flush).
    pub(super) fn touch_user_now(&self, key: &str, at_ms: i64) -> StoreResult<()> {
        // fetch_and_update retries on concurrent writers; a deleted user stays deleted.
        let mut failure = None;
        self.users.fetch_and_update(key, |current| {
            let bytes = current?;
            match UserRecord::decode(bytes) {
                Ok(mut user) => {
                    user.password_last_used_ms = Some(at_ms);
                    Some(user.encode_to_vec())
                }
                Err(e) => {
                    failure = Some(e);
                    Some(bytes.to_vec())
                }
            }
        })?;
        match failure {
            Some(e) => Err(anyhow::Error::new(e).context("decoding a stored user")),
            None => Ok(()),
        }
    }

    pub(super) fn insert_profile_now(
        &self,
        key: &str,
        profile: &ProfileRecord,
    ) -> StoreResult<InsertProfile> {
        let bytes = profile.encode_to_vec();
        self.write_acknowledged(|t| {
            if t.users.get(key)?.is_none() {
                return Ok((InsertProfile::NoUser, None));
            }
            if t.profiles.get(key)?.is_some() {
                return Ok((InsertProfile::AlreadyExists, None));
            }
            t.profiles.insert(key, bytes.as_slice())?;
            Ok((InsertProfile::Inserted, Some(Change::ProfileAdded)))
        })
    }

    /// Replaces the profile if its version is still `expected_version`; acknowledged (durable
    /// before it returns) only when `acknowledged`.
    pub(super) fn replace_profile_now(
        &self,
        key: &str,
        expected_version: u64,
        profile: &ProfileRecord,
        acknowledged: bool,
    ) -> StoreResult<ReplaceProfile> {
        let bytes = profile.encode_to_vec();
        self.write_acknowledged(|t| {
            if t.users.get(key)?.is_none() {
                return Ok((ReplaceProfile::NoUser, None));
            }
            let Some(stored) = t.profiles.get(key)? else {
                return Ok((ReplaceProfile::NoProfile, None));
            };
            if decode::<ProfileRecord>(&stored)?.version != expected_version {
                return Ok((ReplaceProfile::Stale, None));
            }
            t.profiles.insert(key, bytes.as_slice())?;
            let change = acknowledged.then_some(Change::ProfileReplaced);
            Ok((ReplaceProfile::Replaced, change))
        })
    }

    pub(super) fn delete_profile_now(&self, key: &str) -> StoreResult<DeleteProfile> {
        self.write_acknowledged(|t| {
            if t.users.get(key)?.is_none() {
                return Ok((DeleteProfile::NoUser, None));
            }
            Ok(match t.profiles.remove(key)? {
                Some(_) => (DeleteProfile::Deleted, Some(Change::ProfileRemoved)),
                None => (DeleteProfile::NoProfile, None),
            })
        })
    }

    pub(super) fn put_policy_now(&self, policy: &PolicyRecord) -> StoreResult<()> {
        let bytes = policy.encode_to_vec();
        self.write_acknowledged(|t| {
            t.policy.insert(POLICY_KEY, bytes.as_slice())?;
            Ok(((), Some(Change::PolicySet)))
        })
    }

    pub(super) fn delete_policy_now(&self) -> StoreResult<bool> {
        self.write_acknowledged(|t| {
            Ok(match t.policy.remove(POLICY_KEY)? {
                Some(_) => (true, Some(Change::PolicyRemoved)),
                None => (false, None),
            })
        })
    }
}
