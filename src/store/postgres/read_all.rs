//! The whole store in one consistent view, for `loginprofiled export` while replicas serve.

use std::collections::BTreeMap;

use sqlx::Row as _;
use tokio_stream::StreamExt as _;

use super::{
    Failure, POLICY_COLUMNS, PROFILE_COLUMNS, PgStore, PolicyRecord, USER_COLUMNS,
    devices::{self, DEVICE_COLUMNS},
    rows,
};
use crate::store::{SnapshotEntry, SnapshotUser};

impl PgStore {
    /// Every user with its profile, then every MFA device, then the policy, in one read-only
    /// REPEATABLE READ transaction: a user renamed or created during the export is in it once
    /// or not at all, never half, and every assigned device names a user that is in it.
    pub(super) async fn read_all_once(
        &self,
        each: &mut (dyn FnMut(SnapshotEntry) -> anyhow::Result<()> + Send),
    ) -> Result<Option<PolicyRecord>, Failure> {
        let mut tx = self.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        // One statement streams every row: the service's statement timeout would cut it short.
        sqlx::query("SET LOCAL statement_timeout = 0")
            .execute(&mut *tx)
            .await?;
        let everyone = format!(
            "SELECT u.user_key, {USER_COLUMNS}, {PROFILE_COLUMNS} FROM users u \
             LEFT JOIN login_profiles p ON p.user_key = u.user_key ORDER BY u.user_key"
        );
        {
            let mut found = sqlx::query(&everyone).fetch(&mut *tx);
            while let Some(row) = found.next().await {
                let row = row?;
                each(SnapshotEntry::User(SnapshotUser {
                    key: row.try_get("user_key")?,
                    user: rows::user(&row)?,
                    profile: rows::profile(&row)?,
                }))?;
            }
        }
        {
            let every_device =
                format!("SELECT {DEVICE_COLUMNS} FROM mfa_devices d ORDER BY d.device_key");
            let mut found = sqlx::query(&every_device).fetch(&mut *tx);
            while let Some(row) = found.next().await {
                each(SnapshotEntry::Device(devices::device(&row?)?))?;
            }
        }
        let policy = sqlx::query(&format!(
            "SELECT {POLICY_COLUMNS} FROM account_password_policy"
        ))
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(rows::policy)
        .transpose()?;
        tx.commit().await?;
        Ok(policy)
    }

    /// `Store::count_hash_identifiers` where the rows are: one scan, no hash leaves the server.
    pub(super) async fn count_hash_identifiers_once(
        &self,
    ) -> Result<BTreeMap<String, u64>, Failure> {
        let mut conn = self.conn().await?;
        // `crate::store::hash_identifier`, in SQL.
        let rows = sqlx::query(
            "SELECT CASE WHEN left(password_hash, 1) = '$' \
                    THEN split_part(password_hash, '$', 2) \
                    ELSE split_part(password_hash, '$', 1) END AS identifier, \
                    count(*) AS profiles \
             FROM login_profiles GROUP BY 1",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut counts = BTreeMap::new();
        for row in rows {
            let profiles: i64 = row.try_get("profiles")?;
            counts.insert(row.try_get("identifier")?, profiles.unsigned_abs());
        }
        Ok(counts)
    }
}
