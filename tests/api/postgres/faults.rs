//! Faults of a live database, each provoked for real on the test's own database: the SQLSTATE
//! the server sends is classified as transient or a bug, a read-only database turns health
//! NOT_SERVING and back without a restart, and killed backends cost no read.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use loginprofiled::{grpc::proto::GetUserRequest, store::Fault};
use sqlx::{Connection as _, PgConnection};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt as _;

use super::{
    not_on_postgres,
    outage::{create, health, wait_for_health},
};
use crate::helpers::{TestDb, admin, reason, start, test_config};

async fn connect(db: &TestDb) -> PgConnection {
    PgConnection::connect(&db.url).await.unwrap()
}

/// The error `sql` fails with on `conn`; panics if it succeeds.
async fn failing(conn: &mut PgConnection, sql: &str) -> sqlx::Error {
    match sqlx::query(sql).execute(&mut *conn).await {
        Ok(_) => panic!("{sql} succeeded"),
        Err(error) => error,
    }
}

async fn run(conn: &mut PgConnection, sql: &str) {
    sqlx::query(sql).execute(&mut *conn).await.unwrap();
}

#[tokio::test]
async fn the_sqlstates_a_real_server_sends_are_classified_as_what_they_are() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    let mut a = connect(&db).await;
    let mut b = connect(&db).await;
    run(&mut a, "CREATE TABLE t (id int PRIMARY KEY, n int)").await;
    run(&mut a, "INSERT INTO t VALUES (1, 0), (2, 0)").await;
    let mut seen = Vec::new();

    // 25006: a write in a read-only transaction (what a demoted primary answers).
    run(&mut a, "BEGIN READ ONLY").await;
    seen.push(("25006", failing(&mut a, "UPDATE t SET n = 1").await));
    run(&mut a, "ROLLBACK").await;

    // 57014: the statement timeout.
    run(&mut a, "SET statement_timeout = '50ms'").await;
    seen.push(("57014", failing(&mut a, "SELECT pg_sleep(2)").await));
    run(&mut a, "RESET statement_timeout").await;

    // 55P03: a lock not had within lock_timeout.
    run(&mut b, "BEGIN").await;
    run(&mut b, "SELECT 1 FROM t WHERE id = 1 FOR UPDATE").await;
    run(&mut a, "SET lock_timeout = '50ms'").await;
    seen.push((
        "55P03",
        failing(&mut a, "UPDATE t SET n = 2 WHERE id = 1").await,
    ));
    run(&mut a, "RESET lock_timeout").await;
    run(&mut b, "ROLLBACK").await;

    // 40001: two serializable transactions writing what the other read.
    run(&mut a, "BEGIN ISOLATION LEVEL SERIALIZABLE").await;
    run(&mut b, "BEGIN ISOLATION LEVEL SERIALIZABLE").await;
    run(&mut a, "SELECT sum(n) FROM t").await;
    run(&mut b, "SELECT sum(n) FROM t").await;
    run(&mut a, "UPDATE t SET n = n + 1 WHERE id = 1").await;
    run(&mut b, "UPDATE t SET n = n + 1 WHERE id = 2").await;
    run(&mut a, "COMMIT").await;
    seen.push(("40001", failing(&mut b, "COMMIT").await));

    // 40P01: a deadlock, one session each way.
    run(&mut a, "BEGIN").await;
    run(&mut b, "BEGIN").await;
    run(&mut a, "UPDATE t SET n = 0 WHERE id = 1").await;
    run(&mut b, "UPDATE t SET n = 0 WHERE id = 2").await;
    let crossing = tokio::spawn(async move {
        let result = sqlx::query("UPDATE t SET n = 0 WHERE id = 1")
            .execute(&mut b)
            .await;
        (b, result)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mine = sqlx::query("UPDATE t SET n = 0 WHERE id = 2")
        .execute(&mut a)
        .await;
    let (mut b, theirs) = crossing.await.unwrap();
    let deadlock = mine
        .err()
        .or(theirs.err())
        .expect("one side of the deadlock fails");
    seen.push(("40P01", deadlock));
    let _ = sqlx::query("ROLLBACK").execute(&mut a).await;
    let _ = sqlx::query("ROLLBACK").execute(&mut b).await;

    // 57P01: the backend terminated (a restart, a failover, an operator); the driver sees the
    // server's goodbye or the closed socket, both a lost connection.
    let mut victim = connect(&db).await;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut victim)
        .await
        .unwrap();
    run(&mut a, &format!("SELECT pg_terminate_backend({pid})")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    seen.push(("57P01", failing(&mut victim, "SELECT 1").await));

    // (53300, too many connections, is provoked in `stopped`, on a cluster of the test's own:
    // the shared server's connection limit is not to be exhausted, and the test role is a
    // superuser, whom a database's connection limit does not stop.)

    for (expected, error) in &seen {
        let code = match error {
            sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
            _ => None,
        };
        if *expected != "57P01" {
            assert_eq!(code.as_deref(), Some(*expected), "{error}");
        }
        let fault = Fault::of(error);
        assert!(fault.is_transient(), "{expected} is transient: {error}");
        eprintln!("{expected}: {fault:?} ({error})");
    }

    // A bug stays a bug: a missing table, a malformed value.
    for sql in ["SELECT * FROM no_such_table", "SELECT 'x'::int"] {
        let error = failing(&mut a, sql).await;
        assert_eq!(Fault::of(&error), Fault::Bug, "{error}");
    }
}

async fn get(app: &crate::helpers::TestApp, name: &str) -> Result<(), tonic::Status> {
    app.users()
        .get_user(GetUserRequest {
            user_name: name.to_owned(),
        })
        .await
        .map(drop)
}

/// Waits until `op` succeeds, within `limit`; how long it took.
async fn until_ok<F, Fut>(limit: Duration, mut op: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), tonic::Status>>,
{
    let started = Instant::now();
    loop {
        match op().await {
            Ok(()) => return started.elapsed(),
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                assert!(started.elapsed() < limit, "still failing: {status:?}");
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_only_database_is_not_serving_and_serves_again_without_a_restart() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path().to_path_buf());
    config.database = Some(db.config());
    let app = start(config, dir).await;
    app.users().create_user(create("before")).await.unwrap();
    assert_eq!(health(&app).await, ServingStatus::Serving);

    // What a failover does to the old primary: new sessions are read-only, old ones are gone.
    admin(&format!(
        "ALTER DATABASE {} SET default_transaction_read_only = on",
        db.name
    ));
    admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        db.name
    ));
    let turned = Instant::now();
    let status = app.users().create_user(create("during")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(reason(&status), "ServiceUnavailable");
    assert!(
        status.get_error_details().retry_info().is_some(),
        "{status:?}"
    );
    wait_for_health(&app, ServingStatus::NotServing, Duration::from_secs(2)).await;
    let not_serving_after = turned.elapsed();
    // Reads still work on a read-only database.
    get(&app, "before").await.unwrap();

    admin(&format!(
        "ALTER DATABASE {} RESET default_transaction_read_only",
        db.name
    ));
    let reset = Instant::now();
    let write_after = until_ok(Duration::from_secs(2), || async {
        app.users().create_user(create("after")).await.map(drop)
    })
    .await;
    wait_for_health(&app, ServingStatus::Serving, Duration::from_secs(2)).await;
    eprintln!(
        "read-only: NOT_SERVING after {not_serving_after:?}; writable again: a write succeeded \
         after {write_after:?}, SERVING after {:?}",
        reset.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn terminating_every_backend_under_a_read_load_fails_no_read() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path().to_path_buf());
    config.database = Some(db.config());
    let app = Arc::new(start(config, dir).await);
    app.users().create_user(create("alice")).await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (app, stop, reads) = (Arc::clone(&app), Arc::clone(&stop), Arc::clone(&reads));
            tokio::spawn(async move {
                let mut failures = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match get(&app, "alice").await {
                        Ok(()) => reads.fetch_add(1, Ordering::SeqCst),
                        Err(status) => {
                            failures.push(status);
                            0
                        }
                    };
                }
                failures
            })
        })
        .collect();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        admin(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name
        ));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, Ordering::SeqCst);
    let mut failures = Vec::new();
    for reader in readers {
        failures.extend(reader.await.unwrap());
    }
    eprintln!(
        "{} reads, {} failed, over four kills of every backend",
        reads.load(Ordering::SeqCst),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:?}");
    assert!(reads.load(Ordering::SeqCst) > 100);
}
