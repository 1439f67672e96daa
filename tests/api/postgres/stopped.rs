//! A real PostgreSQL stopped and started again (a throwaway cluster, see `cluster`): calls
//! answer at once while it is down, health follows within 2 s either way, and the process
//! serves again by itself. Also the SQLSTATE of a server out of connections.

use std::time::{Duration, Instant};

use loginprofiled::{
    grpc::proto::GetUserRequest,
    store::{DatabaseUrl, Fault},
};
use sqlx::{Connection as _, PgConnection};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt as _;

use super::{
    cluster::Cluster,
    not_on_postgres,
    outage::{create, health, wait_for_health},
};
use crate::helpers::{TestApp, TestDb, reason, start, test_config};

async fn get(app: &TestApp, name: &str) -> Result<(), tonic::Status> {
    app.users()
        .get_user(GetUserRequest {
            user_name: name.to_owned(),
        })
        .await
        .map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stopped_database_fails_calls_at_once_and_serves_again_once_started() {
    if not_on_postgres() {
        return;
    }
    let Some(cluster) = Cluster::start(20) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path().to_path_buf());
    config.database = Some(loginprofiled::store::PgConfig {
        url: DatabaseUrl::parse(&cluster.url()).unwrap(),
        // Borrowed for its test timeouts; the database is the cluster's.
        ..TestDb::config_for_url(&cluster.url())
    });
    let app = start(config, dir).await;
    app.users().create_user(create("before")).await.unwrap();

    cluster.pg_ctl("stop");
    let stopped = Instant::now();
    let status = app.users().create_user(create("during")).await.unwrap_err();
    let first = stopped.elapsed();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(reason(&status), "ServiceUnavailable");
    assert!(status.get_error_details().retry_info().is_some());
    wait_for_health(&app, ServingStatus::NotServing, Duration::from_secs(2)).await;
    let not_serving = stopped.elapsed();
    let mut slowest = Duration::ZERO;
    for i in 0..20 {
        let call = Instant::now();
        let status = if i % 2 == 0 {
            get(&app, "before").await.unwrap_err()
        } else {
            app.users().create_user(create("during")).await.unwrap_err()
        };
        slowest = slowest.max(call.elapsed());
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    assert!(slowest < Duration::from_millis(100), "took {slowest:?}");

    cluster.pg_ctl("start");
    let started = Instant::now();
    // The first call after the database accepts connections again succeeds.
    get(&app, "before").await.unwrap();
    app.users().create_user(create("after")).await.unwrap();
    wait_for_health(&app, ServingStatus::Serving, Duration::from_secs(2)).await;
    eprintln!(
        "stopped: first call UNAVAILABLE after {first:?}, NOT_SERVING after {not_serving:?}, \
         20 calls within {slowest:?} each; started: SERVING after {:?}",
        started.elapsed()
    );
    assert_eq!(health(&app).await, ServingStatus::Serving);
}

#[tokio::test]
async fn a_server_out_of_connections_answers_53300_which_is_transient() {
    if not_on_postgres() {
        return;
    }
    let Some(cluster) = Cluster::start(5) else {
        return;
    };
    let mut held = Vec::new();
    let refused = loop {
        match PgConnection::connect(&cluster.url()).await {
            Ok(conn) => held.push(conn),
            Err(error) => break error,
        }
        assert!(held.len() <= 5, "the connection limit was not enforced");
    };
    let code = match &refused {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    };
    assert_eq!(code.as_deref(), Some("53300"), "{refused}");
    assert_eq!(Fault::of(&refused), Fault::Busy, "{refused}");
    assert!(Fault::of(&refused).is_transient());
}
