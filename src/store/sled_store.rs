//! The embedded default store on sled: one tree per record kind, and every acknowledged write
//! one transaction that also counts it in the ledger, made durable (with the acknowledged-write
//! mark advanced past it) before it returns.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use anyhow::Context as _;
use async_trait::async_trait;
use prost::Message;
use sled::{Tree, transaction::ConflictableTransactionError};

use super::{
    DeleteProfile, DeleteUser, InsertProfile, InsertUser, LockoutRecord, PolicyRecord,
    ProfileLookup, ProfileRecord, ReplaceProfile, ReplaceUser, Store, StoreResult, UserPage,
    UserRecord,
};

mod check;
mod commit;
mod ledger;
mod mark;
mod open;
mod survey;

pub use check::{CheckOutcome, CheckReport};
pub use open::{Inspection, Origin};
pub use survey::{Problems, Survey};

use commit::Committer;
use ledger::Change;

const POLICY_KEY: &[u8] = b"account";
const PROBE_KEY: &[u8] = b"health-probe";

/// sled-backed [`Store`]. Cloning is shallow: clones share the database.
#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
    users: Tree,
    profiles: Tree,
    policy: Tree,
    lockouts: Tree,
    ledger: Tree,
    committer: Arc<Committer>,
    /// Set by the first write that failed with a storage error (see [`SledStore::watch`]).
    failed: Arc<AtomicBool>,
}

type TxResult<T> = Result<T, ConflictableTransactionError<anyhow::Error>>;

impl SledStore {
    /// Waits until every write so far is on disk.
    ///
    /// Not `flush_async`: in sled 0.34 concurrent `flush_async` futures can deadlock, never
    /// woken (spacejam/sled#1308, #1241; seen here in release builds under 64 concurrent
    /// CreateUser calls). A blocking flush on the blocking pool has no such problem.
    async fn durable(&self) -> StoreResult<()> {
        let db = self.db.clone();
        let flushed = tokio::task::spawn_blocking(move || db.flush())
            .await
            .context("the flushing task failed")?;
        self.watch(flushed).context("flushing the sled store")?;
        Ok(())
    }

    /// Passes a sled result on, remembering a storage failure. After an I/O error (a full
    /// disk, say) sled's state cannot be trusted: it goes on accepting small writes while pages
    /// whose log writes failed can no longer be read. So the store reports itself failed until
    /// the process reopens it, and health turns NOT_SERVING.
    fn watch<T>(&self, result: sled::Result<T>) -> StoreResult<T> {
        if let Err(
            sled::Error::Io(_) | sled::Error::Corruption { .. } | sled::Error::ReportableBug(_),
        ) = &result
        {
            self.failed.store(true, Ordering::SeqCst);
        }
        Ok(result?)
    }

    /// Replaces the profile if its version is still `expected_version`; counts the write as
    /// acknowledged only when `acknowledged`.
    fn replace_profile_now(
        &self,
        key: &str,
        expected_version: u64,
        profile: &ProfileRecord,
        acknowledged: bool,
    ) -> StoreResult<(ReplaceProfile, Option<u64>)> {
        let bytes = profile.encode_to_vec();
        self.write(|t| {
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
}

fn decode<T: Message + Default>(bytes: &[u8]) -> TxResult<T> {
    T::decode(bytes)
        .context("decoding a stored record")
        .map_err(ConflictableTransactionError::Abort)
}

fn decode_plain<T: Message + Default>(bytes: &[u8]) -> StoreResult<T> {
    T::decode(bytes).context("decoding a stored record")
}

#[async_trait]
impl Store for SledStore {
    async fn insert_user(&self, key: &str, user: UserRecord) -> StoreResult<InsertUser> {
        let bytes = user.encode_to_vec();
        let (outcome, seq) = self.write(|t| {
            if t.users.get(key)?.is_some() {
                return Ok((InsertUser::AlreadyExists, None));
            }
            t.users.insert(key, bytes.as_slice())?;
            Ok((InsertUser::Inserted, Some(Change::UserAdded)))
        })?;
        self.acknowledge(seq).await?;
        Ok(outcome)
    }

    async fn user(&self, key: &str) -> StoreResult<Option<UserRecord>> {
        self.users
            .get(key)?
            .map(|bytes| decode_plain(&bytes))
            .transpose()
    }

    async fn delete_user(&self, key: &str) -> StoreResult<DeleteUser> {
        let (outcome, seq) = self.write(|t| {
            if t.profiles.get(key)?.is_some() {
                return Ok((DeleteUser::HasProfile, None));
            }
            Ok(match t.users.remove(key)? {
                Some(_) => (DeleteUser::Deleted, Some(Change::UserRemoved)),
                None => (DeleteUser::NoUser, None),
            })
        })?;
        if outcome == DeleteUser::Deleted {
            self.watch(self.lockouts.remove(key))?;
        }
        self.acknowledge(seq).await?;
        Ok(outcome)
    }

    async fn list_users(
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

    async fn replace_user(
        &self,
        key: &str,
        new_key: &str,
        expected: &UserRecord,
        user: UserRecord,
    ) -> StoreResult<ReplaceUser> {
        let bytes = user.encode_to_vec();
        let (outcome, seq) = self.write(|t| {
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
            }
            t.users.insert(new_key, bytes.as_slice())?;
            Ok((ReplaceUser::Replaced, Some(Change::UserReplaced)))
        })?;
        self.acknowledge(seq).await?;
        Ok(outcome)
    }

    async fn touch_user(&self, key: &str, at_ms: i64) -> StoreResult<()> {
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

    async fn profile(&self, key: &str) -> StoreResult<ProfileLookup> {
        // Plain reads, not a transaction: sled runs transactions under a process-wide write
        // lock, and reads need none. No committed state has a profile without its user, so
        // whatever happens between the two reads, the answer is one the store really held.
        let Some(user) = self.users.get(key)? else {
            return Ok(ProfileLookup::NoUser);
        };
        let user = decode_plain(&user)?;
        Ok(match self.profiles.get(key)? {
            Some(profile) => ProfileLookup::Found(user, decode_plain(&profile)?),
            None => ProfileLookup::NoProfile(user),
        })
    }

    async fn insert_profile(
        &self,
        key: &str,
        profile: ProfileRecord,
    ) -> StoreResult<InsertProfile> {
        let bytes = profile.encode_to_vec();
        let (outcome, seq) = self.write(|t| {
            if t.users.get(key)?.is_none() {
                return Ok((InsertProfile::NoUser, None));
            }
            if t.profiles.get(key)?.is_some() {
                return Ok((InsertProfile::AlreadyExists, None));
            }
            t.profiles.insert(key, bytes.as_slice())?;
            Ok((InsertProfile::Inserted, Some(Change::ProfileAdded)))
        })?;
        self.acknowledge(seq).await?;
        Ok(outcome)
    }

    async fn replace_profile(
        &self,
        key: &str,
        expected_version: u64,
        profile: ProfileRecord,
    ) -> StoreResult<ReplaceProfile> {
        let (outcome, seq) = self.replace_profile_now(key, expected_version, &profile, true)?;
        self.acknowledge(seq).await?;
        Ok(outcome)
    }

    async fn replace_profile_lazily(
        &self,
        key: &str,
        expected_version: u64,
        profile: ProfileRecord,
    ) -> StoreResult<ReplaceProfile> {
        let (outcome, _) = self.replace_profile_now(key, expected_version, &profile, false)?;
        Ok(outcome)
    }

    async fn delete_profile(&self, key: &str) -> StoreResult<DeleteProfile> {
        let (outcome, seq) = self.write(|t| {
            if t.users.get(key)?.is_none() {
                return Ok((DeleteProfile::NoUser, None));
            }
            Ok(match t.profiles.remove(key)? {
                Some(_) => (DeleteProfile::Deleted, Some(Change::ProfileRemoved)),
                None => (DeleteProfile::NoProfile, None),
            })
        })?;
        self.acknowledge(seq).await?;
        Ok(outcome)
    }

    async fn policy(&self) -> StoreResult<Option<PolicyRecord>> {
        self.policy
            .get(POLICY_KEY)?
            .map(|bytes| decode_plain(&bytes))
            .transpose()
    }

    async fn put_policy(&self, policy: PolicyRecord) -> StoreResult<()> {
        let bytes = policy.encode_to_vec();
        let ((), seq) = self.write(|t| {
            t.policy.insert(POLICY_KEY, bytes.as_slice())?;
            Ok(((), Some(Change::PolicySet)))
        })?;
        self.acknowledge(seq).await
    }

    async fn delete_policy(&self) -> StoreResult<bool> {
        let (existed, seq) = self.write(|t| {
            Ok(match t.policy.remove(POLICY_KEY)? {
                Some(_) => (true, Some(Change::PolicyRemoved)),
                None => (false, None),
            })
        })?;
        self.acknowledge(seq).await?;
        Ok(existed)
    }

    async fn update_lockout(
        &self,
        key: &str,
        update: &(dyn for<'r> Fn(&'r LockoutRecord) -> LockoutRecord + Send + Sync),
    ) -> StoreResult<(LockoutRecord, LockoutRecord)> {
        // A record that fails to decode counts as no failures rather than blocking sign-in.
        let decode = |bytes: Option<&[u8]>| {
            bytes
                .and_then(|b| LockoutRecord::decode(b).ok())
                .unwrap_or_default()
        };
        // Compare-and-swap until no other writer came between the read and the write, so the
        // state returned as `before` is the one the stored `after` was computed from.
        let mut current = self.lockouts.get(key)?;
        loop {
            let before = decode(current.as_deref());
            let after = update(&before);
            let next = (after != LockoutRecord::default()).then(|| after.encode_to_vec());
            match self.watch(self.lockouts.compare_and_swap(key, current, next))? {
                Ok(()) => return Ok((before, after)),
                Err(conflict) => current = conflict.current,
            }
        }
    }

    async fn lockout(&self, key: &str) -> StoreResult<LockoutRecord> {
        Ok(self
            .lockouts
            .get(key)?
            .and_then(|b| LockoutRecord::decode(&*b).ok())
            .unwrap_or_default())
    }

    async fn prune_lockouts(&self, now_ms: i64, forget_before_ms: i64) -> StoreResult<usize> {
        let mut removed = 0;
        for entry in self.lockouts.iter() {
            let (key, bytes) = entry?;
            let stale = LockoutRecord::decode(&*bytes).map_or(true, |s| {
                s.locked_until_ms <= now_ms
                    && s.last_failure_ms < forget_before_ms
                    && s.in_flight.iter().all(|a| a.lease_until_ms <= now_ms)
            });
            // Compare-and-swap: a failure recorded since the read keeps the entry.
            if stale
                && self
                    .lockouts
                    .compare_and_swap(&key, Some(bytes), None as Option<&[u8]>)?
                    .is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn flush(&self) -> StoreResult<()> {
        self.durable().await
    }

    async fn check(&self) -> StoreResult<()> {
        anyhow::ensure!(
            !self.failed.load(Ordering::SeqCst),
            "a write failed with a storage error; the store must be reopened (restart the process \
             once the disk is healthy)"
        );
        // A write made durable goes through the log, where sled reports an error it recorded.
        self.watch(self.db.insert(PROBE_KEY, &[]))
            .context("writing the health probe")?;
        self.durable().await
    }
}
