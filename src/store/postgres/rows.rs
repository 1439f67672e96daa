//! Rows to records and back: the columns of each table, named once.

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use sqlx::{
    Postgres, Row as _,
    postgres::{PgArguments, PgRow},
    query::Query,
    types::Json,
};

use crate::store::{
    InFlightAttempt, LockoutRecord, PolicyRecord, ProfileRecord, TagRecord, UserRecord,
};

pub(super) const USER_COLUMNS: &str =
    "u.user_name, u.user_id, u.path, u.create_date_ms, u.password_last_used_ms, u.tags";
pub(super) const PROFILE_COLUMNS: &str = "p.password_hash, p.create_date_ms AS profile_create_date_ms, \
     p.password_reset_required, p.password_set_ms, p.previous_hashes, p.version";
pub(super) const POLICY_COLUMNS: &str = "minimum_password_length, require_symbols, \
     require_numbers, require_uppercase_characters, require_lowercase_characters, \
     allow_users_to_change_password, max_password_age, password_reuse_prevention, hard_expiry";
pub(super) const LOCKOUT_COLUMNS: &str =
    "consecutive_failures, locked_until_ms, last_failure_ms, in_flight";

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Tag {
    key: String,
    value: String,
}

pub(super) fn tags(user: &UserRecord) -> Json<Vec<Tag>> {
    tag_list(&user.tags)
}

/// Tags as their jsonb column holds them.
pub(super) fn tag_list(tags: &[TagRecord]) -> Json<Vec<Tag>> {
    Json(
        tags.iter()
            .map(|t| Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            })
            .collect(),
    )
}

/// The records of the tags in a row's jsonb column `column`.
pub(super) fn tag_records(row: &PgRow, column: &str) -> anyhow::Result<Vec<TagRecord>> {
    let Json(tags): Json<Vec<Tag>> = row.try_get(column)?;
    Ok(tags
        .into_iter()
        .map(|t| TagRecord {
            key: t.key,
            value: t.value,
        })
        .collect())
}

pub(super) fn user(row: &PgRow) -> anyhow::Result<UserRecord> {
    let Json(tags): Json<Vec<Tag>> = row.try_get("tags")?;
    Ok(UserRecord {
        user_name: row.try_get("user_name")?,
        user_id: row.try_get("user_id")?,
        path: row.try_get("path")?,
        create_date_ms: row.try_get("create_date_ms")?,
        password_last_used_ms: row.try_get("password_last_used_ms")?,
        tags: tags
            .into_iter()
            .map(|t| TagRecord {
                key: t.key,
                value: t.value,
            })
            .collect(),
    })
}

/// The profile of a row from a join with [`PROFILE_COLUMNS`]; None when the join found none.
pub(super) fn profile(row: &PgRow) -> anyhow::Result<Option<ProfileRecord>> {
    let Some(password_hash) = row.try_get::<Option<String>, _>("password_hash")? else {
        return Ok(None);
    };
    Ok(Some(ProfileRecord {
        password_hash,
        create_date_ms: row.try_get("profile_create_date_ms")?,
        password_reset_required: row.try_get("password_reset_required")?,
        password_set_ms: row.try_get("password_set_ms")?,
        previous_hashes: row.try_get("previous_hashes")?,
        version: u64::try_from(row.try_get::<i64, _>("version")?)
            .context("a stored profile version is negative")?,
    }))
}

pub(super) fn version(version: u64) -> anyhow::Result<i64> {
    i64::try_from(version).context("a record version past i64::MAX")
}

/// A version column read back.
pub(super) fn stored_version(version: i64) -> anyhow::Result<u64> {
    u64::try_from(version).context("a stored version is negative")
}

/// `query` with `policy` bound as $1 to $9, in the order of [`POLICY_COLUMNS`].
pub(super) fn bind_policy<'q>(
    query: Query<'q, Postgres, PgArguments>,
    policy: &PolicyRecord,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(i64::from(policy.minimum_password_length))
        .bind(policy.require_symbols)
        .bind(policy.require_numbers)
        .bind(policy.require_uppercase_characters)
        .bind(policy.require_lowercase_characters)
        .bind(policy.allow_users_to_change_password)
        .bind(policy.max_password_age.map(i64::from))
        .bind(policy.password_reuse_prevention.map(i64::from))
        .bind(policy.hard_expiry)
}

pub(super) fn policy(row: &PgRow) -> anyhow::Result<PolicyRecord> {
    let small = |column: &str| -> anyhow::Result<u32> {
        u32::try_from(row.try_get::<i64, _>(column)?)
            .with_context(|| format!("the stored policy's {column} is out of range"))
    };
    let optional = |column: &str| -> anyhow::Result<Option<u32>> {
        row.try_get::<Option<i64>, _>(column)?
            .map(u32::try_from)
            .transpose()
            .with_context(|| format!("the stored policy's {column} is out of range"))
    };
    Ok(PolicyRecord {
        minimum_password_length: small("minimum_password_length")?,
        require_symbols: row.try_get("require_symbols")?,
        require_numbers: row.try_get("require_numbers")?,
        require_uppercase_characters: row.try_get("require_uppercase_characters")?,
        require_lowercase_characters: row.try_get("require_lowercase_characters")?,
        allow_users_to_change_password: row.try_get("allow_users_to_change_password")?,
        max_password_age: optional("max_password_age")?,
        password_reuse_prevention: optional("password_reuse_prevention")?,
        hard_expiry: row.try_get("hard_expiry")?,
    })
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Attempt {
    id: u64,
    lease_until_ms: i64,
}

pub(super) fn in_flight(lockout: &LockoutRecord) -> Json<Vec<Attempt>> {
    Json(
        lockout
            .in_flight
            .iter()
            .map(|a| Attempt {
                id: a.id,
                lease_until_ms: a.lease_until_ms,
            })
            .collect(),
    )
}

pub(super) fn lockout(row: &PgRow) -> anyhow::Result<LockoutRecord> {
    let Json(in_flight): Json<Vec<Attempt>> = row.try_get("in_flight")?;
    Ok(LockoutRecord {
        consecutive_failures: u32::try_from(row.try_get::<i64, _>("consecutive_failures")?)
            .context("a stored failure count is out of range")?,
        locked_until_ms: row.try_get("locked_until_ms")?,
        last_failure_ms: row.try_get("last_failure_ms")?,
        in_flight: in_flight
            .into_iter()
            .map(|a| InFlightAttempt {
                id: a.id,
                lease_until_ms: a.lease_until_ms,
            })
            .collect(),
    })
}
