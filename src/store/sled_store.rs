//! The embedded default store on sled: one tree per record kind, and every acknowledged write
//! one transaction that also counts it in the ledger, made durable (with the acknowledged-write
//! mark advanced past it) before it returns.
//!
//! sled's transactions, scans and flushes block the calling thread (on a lock, on the disk), so
//! they run on tokio's blocking pool, as hashing runs on its own threads; single-key reads,
//! lock-free lookups in sled's page cache, run where they are called.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use anyhow::Context as _;
use async_trait::async_trait;
use prost::Message;
use sled::{Tree, transaction::ConflictableTransactionError};

use super::{
    Assignment, DeleteDevice, DeleteProfile, DeleteUser, DevicePage, DeviceRecord, Import,
    InsertDevice, InsertProfile, InsertUser, LockoutRecord, PolicyRecord, ProfileLookup,
    ProfileRecord, ReplaceDevice, ReplaceProfile, ReplaceUser, Snapshot, Store, StoreResult,
    UserPage, UserRecord, hash_identifier,
};

mod check;
mod commit;
mod devices;
mod import;
mod ledger;
mod lockouts;
mod mark;
mod open;
mod survey;
mod writes;

pub use check::{CheckOutcome, CheckReport};
pub use open::{Inspection, Origin};
pub use survey::{Problems, Survey};

use commit::Committer;
use lockouts::Swap;

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
    devices: Tree,
    /// Each user's device keys, under the user's key (see `devices`).
    device_index: Tree,
    ledger: Tree,
    committer: Arc<Committer>,
    /// The data directory, where an import leaves its marker file.
    dir: Arc<std::path::PathBuf>,
    /// Set by the first write that failed with a storage error (see [`SledStore::watch`]).
    failed: Arc<AtomicBool>,
}

type TxResult<T> = Result<T, ConflictableTransactionError<anyhow::Error>>;

impl SledStore {
    /// Runs `op` on a clone of this handle on tokio's blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Self) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || op(&store))
            .await
            .context("a store task failed")?
    }

    /// Waits until every write so far is on disk. Blocks.
    ///
    /// Not `flush_async`: in sled 0.34 concurrent `flush_async` futures can deadlock, never
    /// woken (spacejam/sled#1308, #1241; seen here in release builds under 64 concurrent
    /// CreateUser calls). A blocking flush on the blocking pool has no such problem.
    fn durable(&self) -> StoreResult<()> {
        let flushed = self.db.flush();
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
    async fn insert_device(&self, key: &str, device: DeviceRecord) -> StoreResult<InsertDevice> {
        let key = key.to_owned();
        self.blocking(move |s| s.insert_device_now(&key, &device))
            .await
    }

    async fn device(&self, key: &str) -> StoreResult<Option<DeviceRecord>> {
        self.devices
            .get(key)?
            .map(|bytes| decode_plain(&bytes))
            .transpose()
    }

    async fn user_devices(&self, user_key: &str) -> StoreResult<Vec<DeviceRecord>> {
        // A few lookups in sled's page cache, like `profile`.
        self.user_devices_now(user_key)
    }

    async fn list_devices(
        &self,
        assignment: Assignment,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<DevicePage> {
        let after = after.map(str::to_owned);
        self.blocking(move |s| s.list_devices_now(assignment, after.as_deref(), limit))
            .await
    }

    async fn replace_device(
        &self,
        key: &str,
        expected_version: u64,
        device: DeviceRecord,
    ) -> StoreResult<ReplaceDevice> {
        let key = key.to_owned();
        self.blocking(move |s| s.replace_device_now(&key, expected_version, &device))
            .await
    }

    async fn delete_device(&self, key: &str) -> StoreResult<DeleteDevice> {
        let key = key.to_owned();
        self.blocking(move |s| s.delete_device_now(&key)).await
    }

    async fn insert_user(&self, key: &str, user: UserRecord) -> StoreResult<InsertUser> {
        let key = key.to_owned();
        self.blocking(move |s| s.insert_user_now(&key, &user)).await
    }

    async fn user(&self, key: &str) -> StoreResult<Option<UserRecord>> {
        self.users
            .get(key)?
            .map(|bytes| decode_plain(&bytes))
            .transpose()
    }

    async fn delete_user(&self, key: &str) -> StoreResult<DeleteUser> {
        let key = key.to_owned();
        self.blocking(move |s| s.delete_user_now(&key)).await
    }

    async fn list_users(
        &self,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<UserPage> {
        let (path_prefix, after) = (path_prefix.to_owned(), after.map(str::to_owned));
        self.blocking(move |s| s.list_users_now(&path_prefix, after.as_deref(), limit))
            .await
    }

    async fn replace_user(
        &self,
        key: &str,
        new_key: &str,
        expected: &UserRecord,
        user: UserRecord,
    ) -> StoreResult<ReplaceUser> {
        let (key, new_key, expected) = (key.to_owned(), new_key.to_owned(), expected.clone());
        self.blocking(move |s| s.replace_user_now(&key, &new_key, &expected, &user))
            .await
    }

    async fn touch_user(&self, key: &str, at_ms: i64) -> StoreResult<()> {
        let key = key.to_owned();
        self.blocking(move |s| s.touch_user_now(&key, at_ms)).await
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
        let key = key.to_owned();
        self.blocking(move |s| s.insert_profile_now(&key, &profile))
            .await
    }

    async fn replace_profile(
        &self,
        key: &str,
        expected_version: u64,
        profile: ProfileRecord,
    ) -> StoreResult<ReplaceProfile> {
        let key = key.to_owned();
        self.blocking(move |s| s.replace_profile_now(&key, expected_version, &profile, true))
            .await
    }

    async fn replace_profile_lazily(
        &self,
        key: &str,
        expected_version: u64,
        profile: ProfileRecord,
    ) -> StoreResult<ReplaceProfile> {
        let key = key.to_owned();
        self.blocking(move |s| s.replace_profile_now(&key, expected_version, &profile, false))
            .await
    }

    async fn delete_profile(&self, key: &str) -> StoreResult<DeleteProfile> {
        let key = key.to_owned();
        self.blocking(move |s| s.delete_profile_now(&key)).await
    }

    async fn policy(&self) -> StoreResult<Option<PolicyRecord>> {
        self.policy
            .get(POLICY_KEY)?
            .map(|bytes| decode_plain(&bytes))
            .transpose()
    }

    async fn put_policy(&self, policy: PolicyRecord) -> StoreResult<()> {
        self.blocking(move |s| s.put_policy_now(&policy)).await
    }

    async fn delete_policy(&self) -> StoreResult<bool> {
        self.blocking(SledStore::delete_policy_now).await
    }

    async fn update_lockout(
        &self,
        key: &str,
        update: &(dyn for<'r> Fn(&'r LockoutRecord) -> LockoutRecord + Send + Sync),
    ) -> StoreResult<(LockoutRecord, LockoutRecord)> {
        // Compare-and-swap until no other writer came between the read and the write, so the
        // state returned as `before` is the one the stored `after` was computed from. `update`
        // is cheap and runs here; each swap, a write, runs on the blocking pool.
        let mut current = self.lockout_bytes(key)?;
        loop {
            let before = lockouts::decode(current.as_deref());
            let after = update(&before);
            let next = (after != LockoutRecord::default()).then(|| after.encode_to_vec());
            let (key, expected) = (key.to_owned(), current.clone());
            match self
                .blocking(move |s| s.swap_lockout(&key, expected, next))
                .await?
            {
                Swap::Stored => return Ok((before, after)),
                Swap::Conflict(stored) => current = stored,
            }
        }
    }

    async fn lockout(&self, key: &str) -> StoreResult<LockoutRecord> {
        Ok(lockouts::decode(self.lockout_bytes(key)?.as_deref()))
    }

    async fn prune_lockouts(&self, now_ms: i64, forget_before_ms: i64) -> StoreResult<usize> {
        self.blocking(move |s| s.prune_lockouts_now(now_ms, forget_before_ms))
            .await
    }

    async fn flush(&self) -> StoreResult<()> {
        self.blocking(SledStore::durable).await
    }

    async fn count_hash_identifiers(&self) -> StoreResult<BTreeMap<String, u64>> {
        // One pass over the profiles tree on a blocking thread, not a lookup per user.
        self.blocking(|s| {
            let mut counts = BTreeMap::new();
            for entry in s.profiles.iter() {
                let (_, value) = entry?;
                let profile: ProfileRecord = decode_plain(&value)?;
                *counts
                    .entry(hash_identifier(&profile.password_hash).to_owned())
                    .or_default() += 1;
            }
            Ok(counts)
        })
        .await
    }

    async fn import(&self, snapshot: Snapshot) -> StoreResult<Import> {
        self.blocking(move |s| s.import_now(&snapshot)).await
    }

    async fn check(&self) -> StoreResult<()> {
        anyhow::ensure!(
            !self.failed.load(Ordering::SeqCst),
            "a write failed with a storage error; the store must be reopened (restart the process \
             once the disk is healthy)"
        );
        self.blocking(|s| {
            // A write made durable goes through the log, where sled reports an error it
            // recorded.
            s.watch(s.db.insert(PROBE_KEY, &[]))
                .context("writing the health probe")?;
            s.durable()
        })
        .await
    }
}
