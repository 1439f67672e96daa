//! Lockout updates: compare-and-swap in autocommitted statements on the common path, the row
//! lock only when a racing update got in between.
//!
//! Every sign-in attempt updates its name's state twice (admission and settlement), so this is
//! the store's hottest write. Most names have no stored state, and the state a settlement finds
//! is usually the one its admission left: a guess that a single checked write confirms saves the
//! read, and a wrong guess costs one statement, never correctness.

use sqlx::{PgConnection, Row as _, postgres::PgRow};

use super::{Failure, LOCKOUT_COLUMNS, PgStore, rows, stamp_last_use};
use crate::store::{LockoutRecord, LockoutUpdate};

/// What a write expects the stored state to be.
enum Seen {
    /// No row: the default state.
    Absent,
    /// A row holding exactly these values.
    Row {
        consecutive_failures: i64,
        locked_until_ms: i64,
        last_failure_ms: i64,
        in_flight: serde_json::Value,
    },
}

impl Seen {
    fn guessed(state: &LockoutRecord) -> Result<Self, Failure> {
        if *state == LockoutRecord::default() {
            return Ok(Self::Absent);
        }
        Ok(Self::Row {
            consecutive_failures: i64::from(state.consecutive_failures),
            locked_until_ms: state.locked_until_ms,
            last_failure_ms: state.last_failure_ms,
            in_flight: serde_json::to_value(rows::in_flight(state).0)
                .map_err(anyhow::Error::from)?,
        })
    }

    /// The stored values themselves, so that a row whose state does not read can still be
    /// swapped.
    fn read(row: &PgRow) -> Result<Self, Failure> {
        Ok(Self::Row {
            consecutive_failures: row.try_get("consecutive_failures")?,
            locked_until_ms: row.try_get("locked_until_ms")?,
            last_failure_ms: row.try_get("last_failure_ms")?,
            in_flight: row.try_get("in_flight")?,
        })
    }
}

impl PgStore {
    /// One lockout update on one connection: compare-and-swap from `guess` (no guess: the name
    /// has no state), then from what is read, then under the row lock. `signed_in_at_ms` is
    /// stored as the user's last use with the state.
    pub(super) async fn update_lockout_once(
        &self,
        key: &str,
        guess: Option<&LockoutRecord>,
        signed_in_at_ms: Option<i64>,
        update: LockoutUpdate<'_>,
    ) -> Result<(LockoutRecord, LockoutRecord), Failure> {
        let mut conn = self.conn().await?;
        let unset = LockoutRecord::default();
        let guess = guess.unwrap_or(&unset);
        let guessed_after = update(guess);
        let seen = Seen::guessed(guess)?;
        // "No row and none to write" is only known after a read.
        let checkable = !matches!(seen, Seen::Absent) || guessed_after != unset;
        if checkable && swap(&mut conn, key, &seen, &guessed_after, signed_in_at_ms).await? {
            return Ok((guess.clone(), guessed_after));
        }

        let row = sqlx::query(&format!(
            "SELECT {LOCKOUT_COLUMNS} FROM lockouts WHERE user_key = $1"
        ))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        let (seen, before) = match &row {
            None => (Seen::Absent, unset),
            // A state that does not read counts as no failures rather than blocking sign-in.
            Some(row) => (Seen::read(row)?, rows::lockout(row).unwrap_or_default()),
        };
        let after = update(&before);
        if swap(&mut conn, key, &seen, &after, signed_in_at_ms).await? {
            return Ok((before, after));
        }
        locked(&mut conn, key, signed_in_at_ms, update).await
    }
}

/// Writes `after` where the row still holds `seen`, in one autocommitted statement that also
/// stamps the sign-in when there is one; false (and nothing written) when the row holds
/// something else.
async fn swap(
    conn: &mut PgConnection,
    key: &str,
    seen: &Seen,
    after: &LockoutRecord,
    signed_in_at_ms: Option<i64>,
) -> Result<bool, Failure> {
    // $1 the key, $2 the sign-in, $3-$6 the new state, $7-$10 the state seen. The stamp
    // depends on the swap, so a swap that missed (and is retried) stamps nothing.
    let stamped = |write: String| {
        format!(
            "WITH swapped AS ({write} RETURNING 1), \
             stamped AS (UPDATE users SET password_last_used_ms = $2 WHERE user_key = $1 \
               AND $2::bigint IS NOT NULL AND EXISTS (SELECT 1 FROM swapped)) \
             SELECT count(*) AS swapped FROM swapped"
        )
    };
    let unchanged = "user_key = $1 AND consecutive_failures = $7 AND locked_until_ms = $8 \
                     AND last_failure_ms = $9 AND in_flight = $10";
    let unset = *after == LockoutRecord::default();
    let statement = match seen {
        Seen::Absent if unset => {
            if let Some(at_ms) = signed_in_at_ms {
                stamp_last_use(conn, key, at_ms).await?;
            }
            return Ok(true);
        }
        Seen::Absent => stamped(
            "INSERT INTO lockouts (user_key, consecutive_failures, locked_until_ms, \
             last_failure_ms, in_flight) VALUES ($1, $3, $4, $5, $6) \
             ON CONFLICT (user_key) DO NOTHING"
                .to_owned(),
        ),
        Seen::Row { .. } if unset => stamped(format!("DELETE FROM lockouts WHERE {unchanged}")),
        Seen::Row { .. } => stamped(format!(
            "UPDATE lockouts SET consecutive_failures = $3, locked_until_ms = $4, \
             last_failure_ms = $5, in_flight = $6 WHERE {unchanged}"
        )),
    };
    let mut query = sqlx::query(&statement)
        .bind(key)
        .bind(signed_in_at_ms)
        .bind(i64::from(after.consecutive_failures))
        .bind(after.locked_until_ms)
        .bind(after.last_failure_ms)
        .bind(rows::in_flight(after));
    if let Seen::Row {
        consecutive_failures,
        locked_until_ms,
        last_failure_ms,
        in_flight,
    } = seen
    {
        query = query
            .bind(*consecutive_failures)
            .bind(*locked_until_ms)
            .bind(*last_failure_ms)
            .bind(in_flight);
    }
    let swapped: i64 = query.fetch_one(&mut *conn).await?.try_get("swapped")?;
    Ok(swapped == 1)
}

/// The update under the row lock, in a transaction: for when racing updates keep changing the
/// row between a read and a swap.
async fn locked(
    conn: &mut PgConnection,
    key: &str,
    signed_in_at_ms: Option<i64>,
    update: LockoutUpdate<'_>,
) -> Result<(LockoutRecord, LockoutRecord), Failure> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    // Insert-or-lock in one statement: the row exists and is ours until the commit.
    let row = sqlx::query(&format!(
        "INSERT INTO lockouts (user_key) VALUES ($1) \
         ON CONFLICT (user_key) DO UPDATE SET user_key = excluded.user_key \
         RETURNING {LOCKOUT_COLUMNS}"
    ))
    .bind(key)
    .fetch_one(&mut *tx)
    .await?;
    let before = rows::lockout(&row).unwrap_or_default();
    let after = update(&before);
    // The row is locked, so it still holds what was read and the swap lands.
    let seen = Seen::read(&row)?;
    if !swap(&mut tx, key, &seen, &after, signed_in_at_ms).await? {
        return Err(anyhow::anyhow!("a locked lockout row changed under its lock").into());
    }
    tx.commit().await?;
    Ok((before, after))
}
