use super::*;
use crate::store::postgres::{DatabaseUrl, PgConfig};

/// A link to a database nobody listens for; these tests never connect.
fn link() -> Link {
    Link::new(PgConfig {
        url: DatabaseUrl::parse("postgres://nobody@127.0.0.1:1/none").unwrap(),
        max_connections: 1,
        connect_timeout: Duration::from_millis(50),
        statement_timeout: Duration::from_secs(1),
        schema: "loginprofiled".to_owned(),
    })
}

#[test]
fn transient_errors_are_marked_and_others_are_not() {
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

/// Runs an operation failing with `code` every time; the error and the number of attempts.
async fn always(idempotence: Idempotence, code: &'static str) -> (anyhow::Error, u32) {
    let mut calls = 0;
    let result: StoreResult<()> = retrying(&link(), idempotence, "x", || {
        calls += 1;
        async { Err(coded(code)) }
    })
    .await;
    (result.unwrap_err(), calls)
}

#[tokio::test]
async fn deadlocks_and_serialization_failures_are_retried_then_unavailable() {
    for code in ["40001", "40P01"] {
        // Two conflicts, then success: the caller sees only the success.
        let mut calls = 0;
        let result = retrying(&link(), Idempotence::Write, "x", || {
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
        // Always conflicting: a bounded number of attempts, then a transient error.
        let (error, calls) = always(Idempotence::Write, code).await;
        assert_eq!(calls, ATTEMPTS);
        assert!(error.downcast_ref::<Unavailable>().is_some());
        assert!(
            format!("{error:#}").contains("still conflicting"),
            "{error:#}"
        );
    }
}

#[tokio::test]
async fn a_lost_connection_retries_a_read_once_and_never_a_write() {
    for code in ["57P01", "08006"] {
        let (error, calls) = always(Idempotence::Read, code).await;
        assert_eq!(calls, 2, "{code}");
        assert!(error.downcast_ref::<Unavailable>().is_some());
        let (error, calls) = always(Idempotence::Write, code).await;
        assert_eq!(calls, 1, "{code}");
        assert!(error.downcast_ref::<Unavailable>().is_some());
    }
}

#[tokio::test]
async fn a_read_only_refusal_is_tried_once_more_for_reads_and_writes() {
    for idempotence in [Idempotence::Read, Idempotence::Write] {
        let (error, calls) = always(idempotence, "25006").await;
        assert_eq!(calls, 2);
        assert!(error.downcast_ref::<Unavailable>().is_some());
    }
}

#[tokio::test]
async fn timeouts_and_exhaustion_are_unavailable_at_once_and_a_bug_is_not() {
    for code in ["57014", "55P03", "53300", "53100"] {
        let (error, calls) = always(Idempotence::Read, code).await;
        assert_eq!(calls, 1, "{code}");
        assert!(error.downcast_ref::<Unavailable>().is_some(), "{code}");
    }
    for code in ["23505", "42P01", "22P02"] {
        let (error, calls) = always(Idempotence::Read, code).await;
        assert_eq!(calls, 1, "{code}");
        assert!(error.downcast_ref::<Unavailable>().is_none(), "{code}");
    }
}
