//! [`Store::import`](crate::store::Store::import) on PostgreSQL: the whole snapshot in one
//! transaction, so no replica ever reads a part of it and a crash leaves nothing behind.

use base64::prelude::{BASE64_STANDARD, Engine as _};
use serde_json::{Value, json};

use super::{Failure, PgStore, rows};
use crate::store::{DeviceRecord, Import, PolicyRecord, Snapshot};

/// Rows sent per statement: large enough to load a million users in a minute or so, small
/// enough that one statement stays well inside the statement timeout.
const ROWS_PER_STATEMENT: usize = 2_000;

impl PgStore {
    pub(super) async fn import_once(&self, snapshot: &Snapshot) -> Result<Import, Failure> {
        let mut tx = self.begin().await?;
        // Conflicts with itself and with every write: a racing import, or a replica serving
        // meanwhile, waits here and then finds the store taken.
        sqlx::query(
            "LOCK TABLE users, login_profiles, mfa_devices, account_password_policy \
             IN SHARE ROW EXCLUSIVE MODE",
        )
        .execute(&mut *tx)
        .await?;
        let taken: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM login_profiles) \
             OR EXISTS (SELECT 1 FROM mfa_devices) \
             OR EXISTS (SELECT 1 FROM account_password_policy)",
        )
        .fetch_one(&mut *tx)
        .await?;
        if taken {
            return Ok(Import::NotEmpty);
        }
        for chunk in snapshot.users.chunks(ROWS_PER_STATEMENT) {
            let users: Vec<Value> = chunk
                .iter()
                .map(|entry| {
                    let user = &entry.user;
                    json!({
                        "user_key": entry.key,
                        "user_name": user.user_name,
                        "user_id": user.user_id,
                        "path": user.path,
                        "create_date_ms": user.create_date_ms,
                        "password_last_used_ms": user.password_last_used_ms,
                        "tags": rows::tags(user).0,
                    })
                })
                .collect();
            sqlx::query(
                "INSERT INTO users (user_key, user_name, user_id, path, create_date_ms, \
                 password_last_used_ms, tags) \
                 SELECT * FROM jsonb_to_recordset($1) AS r(user_key text, user_name text, \
                 user_id text, path text, create_date_ms bigint, password_last_used_ms bigint, \
                 tags jsonb)",
            )
            .bind(Value::Array(users))
            .execute(&mut *tx)
            .await?;
            let profiles: Vec<Value> = chunk
                .iter()
                .filter_map(|entry| {
                    let profile = entry.profile.as_ref()?;
                    Some(json!({
                        "user_key": entry.key,
                        "password_hash": profile.password_hash,
                        "create_date_ms": profile.create_date_ms,
                        "password_reset_required": profile.password_reset_required,
                        "password_set_ms": profile.password_set_ms,
                        "previous_hashes": profile.previous_hashes,
                        "version": profile.version,
                    }))
                })
                .collect();
            if profiles.is_empty() {
                continue;
            }
            sqlx::query(
                "INSERT INTO login_profiles (user_key, password_hash, create_date_ms, \
                 password_reset_required, password_set_ms, previous_hashes, version) \
                 SELECT * FROM jsonb_to_recordset($1) AS r(user_key text, password_hash text, \
                 create_date_ms bigint, password_reset_required boolean, password_set_ms bigint, \
                 previous_hashes text[], version bigint)",
            )
            .bind(Value::Array(profiles))
            .execute(&mut *tx)
            .await?;
        }
        // After every user: an assigned device's foreign key names one.
        for chunk in snapshot.devices.chunks(ROWS_PER_STATEMENT) {
            insert_devices(&mut tx, chunk).await?;
        }
        if let Some(policy) = &snapshot.policy {
            insert_policy(&mut tx, policy).await?;
        }
        tx.commit().await?;
        Ok(Import::Imported)
    }
}

/// The devices, each under its name in lower case; seeds travel as base64 inside the JSON.
async fn insert_devices(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    devices: &[DeviceRecord],
) -> Result<(), Failure> {
    let rows: Vec<Value> = devices
        .iter()
        .map(|device| {
            let seed = device.seed.as_ref();
            json!({
                "device_key": device.name.to_ascii_lowercase(),
                "user_key": device.user_key,
                "name": device.name,
                "path": device.path,
                "serial_number": device.serial_number,
                "create_date_ms": device.create_date_ms,
                "seed_key_id": seed.map(|s| &s.key_id),
                "seed_nonce": seed.map(|s| BASE64_STANDARD.encode(&s.nonce)),
                "seed_ciphertext": seed.map(|s| BASE64_STANDARD.encode(&s.ciphertext)),
                "tags": rows::tag_list(&device.tags).0,
                "enable_date_ms": device.enable_date_ms,
                "last_step": device.last_step,
                "drift_steps": device.drift_steps,
                "version": device.version,
            })
        })
        .collect();
    sqlx::query(
        "INSERT INTO mfa_devices (device_key, user_key, name, path, serial_number, \
         create_date_ms, seed_key_id, seed_nonce, seed_ciphertext, tags, enable_date_ms, \
         last_step, drift_steps, version) \
         SELECT device_key, user_key, name, path, serial_number, create_date_ms, seed_key_id, \
           decode(seed_nonce, 'base64'), decode(seed_ciphertext, 'base64'), tags, \
           enable_date_ms, last_step, drift_steps, version \
         FROM jsonb_to_recordset($1) AS r(device_key text, user_key text, name text, \
           path text, serial_number text, create_date_ms bigint, seed_key_id text, \
           seed_nonce text, seed_ciphertext text, tags jsonb, enable_date_ms bigint, \
           last_step bigint, drift_steps bigint, version bigint)",
    )
    .bind(Value::Array(rows))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_policy(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    policy: &PolicyRecord,
) -> Result<(), Failure> {
    let insert = format!(
        "INSERT INTO account_password_policy (singleton, {}) \
         VALUES (true, $1, $2, $3, $4, $5, $6, $7, $8, $9)",
        rows::POLICY_COLUMNS
    );
    rows::bind_policy(sqlx::query(&insert), policy)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
