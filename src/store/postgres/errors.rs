//! What a failed statement means, decided here once: a conflict worth retrying, a constraint
//! that answers the caller, a transient fault of the database (UNAVAILABLE: retry later), or a
//! bug (INTERNAL). Also which faults leave the connection unusable, and which calls are tried
//! again.

use std::{future::Future, time::Duration};

use rand::Rng as _;

use super::link::Link;
use crate::store::{StoreResult, Unavailable};

/// Attempts of one operation that hit a serialization failure or a deadlock.
const ATTEMPTS: u32 = 5;
/// The first pause before a retry; it doubles with each attempt, jittered.
const BACKOFF: Duration = Duration::from_millis(5);

/// The SQLSTATE, owned (some drivers hand it out as an owned string).
fn code(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// A unique violation (23505), e.g. a key already taken.
pub(super) fn is_unique_violation(error: &sqlx::Error) -> bool {
    code(error).as_deref() == Some("23505")
}

/// A foreign-key violation (23503): a profile without its user.
pub(super) fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    code(error).as_deref() == Some("23503")
}

/// A foreign-key violation of an MFA device's user (deleting a user that has one).
pub(super) fn violates_device_key(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if db.constraint() == Some("mfa_devices_user_key_fkey"))
}

/// What a driver error says about the database, from the caller's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Serialization failure (40001) or deadlock (40P01): the same operation may succeed if
    /// tried again at once; past the bounded retries, transient.
    Conflict,
    /// The connection is gone or the server is going away (I/O and TLS errors, SQLSTATE class
    /// 08, 57P01-57P03): whether a write in flight committed cannot be known.
    ConnectionLost,
    /// The session is read-only (25006): a primary demoted by a failover, or a database set
    /// read-only. The statement was refused, so nothing was written.
    ReadOnly,
    /// The database is there but could not do it now: statement or lock timeout (57014,
    /// 55P03), too many connections or other exhausted resources (class 53), no free pooled
    /// connection in time.
    Busy,
    /// Anything else: a bug (ours, or a schema not as expected).
    Bug,
}

impl Fault {
    /// Classifies a driver error.
    pub fn of(error: &sqlx::Error) -> Self {
        match error {
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => {
                Self::ConnectionLost
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => Self::Busy,
            sqlx::Error::Database(_) => match code(error).as_deref() {
                Some("40001" | "40P01") => Self::Conflict,
                Some("25006") => Self::ReadOnly,
                Some("57P01" | "57P02" | "57P03") => Self::ConnectionLost,
                Some(code) if code.starts_with("08") => Self::ConnectionLost,
                Some("57014" | "55P03") => Self::Busy,
                Some(code) if code.starts_with("53") => Self::Busy,
                _ => Self::Bug,
            },
            _ => Self::Bug,
        }
    }

    /// True for every fault but a bug: the caller may retry later.
    pub fn is_transient(self) -> bool {
        self != Self::Bug
    }
}

/// Turns a driver error into a store error, marking the transient ones [`Unavailable`].
pub(super) fn store_error(error: sqlx::Error, what: &'static str) -> anyhow::Error {
    if Fault::of(&error).is_transient() {
        anyhow::Error::new(error).context(what).context(Unavailable)
    } else {
        anyhow::Error::new(error).context(what)
    }
}

/// A failure to get a connection: always transient.
pub(super) fn acquire_error(error: sqlx::Error) -> anyhow::Error {
    anyhow::Error::new(error)
        .context("getting a database connection")
        .context(Unavailable)
}

/// Whether an operation may be run again after its outcome became unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Idempotence {
    /// A read: tried once more, on a fresh connection, after a lost connection.
    Read,
    /// A write: never tried again once it may have reached the database (the commit may have
    /// happened); only after a refusal that says nothing was written (read-only, a conflict).
    Write,
}

/// Runs `op` until it succeeds or fails for good: serialization failures and deadlocks are
/// retried at most [`ATTEMPTS`] times with a jittered, growing pause; a read-only answer (any
/// operation) or a lost connection (reads only) once, on a fresh connection. Connections that
/// answered read-only or were lost are not used again.
pub(super) async fn retrying<T, F, Fut>(
    link: &Link,
    idempotence: Idempotence,
    what: &'static str,
    mut op: F,
) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut pause = BACKOFF;
    let mut fresh_retry_left = true;
    for attempt in 1.. {
        let error = match op().await {
            Ok(value) => return Ok(value),
            Err(Failure::Sql(error)) => error,
            Err(Failure::Acquire(error)) => {
                if matches!(error, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) {
                    // Perhaps only a busy pool; the next call finds out with one connection.
                    link.suspect();
                }
                return Err(acquire_error(error));
            }
            Err(failure) => return Err(failure.into_store_error(what)),
        };
        let fault = Fault::of(&error);
        let again = match fault {
            Fault::Conflict if attempt < ATTEMPTS => {
                tracing::debug!(
                    what,
                    attempt,
                    "retrying after a serialization failure or deadlock"
                );
                let jitter = rand::rng().random_range(0..=pause.as_micros() as u64);
                tokio::time::sleep(pause + Duration::from_micros(jitter)).await;
                pause *= 2;
                true
            }
            Fault::Conflict => {
                return Err(store_error(error, what)
                    .context(format!("still conflicting after {ATTEMPTS} attempts")));
            }
            Fault::ReadOnly => {
                link.distrust_existing();
                std::mem::take(&mut fresh_retry_left)
            }
            Fault::ConnectionLost => {
                link.lost();
                idempotence == Idempotence::Read && std::mem::take(&mut fresh_retry_left)
            }
            Fault::Busy | Fault::Bug => false,
        };
        if !again {
            return Err(store_error(error, what));
        }
        if fault != Fault::Conflict {
            tracing::debug!(what, ?fault, "trying once more on a fresh connection");
        }
    }
    unreachable!("the loop returns")
}

/// Why one attempt failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// No connection could be had.
    Acquire(sqlx::Error),
    /// The database is known to be down and did not come back (already marked Unavailable).
    Down(anyhow::Error),
    /// A statement failed.
    Sql(sqlx::Error),
    /// A stored row could not be read back as a record.
    Other(anyhow::Error),
}

impl Failure {
    /// The store error this failure is, for `what` the caller was doing.
    pub(super) fn into_store_error(self, what: &'static str) -> anyhow::Error {
        match self {
            Self::Sql(error) => store_error(error, what),
            Self::Acquire(error) => acquire_error(error),
            Self::Down(error) | Self::Other(error) => error.context(what),
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self::Sql(error)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::Other(error)
    }
}

#[cfg(test)]
mod tests;
