//! The [`Store`] operations on PostgreSQL, each one statement or one transaction.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::Row as _;

use super::{
    super::{
        Assignment, DeleteDevice, DevicePage, DeviceRecord, Import, InsertDevice, ReplaceDevice,
        Snapshot, SnapshotEntry,
    },
    DeleteProfile, DeleteUser, InsertProfile, InsertUser, LOCKOUT_COLUMNS, LockoutRecord,
    LockoutUpdate, POLICY_COLUMNS, PROFILE_COLUMNS, PgStore, PolicyRecord, ProfileLookup,
    ProfileRecord, ReplaceProfile, ReplaceUser, Store, StoreResult, USER_COLUMNS, UserPage,
    UserRecord, is_foreign_key_violation, profile_lookup_sql, rows, stamp_last_use,
};

#[async_trait]
impl Store for PgStore {
    async fn insert_device(&self, key: &str, device: DeviceRecord) -> StoreResult<InsertDevice> {
        self.write("inserting an MFA device", || {
            self.insert_device_once(key, &device)
        })
        .await
    }

    async fn device(&self, key: &str) -> StoreResult<Option<DeviceRecord>> {
        self.read("reading an MFA device", || self.device_once(key))
            .await
    }

    async fn user_devices(&self, user_key: &str) -> StoreResult<Vec<DeviceRecord>> {
        self.read("reading a user's MFA devices", || {
            self.user_devices_once(user_key)
        })
        .await
    }

    async fn list_devices(
        &self,
        assignment: Assignment,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<DevicePage> {
        self.read("listing MFA devices", || {
            self.list_devices_once(assignment, after, limit)
        })
        .await
    }

    async fn replace_device(
        &self,
        key: &str,
        expected_version: u64,
        device: DeviceRecord,
    ) -> StoreResult<ReplaceDevice> {
        self.write("replacing an MFA device", || {
            self.replace_device_once(key, expected_version, &device)
        })
        .await
    }

    async fn delete_device(&self, key: &str) -> StoreResult<DeleteDevice> {
        self.write("deleting an MFA device", || self.delete_device_once(key))
            .await
    }

    async fn insert_user(&self, key: &str, user: UserRecord) -> StoreResult<InsertUser> {
        self.write("inserting a user", || self.insert_user_once(key, &user))
            .await
    }

    async fn user(&self, key: &str) -> StoreResult<Option<UserRecord>> {
        self.read("reading a user", || async {
            let mut conn = self.conn().await?;
            let row = sqlx::query(&format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.user_key = $1"
            ))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
            Ok(row.as_ref().map(rows::user).transpose()?)
        })
        .await
    }

    async fn delete_user(&self, key: &str) -> StoreResult<DeleteUser> {
        self.write("deleting a user", || self.delete_user_once(key))
            .await
    }

    async fn list_users(
        &self,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<UserPage> {
        self.read("listing users", || {
            self.list_users_once(path_prefix, after, limit)
        })
        .await
    }

    async fn replace_user(
        &self,
        key: &str,
        new_key: &str,
        expected: &UserRecord,
        user: UserRecord,
    ) -> StoreResult<ReplaceUser> {
        self.write("replacing a user", || {
            self.replace_user_once(key, new_key, expected, &user)
        })
        .await
    }

    async fn touch_user(&self, key: &str, at_ms: i64) -> StoreResult<()> {
        self.write("recording a sign-in", || async {
            stamp_last_use(&mut *self.conn().await?, key, at_ms).await
        })
        .await
    }

    async fn profile(&self, key: &str) -> StoreResult<ProfileLookup> {
        self.read("reading a login profile", || async {
            let mut conn = self.conn().await?;
            let row = sqlx::query(&profile_lookup_sql())
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(row) = row else {
                return Ok(ProfileLookup::NoUser);
            };
            let user = rows::user(&row)?;
            Ok(match rows::profile(&row)? {
                Some(profile) => ProfileLookup::Found(user, profile),
                None => ProfileLookup::NoProfile(user),
            })
        })
        .await
    }

    async fn profile_and_policy(
        &self,
        key: &str,
    ) -> StoreResult<(ProfileLookup, Option<PolicyRecord>)> {
        self.read(
            "reading a login profile and the password policy",
            || async {
                let mut conn = self.conn().await?;
                // One row whatever exists: the user (if any) with its profile (if any), and the
                // policy (if any).
                let row = sqlx::query(&format!(
                    "SELECT u.user_key IS NOT NULL AS has_user, {USER_COLUMNS}, {PROFILE_COLUMNS}, \
                 pol.singleton IS NOT NULL AS has_policy, {POLICY_COLUMNS} \
                 FROM (SELECT $1::text AS user_key) k \
                 LEFT JOIN users u ON u.user_key = k.user_key \
                 LEFT JOIN login_profiles p ON p.user_key = u.user_key \
                 LEFT JOIN account_password_policy pol ON true"
                ))
                .bind(key)
                .fetch_one(&mut *conn)
                .await?;
                let lookup = if row.try_get("has_user")? {
                    let user = rows::user(&row)?;
                    match rows::profile(&row)? {
                        Some(profile) => ProfileLookup::Found(user, profile),
                        None => ProfileLookup::NoProfile(user),
                    }
                } else {
                    ProfileLookup::NoUser
                };
                let policy = if row.try_get("has_policy")? {
                    Some(rows::policy(&row)?)
                } else {
                    None
                };
                Ok((lookup, policy))
            },
        )
        .await
    }

    async fn insert_profile(
        &self,
        key: &str,
        profile: ProfileRecord,
    ) -> StoreResult<InsertProfile> {
        self.write("inserting a login profile", || async {
            let mut conn = self.conn().await?;
            // The primary key allows one profile per user; the foreign key refuses one whose
            // user was deleted meanwhile.
            let row = sqlx::query(
                "WITH inserted AS ( \
                   INSERT INTO login_profiles (user_key, password_hash, create_date_ms, \
                     password_reset_required, password_set_ms, previous_hashes, version) \
                   SELECT $1, $2, $3, $4, $5, $6, $7 \
                   WHERE EXISTS (SELECT 1 FROM users WHERE user_key = $1) \
                   ON CONFLICT (user_key) DO NOTHING RETURNING 1) \
                 SELECT EXISTS (SELECT 1 FROM inserted) AS inserted, \
                   EXISTS (SELECT 1 FROM users WHERE user_key = $1) AS has_user",
            )
            .bind(key)
            .bind(&profile.password_hash)
            .bind(profile.create_date_ms)
            .bind(profile.password_reset_required)
            .bind(profile.password_set_ms)
            .bind(&profile.previous_hashes)
            .bind(rows::version(profile.version)?)
            .fetch_one(&mut *conn)
            .await;
            let row = match row {
                Err(e) if is_foreign_key_violation(&e) => return Ok(InsertProfile::NoUser),
                other => other?,
            };
            Ok(
                match (
                    row.try_get::<bool, _>("inserted")?,
                    row.try_get::<bool, _>("has_user")?,
                ) {
                    (true, _) => InsertProfile::Inserted,
                    (false, true) => InsertProfile::AlreadyExists,
                    (false, false) => InsertProfile::NoUser,
                },
            )
        })
        .await
    }

    async fn replace_profile(
        &self,
        key: &str,
        expected_version: u64,
        profile: ProfileRecord,
    ) -> StoreResult<ReplaceProfile> {
        self.write("replacing a login profile", || {
            self.replace_profile_once(key, expected_version, &profile)
        })
        .await
    }

    async fn replace_profile_lazily(
        &self,
        key: &str,
        expected_version: u64,
        profile: ProfileRecord,
    ) -> StoreResult<ReplaceProfile> {
        // Committed like every write (synchronous_commit stays on): durable before it returns,
        // which is sooner than the trait asks.
        self.replace_profile(key, expected_version, profile).await
    }

    async fn delete_profile(&self, key: &str) -> StoreResult<DeleteProfile> {
        self.write("deleting a login profile", || async {
            let mut conn = self.conn().await?;
            let row = sqlx::query(
                "WITH deleted AS (DELETE FROM login_profiles WHERE user_key = $1 RETURNING 1) \
                 SELECT EXISTS (SELECT 1 FROM deleted) AS deleted, \
                   EXISTS (SELECT 1 FROM users WHERE user_key = $1) AS has_user",
            )
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
            Ok(
                match (
                    row.try_get::<bool, _>("deleted")?,
                    row.try_get::<bool, _>("has_user")?,
                ) {
                    (true, _) => DeleteProfile::Deleted,
                    (false, true) => DeleteProfile::NoProfile,
                    (false, false) => DeleteProfile::NoUser,
                },
            )
        })
        .await
    }

    async fn policy(&self) -> StoreResult<Option<PolicyRecord>> {
        self.read("reading the password policy", || async {
            let mut conn = self.conn().await?;
            let row = sqlx::query(&format!(
                "SELECT {POLICY_COLUMNS} FROM account_password_policy"
            ))
            .fetch_optional(&mut *conn)
            .await?;
            Ok(row.as_ref().map(rows::policy).transpose()?)
        })
        .await
    }

    async fn put_policy(&self, policy: PolicyRecord) -> StoreResult<()> {
        self.write("storing the password policy", || async {
            let mut conn = self.conn().await?;
            let upsert = format!(
                "INSERT INTO account_password_policy (singleton, {POLICY_COLUMNS}) \
                 VALUES (true, $1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (singleton) DO UPDATE SET \
                 minimum_password_length = excluded.minimum_password_length, \
                 require_symbols = excluded.require_symbols, \
                 require_numbers = excluded.require_numbers, \
                 require_uppercase_characters = excluded.require_uppercase_characters, \
                 require_lowercase_characters = excluded.require_lowercase_characters, \
                 allow_users_to_change_password = excluded.allow_users_to_change_password, \
                 max_password_age = excluded.max_password_age, \
                 password_reuse_prevention = excluded.password_reuse_prevention, \
                 hard_expiry = excluded.hard_expiry"
            );
            rows::bind_policy(sqlx::query(&upsert), &policy)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
        .await
    }

    async fn delete_policy(&self) -> StoreResult<bool> {
        self.write("deleting the password policy", || async {
            let mut conn = self.conn().await?;
            let deleted = sqlx::query("DELETE FROM account_password_policy")
                .execute(&mut *conn)
                .await?;
            Ok(deleted.rows_affected() > 0)
        })
        .await
    }

    async fn update_lockout(
        &self,
        key: &str,
        update: LockoutUpdate<'_>,
    ) -> StoreResult<(LockoutRecord, LockoutRecord)> {
        self.write("updating a lockout state", || {
            self.update_lockout_once(key, None, None, update)
        })
        .await
    }

    async fn settle_attempt(
        &self,
        key: &str,
        expected: &LockoutRecord,
        signed_in_at_ms: Option<i64>,
        update: LockoutUpdate<'_>,
    ) -> StoreResult<(LockoutRecord, LockoutRecord)> {
        // One statement on the common path: the lockout swap and the last-use stamp together.
        self.write("settling a sign-in attempt", || {
            self.update_lockout_once(key, Some(expected), signed_in_at_ms, update)
        })
        .await
    }

    async fn lockout(&self, key: &str) -> StoreResult<LockoutRecord> {
        self.read("reading a lockout state", || async {
            let mut conn = self.conn().await?;
            let row = sqlx::query(&format!(
                "SELECT {LOCKOUT_COLUMNS} FROM lockouts WHERE user_key = $1"
            ))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
            Ok(row
                .and_then(|row| rows::lockout(&row).ok())
                .unwrap_or_default())
        })
        .await
    }

    async fn prune_lockouts(&self, now_ms: i64, forget_before_ms: i64) -> StoreResult<usize> {
        self.write("pruning lockout states", || async {
            let mut conn = self.conn().await?;
            // One DELETE: a row updated meanwhile is checked again against the condition
            // (READ COMMITTED re-reads it) and kept if it no longer qualifies.
            let deleted = sqlx::query(
                "DELETE FROM lockouts WHERE locked_until_ms <= $1 AND last_failure_ms < $2 \
                 AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(in_flight) a \
                   WHERE (a->>'lease_until_ms')::bigint > $1)",
            )
            .bind(now_ms)
            .bind(forget_before_ms)
            .execute(&mut *conn)
            .await?;
            Ok(usize::try_from(deleted.rows_affected()).unwrap_or(usize::MAX))
        })
        .await
    }

    async fn flush(&self) -> StoreResult<()> {
        // Every write was committed before it returned.
        Ok(())
    }

    async fn read_all(
        &self,
        each: &mut (dyn FnMut(SnapshotEntry) -> anyhow::Result<()> + Send),
    ) -> StoreResult<Option<PolicyRecord>> {
        // Not retried: `each` has seen rows by the time anything fails.
        self.read_all_once(each)
            .await
            .map_err(|failure| failure.into_store_error("reading the whole store"))
    }

    async fn count_hash_identifiers(&self) -> StoreResult<BTreeMap<String, u64>> {
        self.read("counting password hashes by scheme", || {
            self.count_hash_identifiers_once()
        })
        .await
    }

    async fn import(&self, snapshot: Snapshot) -> StoreResult<Import> {
        self.write("importing a snapshot", || self.import_once(&snapshot))
            .await
    }

    async fn check(&self) -> StoreResult<()> {
        self.link.probe().await
    }
}
