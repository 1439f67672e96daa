//! The database going away and coming back, through a TCP proxy the test controls: calls fail
//! fast as UNAVAILABLE (503 on the Query API), health turns NOT_SERVING, and the same process
//! serves again by itself once the database is back.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use loginprofiled::{
    grpc::proto::{CreateUserRequest, GetUserRequest},
    store::{DatabaseUrl, PgConfig},
};
use tokio::{
    net::{TcpListener, TcpStream},
    task::{JoinHandle, JoinSet},
};
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_types::StatusExt as _;

use super::not_on_postgres;
use crate::{
    helpers::{TestApp, TestDb, reason, start, test_config},
    query_api::send,
};

/// Forwards connections to PostgreSQL until cut; cutting closes every forwarded connection and
/// refuses new ones.
struct Proxy {
    addr: SocketAddr,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        Self {
            addr,
            target,
            task: Some(tokio::spawn(forward(listener, target))),
        }
    }

    fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    async fn restore(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("rebinding the proxy: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("rebinding the proxy: {e}"),
            }
        };
        self.task = Some(tokio::spawn(forward(listener, self.target)));
    }
}

/// Accepts and forwards; the connections live in a set owned by this task, so aborting it
/// closes them all.
async fn forward(listener: TcpListener, target: SocketAddr) {
    let mut connections = JoinSet::new();
    while let Ok((mut inbound, _)) = listener.accept().await {
        connections.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

pub(super) async fn health(app: &TestApp) -> ServingStatus {
    HealthClient::new(app.channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status()
}

pub(super) async fn wait_for_health(app: &TestApp, wanted: ServingStatus, within: Duration) {
    let deadline = Instant::now() + within;
    while health(app).await != wanted {
        assert!(Instant::now() < deadline, "health never turned {wanted:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) fn create(name: &str) -> CreateUserRequest {
    CreateUserRequest {
        user_name: name.to_owned(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_database_gives_unavailable_and_not_serving_until_it_returns() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    let direct = url::Url::parse(&db.url).unwrap();
    let target =
        tokio::net::lookup_host((direct.host_str().unwrap(), direct.port().unwrap_or(5432)))
            .await
            .unwrap()
            .next()
            .unwrap();
    let mut proxy = Proxy::start(target).await;
    let mut via_proxy = direct.clone();
    via_proxy.set_host(Some("127.0.0.1")).unwrap();
    via_proxy.set_port(Some(proxy.addr.port())).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path().to_path_buf());
    config.database = Some(PgConfig {
        url: DatabaseUrl::parse(via_proxy.as_str()).unwrap(),
        ..db.config()
    });
    let app = start(config, dir).await;
    app.users().create_user(create("before")).await.unwrap();
    assert_eq!(health(&app).await, ServingStatus::Serving);

    proxy.cut();
    let started = Instant::now();
    let status = app.users().create_user(create("during")).await.unwrap_err();
    let failed_after = started.elapsed();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(reason(&status), "ServiceUnavailable");
    assert!(
        status.get_error_details().retry_info().is_some(),
        "{status:?}"
    );
    assert!(
        failed_after < Duration::from_secs(4),
        "took {failed_after:?}"
    );
    let reply = send(
        app.http_addr,
        "GET",
        "/?Action=GetUser&UserName=before",
        b"",
    )
    .await;
    assert_eq!(reply.status, 503, "{reply:?}");
    assert!(
        reply.body.contains("<Code>ServiceUnavailable</Code>"),
        "{reply:?}"
    );
    assert_eq!(reply.header("retry-after"), Some("1"), "{reply:?}");
    wait_for_health(&app, ServingStatus::NotServing, Duration::from_secs(2)).await;
    let not_serving_after = started.elapsed();

    // Known down: every call answers at once instead of waiting for the connect timeout.
    let mut slowest = Duration::ZERO;
    for i in 0..20 {
        let call = Instant::now();
        let status = if i % 2 == 0 {
            app.users().create_user(create("during")).await.unwrap_err()
        } else {
            app.users()
                .get_user(GetUserRequest {
                    user_name: "before".into(),
                })
                .await
                .unwrap_err()
        };
        slowest = slowest.max(call.elapsed());
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    assert!(slowest < Duration::from_millis(100), "took {slowest:?}");
    eprintln!(
        "cut: UNAVAILABLE after {failed_after:?}, NOT_SERVING after {not_serving_after:?}, \
         then 20 calls answered within {slowest:?} each"
    );

    let restored = Instant::now();
    proxy.restore().await;
    // The first call after the database is back succeeds, health or not.
    app.users().create_user(create("after")).await.unwrap();
    wait_for_health(&app, ServingStatus::Serving, Duration::from_secs(2)).await;
    eprintln!("restored: SERVING again after {:?}", restored.elapsed());
    let reply = send(
        app.http_addr,
        "GET",
        "/?Action=GetUser&UserName=before",
        b"",
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_statement_stuck_behind_a_lock_is_cancelled_by_the_statement_timeout_as_unavailable() {
    use sqlx::Connection as _;
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path().to_path_buf());
    config.database = Some(PgConfig {
        statement_timeout: Duration::from_millis(500),
        ..db.config()
    });
    let app = start(config, dir).await;
    app.users().create_user(create("alice")).await.unwrap();

    // Another session holds alice's row locked and never lets go (until the test ends).
    let mut other = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("SELECT 1 FROM loginprofiled.users WHERE user_key = 'alice' FOR UPDATE")
        .execute(&mut other)
        .await
        .unwrap();

    let started = Instant::now();
    // Without the statement timeout the call would wait for the lock; the deadline bounds it.
    let mut request = tonic::Request::new(loginprofiled::grpc::proto::UpdateUserRequest {
        user_name: "alice".into(),
        new_path: Some("/moved/".into()),
        ..Default::default()
    });
    request.set_timeout(Duration::from_secs(5));
    let status = app.users().update_user(request).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(reason(&status), "ServiceUnavailable");
    assert!(
        status.get_error_details().retry_info().is_some(),
        "{status:?}"
    );
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "took {took:?}"
    );
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    app.users()
        .update_user(loginprofiled::grpc::proto::UpdateUserRequest {
            user_name: "alice".into(),
            new_path: Some("/moved/".into()),
            ..Default::default()
        })
        .await
        .unwrap();
}
