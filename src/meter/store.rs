//! Store latency by operation: a decorator over any [`Store`], so every implementation is timed
//! the same way without knowing about metrics.

use std::{collections::BTreeMap, future::Future, sync::Arc, time::Instant};

use async_trait::async_trait;
use metrics::histogram;

use super::STORE_SECONDS;
use crate::store::{
    Assignment, DeleteDevice, DeleteProfile, DeleteUser, DevicePage, DeviceRecord, Import,
    InsertDevice, InsertProfile, InsertUser, LockoutRecord, LockoutUpdate, PolicyRecord,
    ProfileLookup, ProfileRecord, ReplaceDevice, ReplaceProfile, ReplaceUser, Snapshot,
    SnapshotEntry, Store, StoreResult, UserPage, UserRecord,
};

/// Times every call of the store it wraps into `loginprofiled_store_seconds{operation}`.
#[derive(Debug)]
pub struct TimedStore(Arc<dyn Store>);

impl TimedStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self(inner)
    }
}

async fn timed<T>(operation: &'static str, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = work.await;
    histogram!(STORE_SECONDS, "operation" => operation).record(started.elapsed());
    result
}

#[async_trait]
impl Store for TimedStore {
    async fn insert_user(&self, key: &str, user: UserRecord) -> StoreResult<InsertUser> {
        timed("insert_user", self.0.insert_user(key, user)).await
    }

    async fn user(&self, key: &str) -> StoreResult<Option<UserRecord>> {
        timed("user", self.0.user(key)).await
    }

    async fn delete_user(&self, key: &str) -> StoreResult<DeleteUser> {
        timed("delete_user", self.0.delete_user(key)).await
    }

    async fn list_users(
        &self,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<UserPage> {
        timed("list_users", self.0.list_users(path_prefix, after, limit)).await
    }

    async fn replace_user(
        &self,
        key: &str,
        new_key: &str,
        expected: &UserRecord,
        user: UserRecord,
    ) -> StoreResult<ReplaceUser> {
        timed(
            "replace_user",
            self.0.replace_user(key, new_key, expected, user),
        )
        .await
    }

    async fn insert_device(&self, key: &str, device: DeviceRecord) -> StoreResult<InsertDevice> {
        timed("insert_device", self.0.insert_device(key, device)).await
    }

    async fn device(&self, key: &str) -> StoreResult<Option<DeviceRecord>> {
        timed("device", self.0.device(key)).await
    }

    async fn user_devices(&self, user_key: &str) -> StoreResult<Vec<DeviceRecord>> {
        timed("user_devices", self.0.user_devices(user_key)).await
    }

    async fn list_devices(
        &self,
        assignment: Assignment,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<DevicePage> {
        timed(
            "list_devices",
            self.0.list_devices(assignment, after, limit),
        )
        .await
    }

    async fn replace_device(
        &self,
        key: &str,
        expected_version: u64,
        device: DeviceRecord,
    ) -> StoreResult<ReplaceDevice> {
        timed(
            "replace_device",
            self.0.replace_device(key, expected_version, device),
        )
        .await
    }

    async fn delete_device(&self, key: &str) -> StoreResult<DeleteDevice> {
        timed("delete_device", self.0.delete_device(key)).await
    }

    async fn touch_user(&self, key: &str, at_ms: i64) -> StoreResult<()> {
        timed("touch_user", self.0.touch_user(key, at_ms)).await
    }

    async fn profile(&self, key: &str) -> StoreResult<ProfileLookup> {
        timed("profile", self.0.profile(key)).await
    }

    async fn profile_and_policy(
        &self,
        key: &str,
    ) -> StoreResult<(ProfileLookup, Option<PolicyRecord>)> {
        timed("profile_and_policy", self.0.profile_and_policy(key)).await
    }

    async fn insert_profile(
        &self,
        key: &str,
        profile: ProfileRecord,
    ) -> StoreResult<InsertProfile> {
        timed("insert_profile", self.0.insert_profile(key, profile)).await
    }

    async fn replace_profile(
        &self,
        key: &str,
        expected_version: u64,
        profile: ProfileRecord,
    ) -> StoreResult<ReplaceProfile> {
        timed(
            "replace_profile",
            self.0.replace_profile(key, expected_version, profile),
        )
        .await
    }

    async fn replace_profile_lazily(
        &self,
        key: &str,
        expected_version: u64,
        profile: ProfileRecord,
    ) -> StoreResult<ReplaceProfile> {
        timed(
            "replace_profile_lazily",
            self.0
                .replace_profile_lazily(key, expected_version, profile),
        )
        .await
    }

    async fn delete_profile(&self, key: &str) -> StoreResult<DeleteProfile> {
        timed("delete_profile", self.0.delete_profile(key)).await
    }

    async fn policy(&self) -> StoreResult<Option<PolicyRecord>> {
        timed("policy", self.0.policy()).await
    }

    async fn put_policy(&self, policy: PolicyRecord) -> StoreResult<()> {
        timed("put_policy", self.0.put_policy(policy)).await
    }

    async fn delete_policy(&self) -> StoreResult<bool> {
        timed("delete_policy", self.0.delete_policy()).await
    }

    async fn update_lockout(
        &self,
        key: &str,
        update: LockoutUpdate<'_>,
    ) -> StoreResult<(LockoutRecord, LockoutRecord)> {
        timed("update_lockout", self.0.update_lockout(key, update)).await
    }

    async fn settle_attempt(
        &self,
        key: &str,
        expected: &LockoutRecord,
        signed_in_at_ms: Option<i64>,
        update: LockoutUpdate<'_>,
    ) -> StoreResult<(LockoutRecord, LockoutRecord)> {
        timed(
            "settle_attempt",
            self.0
                .settle_attempt(key, expected, signed_in_at_ms, update),
        )
        .await
    }

    async fn lockout(&self, key: &str) -> StoreResult<LockoutRecord> {
        timed("lockout", self.0.lockout(key)).await
    }

    async fn prune_lockouts(&self, now_ms: i64, forget_before_ms: i64) -> StoreResult<usize> {
        timed(
            "prune_lockouts",
            self.0.prune_lockouts(now_ms, forget_before_ms),
        )
        .await
    }

    async fn flush(&self) -> StoreResult<()> {
        timed("flush", self.0.flush()).await
    }

    async fn read_all(
        &self,
        each: &mut (dyn FnMut(SnapshotEntry) -> anyhow::Result<()> + Send),
    ) -> StoreResult<Option<PolicyRecord>> {
        timed("read_all", self.0.read_all(each)).await
    }

    async fn count_hash_identifiers(&self) -> StoreResult<BTreeMap<String, u64>> {
        timed("count_hash_identifiers", self.0.count_hash_identifiers()).await
    }

    async fn import(&self, snapshot: Snapshot) -> StoreResult<Import> {
        timed("import", self.0.import(snapshot)).await
    }

    async fn check(&self) -> StoreResult<()> {
        timed("check", self.0.check()).await
    }
}
