//! Virtual MFA devices on PostgreSQL: one row per device in `mfa_devices`, its record's fields as
//! columns. The foreign key keeps an assigned device with its user and moves it with a rename;
//! the per-user limit is counted under a lock on the user's row, so racing enables of different
//! devices for one user are taken one at a time.

use sqlx::{
    Postgres, Row as _,
    postgres::{PgArguments, PgRow},
    query::Query,
};

use super::{Failure, PgStore, rows};
use crate::store::{
    Assignment, DEVICES_PER_USER, DeleteDevice, DevicePage, DeviceRecord, InsertDevice,
    ReplaceDevice, SealedSeedRecord,
};

/// What a device read selects, from `mfa_devices d`.
pub(super) const DEVICE_COLUMNS: &str = "d.device_key, d.user_key, d.name, d.path, \
     d.serial_number, d.create_date_ms, d.seed_key_id, d.seed_nonce, d.seed_ciphertext, d.tags, \
     d.enable_date_ms, d.last_step, d.drift_steps, d.version";
/// Every column but the key, in the order [`bind_device`] binds them from $2.
const WRITTEN_COLUMNS: &str = "user_key, name, path, serial_number, create_date_ms, \
     seed_key_id, seed_nonce, seed_ciphertext, tags, enable_date_ms, last_step, drift_steps, \
     version";
const WRITTEN_VALUES: &str = "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14";

/// `query` with `key` bound as $1 and `device` as $2 to $14, in the order of
/// [`WRITTEN_COLUMNS`].
fn bind_device<'q>(
    query: Query<'q, Postgres, PgArguments>,
    key: &'q str,
    device: &'q DeviceRecord,
) -> anyhow::Result<Query<'q, Postgres, PgArguments>> {
    let seed = device.seed.as_ref();
    Ok(query
        .bind(key)
        .bind(device.user_key.as_deref())
        .bind(&device.name)
        .bind(&device.path)
        .bind(&device.serial_number)
        .bind(device.create_date_ms)
        .bind(seed.map(|s| s.key_id.as_str()))
        .bind(seed.map(|s| s.nonce.as_slice()))
        .bind(seed.map(|s| s.ciphertext.as_slice()))
        .bind(rows::tag_list(&device.tags))
        .bind(device.enable_date_ms)
        .bind(device.last_step)
        .bind(device.drift_steps)
        .bind(rows::version(device.version)?))
}

/// The record of a row with [`DEVICE_COLUMNS`].
pub(super) fn device(row: &PgRow) -> anyhow::Result<DeviceRecord> {
    let seed = match row.try_get::<Option<String>, _>("seed_key_id")? {
        Some(key_id) => Some(SealedSeedRecord {
            key_id,
            nonce: row.try_get("seed_nonce")?,
            ciphertext: row.try_get("seed_ciphertext")?,
        }),
        None => None,
    };
    Ok(DeviceRecord {
        name: row.try_get("name")?,
        path: row.try_get("path")?,
        serial_number: row.try_get("serial_number")?,
        create_date_ms: row.try_get("create_date_ms")?,
        seed,
        tags: rows::tag_records(row, "tags")?,
        user_key: row.try_get("user_key")?,
        enable_date_ms: row.try_get("enable_date_ms")?,
        last_step: row.try_get("last_step")?,
        drift_steps: row.try_get("drift_steps")?,
        version: rows::stored_version(row.try_get("version")?)?,
    })
}

impl PgStore {
    pub(super) async fn insert_device_once(
        &self,
        key: &str,
        device: &DeviceRecord,
    ) -> Result<InsertDevice, Failure> {
        if device.user_key.is_some() {
            return Err(Failure::Other(anyhow::anyhow!(
                "a new MFA device must be unassigned (replace_device assigns it)"
            )));
        }
        let mut conn = self.conn().await?;
        // The primary key decides between racing inserts of one name, in any process.
        let insert = format!(
            "INSERT INTO mfa_devices (device_key, {WRITTEN_COLUMNS}) \
             VALUES ($1, {WRITTEN_VALUES}) ON CONFLICT (device_key) DO NOTHING"
        );
        let inserted = bind_device(sqlx::query(&insert), key, device)?
            .execute(&mut *conn)
            .await?;
        Ok(if inserted.rows_affected() == 1 {
            InsertDevice::Inserted
        } else {
            InsertDevice::AlreadyExists
        })
    }

    pub(super) async fn device_once(&self, key: &str) -> Result<Option<DeviceRecord>, Failure> {
        let mut conn = self.conn().await?;
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM mfa_devices d WHERE d.device_key = $1"
        ))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.as_ref().map(device).transpose()?)
    }

    pub(super) async fn user_devices_once(
        &self,
        user_key: &str,
    ) -> Result<Vec<DeviceRecord>, Failure> {
        let mut conn = self.conn().await?;
        let found = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM mfa_devices d WHERE d.user_key = $1 \
             ORDER BY d.device_key"
        ))
        .bind(user_key)
        .fetch_all(&mut *conn)
        .await?;
        Ok(found.iter().map(device).collect::<anyhow::Result<_>>()?)
    }

    pub(super) async fn list_devices_once(
        &self,
        assignment: Assignment,
        after: Option<&str>,
        limit: usize,
    ) -> Result<DevicePage, Failure> {
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let (assigned, unassigned) = match assignment {
            Assignment::Assigned => (true, false),
            Assignment::Unassigned => (false, true),
            Assignment::Any => (true, true),
        };
        let mut conn = self.conn().await?;
        let found = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM mfa_devices d \
             WHERE ($1::text IS NULL OR d.device_key > $1) \
             AND ((d.user_key IS NOT NULL AND $2) OR (d.user_key IS NULL AND $3)) \
             ORDER BY d.device_key LIMIT $4"
        ))
        .bind(after)
        .bind(assigned)
        .bind(unassigned)
        .bind(fetch)
        .fetch_all(&mut *conn)
        .await?;
        let more = found.len() > limit;
        let mut devices = Vec::with_capacity(found.len().min(limit));
        let mut last_key = None;
        for row in found.iter().take(limit) {
            devices.push(device(row)?);
            last_key = Some(row.try_get::<String, _>("device_key")?);
        }
        Ok(DevicePage {
            devices,
            next_after: if more { last_key } else { None },
        })
    }

    /// One transaction: the device's row is locked for the version check, and a new user's
    /// row for the count, so that of racing replacements one wins and racing enables for one
    /// user are counted one after the other.
    pub(super) async fn replace_device_once(
        &self,
        key: &str,
        expected_version: u64,
        new: &DeviceRecord,
    ) -> Result<ReplaceDevice, Failure> {
        let mut tx = self.begin().await?;
        let stored = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM mfa_devices d WHERE d.device_key = $1 FOR UPDATE"
        ))
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(stored) = stored else {
            return Ok(ReplaceDevice::NoDevice);
        };
        let stored = device(&stored)?;
        if stored.version != expected_version {
            return Ok(ReplaceDevice::Stale);
        }
        if let Some(user_key) = &new.user_key
            && stored.user_key.as_ref() != Some(user_key)
        {
            // NO KEY UPDATE: taken one at a time by enables for this user, and by a rename
            // or deletion of it, but not by a profile's foreign-key check.
            let user = sqlx::query("SELECT 1 FROM users WHERE user_key = $1 FOR NO KEY UPDATE")
                .bind(user_key)
                .fetch_optional(&mut *tx)
                .await?;
            if user.is_none() {
                return Ok(ReplaceDevice::NoUser);
            }
            let enabled: i64 =
                sqlx::query_scalar("SELECT count(*) FROM mfa_devices WHERE user_key = $1")
                    .bind(user_key)
                    .fetch_one(&mut *tx)
                    .await?;
            if usize::try_from(enabled).unwrap_or(usize::MAX) >= DEVICES_PER_USER {
                return Ok(ReplaceDevice::LimitExceeded);
            }
        }
        let update = format!(
            "UPDATE mfa_devices SET ({WRITTEN_COLUMNS}) = ({WRITTEN_VALUES}) \
             WHERE device_key = $1"
        );
        bind_device(sqlx::query(&update), key, new)?
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ReplaceDevice::Replaced)
    }

    pub(super) async fn delete_device_once(&self, key: &str) -> Result<DeleteDevice, Failure> {
        let mut conn = self.conn().await?;
        // One statement: an enable committed meanwhile is seen by the re-check of user_key.
        let row = sqlx::query(
            "WITH deleted AS ( \
               DELETE FROM mfa_devices WHERE device_key = $1 AND user_key IS NULL RETURNING 1) \
             SELECT EXISTS (SELECT 1 FROM deleted) AS deleted, \
               EXISTS (SELECT 1 FROM mfa_devices WHERE device_key = $1) AS has_device",
        )
        .bind(key)
        .fetch_one(&mut *conn)
        .await?;
        Ok(
            match (
                row.try_get::<bool, _>("deleted")?,
                row.try_get::<bool, _>("has_device")?,
            ) {
                (true, _) => DeleteDevice::Deleted,
                (false, true) => DeleteDevice::Assigned,
                (false, false) => DeleteDevice::NoDevice,
            },
        )
    }
}
