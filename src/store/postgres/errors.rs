//! What a failed statement means: the database unreachable, a conflict worth retrying, a
//! constraint that answers the caller, or a fault.

use std::{future::Future, time::Duration};

use rand::Rng as _;

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

/// Serialization failure (40001) or deadlock (40P01): the same operation may succeed if tried
/// again.
fn is_retryable(error: &sqlx::Error) -> bool {
    matches!(code(error).as_deref(), Some("40001" | "40P01"))
}

/// True when the error means the database cannot be reached or is going away, rather than that
/// it refused this operation: no connection could be had in time, the connection broke, or the
/// server is shutting down or not accepting connections.
pub(super) fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(_) => code(error).is_some_and(|code| {
            // 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect now;
            // 53300: too many connections. (Refusals while connecting, such as a database
            // that no longer allows connections, come through `acquire_error`.)
            code.starts_with("08") || matches!(code.as_str(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// Turns a driver error into a store error, marking those that mean "unreachable".
pub(super) fn store_error(error: sqlx::Error, what: &'static str) -> anyhow::Error {
    if is_unreachable(&error) {
        anyhow::Error::new(error).context(what).context(Unavailable)
    } else {
        anyhow::Error::new(error).context(what)
    }
}

/// A failure to get a connection: always "unreachable".
pub(super) fn acquire_error(error: sqlx::Error) -> anyhow::Error {
    anyhow::Error::new(error)
        .context("getting a database connection")
        .context(Unavailable)
}

/// Runs `op` until it succeeds or fails with something other than a serialization failure or a
/// deadlock, at most [`ATTEMPTS`] times, pausing a jittered, growing time between attempts.
pub(super) async fn retrying<T, F, Fut>(what: &'static str, mut op: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut pause = BACKOFF;
    for attempt in 1.. {
        match op().await {
            Ok(value) => return Ok(value),
            Err(Failure::Sql(error)) if is_retryable(&error) && attempt < ATTEMPTS => {
                tracing::debug!(
                    what,
                    attempt,
                    "retrying after a serialization failure or deadlock"
                );
                let jitter = rand::rng().random_range(0..=pause.as_micros() as u64);
                tokio::time::sleep(pause + Duration::from_micros(jitter)).await;
                pause *= 2;
            }
            Err(Failure::Sql(error)) if is_retryable(&error) => {
                return Err(store_error(error, what)
                    .context(format!("still conflicting after {ATTEMPTS} attempts")));
            }
            Err(failure) => return Err(failure.into_store_error(what)),
        }
    }
    unreachable!("the loop returns")
}

/// Why one attempt failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// No connection could be had.
    Acquire(sqlx::Error),
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
            Self::Other(error) => error.context(what),
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
mod tests {
    use super::*;

    #[test]
    fn unreachable_errors_are_marked_and_others_are_not() {
        let timed_out = store_error(sqlx::Error::PoolTimedOut, "reading a user");
        assert!(timed_out.downcast_ref::<Unavailable>().is_some());
        let reset = store_error(
            sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()),
            "reading a user",
        );
        assert!(reset.downcast_ref::<Unavailable>().is_some());
        let decode = store_error(sqlx::Error::RowNotFound, "reading a user");
        assert!(decode.downcast_ref::<Unavailable>().is_none());
        // Context added on top keeps the mark findable.
        let wrapped = timed_out.context("more context");
        assert!(wrapped.downcast_ref::<Unavailable>().is_some());
    }

    /// A database error with a given SQLSTATE, as the driver would hand it over.
    #[derive(Debug, thiserror::Error)]
    #[error("simulated database error {0}")]
    struct Coded(&'static str);

    impl sqlx::error::DatabaseError for Coded {
        fn message(&self) -> &str {
            "simulated"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn coded(code: &'static str) -> Failure {
        Failure::Sql(sqlx::Error::Database(Box::new(Coded(code))))
    }

    #[tokio::test]
    async fn deadlocks_and_serialization_failures_are_retried_then_given_up() {
        for code in ["40001", "40P01"] {
            // Two conflicts, then success: the caller sees only the success.
            let mut calls = 0;
            let result = retrying("x", || {
                calls += 1;
                let outcome = if calls <= 2 {
                    Err(coded(code))
                } else {
                    Ok(calls)
                };
                async move { outcome }
            })
            .await;
            assert_eq!(result.unwrap(), 3);
            // Always conflicting: a bounded number of attempts, then an error that is not
            // "unavailable" (ServiceFailure).
            let mut calls = 0;
            let result: StoreResult<()> = retrying("x", || {
                calls += 1;
                async { Err(coded(code)) }
            })
            .await;
            let error = result.unwrap_err();
            assert_eq!(calls, ATTEMPTS);
            assert!(error.downcast_ref::<Unavailable>().is_none());
            assert!(
                format!("{error:#}").contains("still conflicting"),
                "{error:#}"
            );
        }
    }

    #[tokio::test]
    async fn a_server_shutting_down_is_unavailable_and_a_constraint_is_not() {
        let shutdown: StoreResult<()> = retrying("x", || async { Err(coded("57P01")) }).await;
        assert!(
            shutdown
                .unwrap_err()
                .downcast_ref::<Unavailable>()
                .is_some()
        );
        let unique: StoreResult<()> = retrying("x", || async { Err(coded("23505")) }).await;
        assert!(unique.unwrap_err().downcast_ref::<Unavailable>().is_none());
    }

    #[tokio::test]
    async fn a_non_retryable_failure_is_not_retried() {
        let mut calls = 0;
        let result: StoreResult<()> = retrying("x", || {
            calls += 1;
            async { Err(Failure::Sql(sqlx::Error::RowNotFound)) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }
}
