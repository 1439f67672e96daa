//! Persistence behind a narrow trait, so the domain never sees which backend holds its data;
//! [`open`] picks the backend from a [`StoreConfig`].
//!
//! Keys are user-name keys (`UserName::key`, ASCII lower case). Every method that changes user
//! data returns only after the change is durable; each is atomic, so racing callers never lose
//! or duplicate data and never leave a login profile without its user. The exceptions are the
//! deferred writes (last use, lazy re-hash, lockout state): they are made durable by
//! [`Store::flush`], which the server calls on a clean shutdown.
//!
//! Methods are called on async threads: an implementation runs whatever blocks (a transaction
//! under a lock, a scan, waiting for the disk) elsewhere, e.g. on tokio's blocking pool.

mod outcomes;
mod postgres;
mod records;
mod sled_store;

use std::{collections::BTreeMap, fmt, path::PathBuf, sync::Arc};

use anyhow::Context as _;
use async_trait::async_trait;

pub use outcomes::{
    Assignment, DEVICES_PER_USER, DeleteDevice, DeleteProfile, DeleteUser, DevicePage, Import,
    InsertDevice, InsertProfile, InsertUser, ProfileLookup, ReplaceDevice, ReplaceProfile,
    ReplaceUser, Snapshot, SnapshotEntry, SnapshotUser, UserPage,
};
pub use postgres::{DatabaseUrl, Fault, PgConfig, PgStore, newest_schema_version};
pub use records::{
    DeviceRecord, InFlightAttempt, LedgerRecord, LockoutRecord, PolicyRecord, ProfileRecord,
    SealedSeedRecord, TagRecord, UserRecord,
};
pub use sled_store::{CheckOutcome, CheckReport, Inspection, Origin, Problems, SledStore, Survey};

/// Which backend holds the data, and where.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// The embedded default: sled in a data directory.
    Sled { data_dir: PathBuf, cache_bytes: u64 },
    /// PostgreSQL, shared by every replica.
    Postgres(PgConfig),
}

/// The identifier of a password hash's scheme as its text spells it, which the store counts
/// by (the domain names the scheme): between the first two `$` of a PHC or crypt(3) string
/// (`argon2id`, `2b`, `6`, `pbkdf2-sha256`), before the first `$` otherwise (Django's
/// `pbkdf2_sha256`). PostgreSQL's `count_hash_identifiers` computes the same in SQL.
pub fn hash_identifier(hash: &str) -> &str {
    let text = hash.strip_prefix('$').unwrap_or(hash);
    text.split('$').next().unwrap_or_default()
}

/// Opens the configured store, refusing one that is damaged.
pub fn open(config: &StoreConfig) -> anyhow::Result<Arc<dyn Store>> {
    match config {
        StoreConfig::Sled {
            data_dir,
            cache_bytes,
        } => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
            Ok(Arc::new(SledStore::open(data_dir, *cache_bytes)?))
        }
        StoreConfig::Postgres(pg) => Ok(Arc::new(PgStore::open(pg)?)),
    }
}

/// Opens the configured store only if it exists (for reading it out: a mistyped data
/// directory must not pass as an empty store).
pub fn open_existing(config: &StoreConfig) -> anyhow::Result<Arc<dyn Store>> {
    match config {
        StoreConfig::Sled { data_dir, .. } => anyhow::ensure!(
            data_dir.join("db").is_file(),
            "{} holds no loginprofiled store",
            data_dir.display()
        ),
        // A database without the schema is refused when the store opens it.
        StoreConfig::Postgres(_) => {}
    }
    open(config)
}

/// Applies the pending schema migrations of the configured store and returns (`loginprofiled
/// migrate`); the embedded store has none.
pub async fn migrate(config: &StoreConfig) -> anyhow::Result<()> {
    match config {
        StoreConfig::Sled { .. } => Ok(()),
        StoreConfig::Postgres(pg) => postgres::migrate(pg).await,
    }
}

/// A change of a lockout state, as [`Store::update_lockout`] applies it: a pure function of the
/// state, since it may run more than once.
pub type LockoutUpdate<'a> = &'a (dyn for<'r> Fn(&'r LockoutRecord) -> LockoutRecord + Send + Sync);

/// Storage failures carry their cause for the log; the caller sees ServiceFailure.
pub type StoreResult<T> = anyhow::Result<T>;

/// Marks a store error that means the database cannot be reached (no connection in time, a
/// broken connection, a server shutting down) rather than that it refused the operation. The
/// domain answers such errors as unavailable (retry later, perhaps on another replica). Find it
/// with `error.downcast_ref::<Unavailable>()`.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the database cannot be reached")]
pub struct Unavailable;

/// The storage the domain needs, and nothing more.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug + 'static {
    async fn insert_user(&self, key: &str, user: UserRecord) -> StoreResult<InsertUser>;
    async fn user(&self, key: &str) -> StoreResult<Option<UserRecord>>;
    /// Deletes the user unless a login profile or an MFA device enabled for it still exists
    /// (the profile is reported first).
    async fn delete_user(&self, key: &str) -> StoreResult<DeleteUser>;
    /// Up to `limit` users in byte order of their keys, with keys after `after`, whose path
    /// starts with `path_prefix` (compared byte for byte; `""` and `"/"` match everyone).
    async fn list_users(
        &self,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<UserPage>;
    /// Replaces the user stored under `key` if it still equals `expected`, storing `user` under
    /// `new_key`. When the keys differ (a rename), the login profile (with its password
    /// history), the lockout state and the user's MFA devices (their `user_key`, and their
    /// `version` moves on by one, so a replacement read before the rename is stale) move to
    /// `new_key` in the same transaction and `key` is free at once; a `new_key` held by another
    /// user leaves everything unchanged.
    async fn replace_user(
        &self,
        key: &str,
        new_key: &str,
        expected: &UserRecord,
        user: UserRecord,
    ) -> StoreResult<ReplaceUser>;
    /// Records the last successful sign-in. May be deferred: durable by the next [`Store::flush`]
    /// at the latest, not necessarily before it returns.
    async fn touch_user(&self, key: &str, at_ms: i64) -> StoreResult<()>;

    async fn profile(&self, key: &str) -> StoreResult<ProfileLookup>;
    /// [`Store::profile`] and [`Store::policy`] at once, for the calls that need both (a
    /// backend across the network reads them in one round trip).
    async fn profile_and_policy(
        &self,
        key: &str,
    ) -> StoreResult<(ProfileLookup, Option<PolicyRecord>)> {
        Ok((self.profile(key).await?, self.policy().await?))
    }
    /// Inserts a profile for an existing user that has none.
    async fn insert_profile(&self, key: &str, profile: ProfileRecord)
    -> StoreResult<InsertProfile>;
    /// Replaces the profile if its stored version is still `expected_version`; the new record's
    /// version must be `expected_version + 1`.
    async fn replace_profile(
        &self,
        key: &str,
        expected_version: u64,
        profile: ProfileRecord,
    ) -> StoreResult<ReplaceProfile>;
    /// As `replace_profile`, but it may be deferred like [`Store::touch_user`] (for transparent
    /// re-hashing, where losing the write loses nothing).
    async fn replace_profile_lazily(
        &self,
        key: &str,
        expected_version: u64,
        profile: ProfileRecord,
    ) -> StoreResult<ReplaceProfile>;
    async fn delete_profile(&self, key: &str) -> StoreResult<DeleteProfile>;

    async fn policy(&self) -> StoreResult<Option<PolicyRecord>>;
    async fn put_policy(&self, policy: PolicyRecord) -> StoreResult<()>;
    /// Deletes the policy; false when there was none.
    async fn delete_policy(&self) -> StoreResult<bool>;

    /// Applies `update` to the lockout state of `key` atomically (absent state is the default)
    /// and returns the state before and after the update that was applied. `update` may run
    /// more than once under contention; only one run's result is stored. The result is seen at
    /// once by every user of the store (every replica); its durability may be deferred like
    /// [`Store::touch_user`].
    async fn update_lockout(
        &self,
        key: &str,
        update: LockoutUpdate<'_>,
    ) -> StoreResult<(LockoutRecord, LockoutRecord)>;
    /// Settles a sign-in attempt: [`Store::update_lockout`], told the state the caller expects
    /// to find (what its admission left), and recording a successful sign-in at
    /// `signed_in_at_ms` as [`Store::touch_user`] does. A backend may use the expectation to
    /// write without reading first: a wrong one costs it a retry, never correctness.
    async fn settle_attempt(
        &self,
        key: &str,
        expected: &LockoutRecord,
        signed_in_at_ms: Option<i64>,
        update: LockoutUpdate<'_>,
    ) -> StoreResult<(LockoutRecord, LockoutRecord)> {
        let _ = expected;
        let states = self.update_lockout(key, update).await?;
        if let Some(at_ms) = signed_in_at_ms {
            self.touch_user(key, at_ms).await?;
        }
        Ok(states)
    }
    async fn lockout(&self, key: &str) -> StoreResult<LockoutRecord>;
    /// Removes lockout states that are not locked at `now_ms`, have no attempt in flight at
    /// `now_ms` and whose last failure is before `forget_before_ms`; returns how many were
    /// removed. A state updated meanwhile is kept.
    async fn prune_lockouts(&self, now_ms: i64, forget_before_ms: i64) -> StoreResult<usize>;

    /// Inserts a virtual MFA device under `key` (its lower-case name). The device must be
    /// unassigned (`user_key` None; an error otherwise): [`Store::replace_device`] assigns it.
    async fn insert_device(&self, key: &str, device: DeviceRecord) -> StoreResult<InsertDevice>;
    async fn device(&self, key: &str) -> StoreResult<Option<DeviceRecord>>;
    /// The devices enabled for the user of `user_key`, in device-key order (at most
    /// [`DEVICES_PER_USER`]).
    async fn user_devices(&self, user_key: &str) -> StoreResult<Vec<DeviceRecord>>;
    /// Up to `limit` devices of the given assignment in byte order of their keys, with keys
    /// after `after`.
    async fn list_devices(
        &self,
        assignment: Assignment,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<DevicePage>;
    /// Replaces the device if its stored version is still `expected_version`; the new record's
    /// version must be `expected_version + 1`. When the new record assigns the device to a
    /// user it was not assigned to, the user must exist (`NoUser`) and have fewer than
    /// [`DEVICES_PER_USER`] devices (`LimitExceeded`), checked in the same transaction, so
    /// racing enables never exceed the limit. Of racing replacements with one
    /// `expected_version` exactly one is `Replaced`, on every replica. Durable when it returns:
    /// a replaced `last_step` is what refuses a replayed code.
    async fn replace_device(
        &self,
        key: &str,
        expected_version: u64,
        device: DeviceRecord,
    ) -> StoreResult<ReplaceDevice>;
    /// Deletes the device unless it is enabled for a user.
    async fn delete_device(&self, key: &str) -> StoreResult<DeleteDevice>;

    /// Makes every write so far durable, deferred ones included; the server calls it on a clean
    /// shutdown.
    async fn flush(&self) -> StoreResult<()>;

    /// Hands every user, with its login profile, to `each` in key order, then every MFA device
    /// in key order, and returns the policy: what `loginprofiled export` writes. A backend that
    /// can reads all of it from one consistent view, whatever is written meanwhile; this
    /// default reads page by page (the embedded store is exported while no server holds it),
    /// leaving out users deleted between a page and their profile. An error from `each` ends
    /// the read and is returned.
    async fn read_all(
        &self,
        each: &mut (dyn FnMut(SnapshotEntry) -> anyhow::Result<()> + Send),
    ) -> StoreResult<Option<PolicyRecord>> {
        const PAGE: usize = 1000;
        let mut after = None;
        loop {
            let page = self.list_users("", after.as_deref(), PAGE).await?;
            for listed in &page.users {
                let key = listed.user_name.to_ascii_lowercase();
                let (user, profile) = match self.profile(&key).await? {
                    ProfileLookup::NoUser => continue,
                    ProfileLookup::NoProfile(user) => (user, None),
                    ProfileLookup::Found(user, profile) => (user, Some(profile)),
                };
                each(SnapshotEntry::User(SnapshotUser { key, user, profile }))?;
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut after = None;
        loop {
            let page = self
                .list_devices(Assignment::Any, after.as_deref(), PAGE)
                .await?;
            for device in page.devices {
                each(SnapshotEntry::Device(device))?;
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => return self.policy().await,
            }
        }
    }

    /// How many login profiles carry a password hash of each [`hash_identifier`]: how far
    /// imported hashes have been upgraded. This default reads everything through
    /// [`Store::read_all`]; a backend that can counts where the data is.
    async fn count_hash_identifiers(&self) -> StoreResult<BTreeMap<String, u64>> {
        let mut counts = BTreeMap::new();
        self.read_all(&mut |entry| {
            if let SnapshotEntry::User(SnapshotUser {
                profile: Some(profile),
                ..
            }) = &entry
            {
                *counts
                    .entry(hash_identifier(&profile.password_hash).to_owned())
                    .or_default() += 1;
            }
            Ok(())
        })
        .await?;
        Ok(counts)
    }

    /// Writes a whole snapshot into an empty store. `Imported`: every user, profile, MFA device
    /// and the policy of the snapshot are stored and durable. `NotEmpty`: nothing was written,
    /// because the store holds a user, a login profile, an MFA device or the policy, or another
    /// import is under way;
    /// this is decided atomically with claiming the store, so of racing imports one at most
    /// succeeds. All or nothing: the store never serves a part of a snapshot, not even after a
    /// crash in the middle (a backend that cannot write it in one transaction marks the store
    /// as being imported into first, refuses acknowledged writes until the import is done,
    /// and refuses to open a store whose import did not finish). Lockout states are not data:
    /// they neither make a store non-empty nor are they written or cleared. The caller hands
    /// over a consistent snapshot: distinct keys, each the key of its user's name; devices of
    /// distinct names, each assigned one naming a user of the snapshot, at most
    /// [`DEVICES_PER_USER`] per user; profile and device records are stored as given (hashes,
    /// sealed seeds and versions verbatim), each device under its name in lower case.
    async fn import(&self, snapshot: Snapshot) -> StoreResult<Import>;

    /// A cheap probe that fails when the store can no longer serve (the database is unreachable,
    /// or an earlier I/O error such as a full disk makes further writes unsafe until the store is
    /// reopened). Health reports NOT_SERVING while it fails.
    async fn check(&self) -> StoreResult<()>;
}
