//! Starts the real server in-process on 127.0.0.1:0 with a fresh store, a manual clock and cheap
//! argon2 parameters, and hands out typed clients. The store is sled in a fresh data directory,
//! or with `LOGINPROFILED_TEST_STORE=postgres` a fresh PostgreSQL database (see [`TestDb`]).
//! The steps tests share on the directory (users, profiles, their errors) are in `directory`.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, LazyLock},
    time::{Duration, SystemTime},
};

use loginprofiled::{
    access::Tokens,
    config::{Limits, ListenAddr, LogFormat, ServeConfig},
    domain::{LockoutRule, ManualClock, Service},
    grpc::proto::{
        account_password_policy_service_client::AccountPasswordPolicyServiceClient,
        login_profile_service_client::LoginProfileServiceClient,
        mfa_device_service_client::MfaDeviceServiceClient, user_service_client::UserServiceClient,
    },
    password::{HashCost, PoolSize},
    server::{App, Listener, run_with_http},
};
use tokio::{sync::oneshot, task::JoinHandle};

mod directory;
mod pg;
pub use directory::{
    assert_no_profile, assert_no_such_user, assert_policy_violation, user, user_with_profile,
};
pub use pg::{
    TestDb, admin, admin_url, answers_or_required, on_postgres, sled_only, with_database,
};
use tonic::{
    Request, Status,
    metadata::MetadataValue,
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};

/// Cheap argon2 so tests run fast; production defaults are tested in `password` unit tests.
pub const TEST_COST: HashCost = HashCost {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_test_writer()
            .init();
    }
});

/// A configuration for tests: loopback, no tokens, cheap hashing.
pub fn test_config(data_dir: PathBuf) -> ServeConfig {
    ServeConfig {
        listen: ListenAddr::Tcp("127.0.0.1:0".parse().unwrap()),
        // Tests bind the Query API themselves, on port 0 (see `start`).
        http_listen: None,
        data_dir,
        database: None,
        tokens: None,
        insecure_no_auth: false,
        account_id: "123456789012".to_owned(),
        log_format: LogFormat::Text,
        hash_cost: TEST_COST,
        pool: PoolSize {
            concurrency: 2,
            queue: 256,
        },
        drain_delay: Duration::ZERO,
        grace_period: Duration::from_secs(5),
        lockout: LockoutRule::default(),
        limits: Limits::default(),
        tls: None,
        health_listen: None,
        metrics_listen: None,
        audit_log: None,
        screening: loginprofiled::screening::Screening::builtin(),
        mfa_keys: None,
        mfa_key_file: None,
        mfa_issuer: "loginprofiled".to_owned(),
    }
}

/// A running server and what a test needs to drive it.
pub struct TestApp {
    pub addr: SocketAddr,
    /// Where the Query API (HTTP) listens.
    pub http_addr: SocketAddr,
    pub service: Service,
    pub clock: Arc<ManualClock>,
    pub data_dir: tempfile::TempDir,
    /// The test's own database when the suite runs on PostgreSQL.
    pub db: Option<Arc<TestDb>>,
    pub channel: Channel,
    token: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Starts a server with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `adjust` has changed the test configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut ServeConfig)) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(data_dir.path().to_path_buf());
    adjust(&mut config);
    start(config, data_dir).await
}

/// Starts a server on an existing data directory (for restart tests); on PostgreSQL, on a fresh
/// database unless the configuration names one.
pub async fn start(config: ServeConfig, data_dir: tempfile::TempDir) -> TestApp {
    let db = (on_postgres() && config.database.is_none()).then(|| Arc::new(TestDb::create()));
    start_on(config, data_dir, db).await
}

/// Starts a server on the given test database, if any (for restarts and replicas).
pub async fn start_on(
    mut config: ServeConfig,
    data_dir: tempfile::TempDir,
    db: Option<Arc<TestDb>>,
) -> TestApp {
    LazyLock::force(&TRACING);
    if let Some(db) = &db {
        config.database = Some(db.config());
    }
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let app = open_app(&config, clock.clone()).await;
    let service = app.service.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_addr = http_listener.local_addr().unwrap();
    let (shutdown_tx, shutdown_rx) = oneshot::channel();
    let server = tokio::spawn(run_with_http(
        Listener::Tcp(listener),
        Some(http_listener),
        app,
        async {
            let _ = shutdown_rx.await;
        },
    ));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    TestApp {
        addr,
        http_addr,
        service,
        clock,
        data_dir,
        db,
        channel,
        token: None,
        shutdown: Some(shutdown_tx),
        server: Some(server),
    }
}

/// Opens the app. On a restart within the process, sled's background threads may hold the
/// directory's lock for a moment after the last handle is gone, so a held lock is retried for a
/// few seconds (a separate process releases it at exit and needs no such wait).
async fn open_app(config: &ServeConfig, clock: Arc<ManualClock>) -> App {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match App::open(config.clone(), clock.clone()) {
            Ok(app) => return app,
            Err(error)
                if format!("{error:#}").contains("another process holds it")
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("opening the app: {error:#}"),
        }
    }
}

/// A tokens file admitting `name` with `scopes`, returned with the token to send.
pub fn tokens_with(
    entries: &[(&str, &[loginprofiled::access::Scope])],
) -> (Arc<Tokens>, Vec<String>) {
    let mut text = String::new();
    let mut secrets = Vec::new();
    for (name, scopes) in entries {
        let (token, entry) = loginprofiled::access::new_token(name, scopes);
        text.push_str(&entry);
        secrets.push(token);
    }
    (Arc::new(Tokens::parse(&text).unwrap()), secrets)
}

/// Adds `authorization: Bearer <token>` to every call when a token is set.
#[derive(Clone)]
pub struct Bearer(pub Option<String>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(token) = &self.0 {
            let value: MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

impl TestApp {
    /// Sends `token` as the bearer token on clients made after this call.
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }

    pub fn users(&self) -> UserServiceClient<Authed> {
        UserServiceClient::with_interceptor(self.channel.clone(), Bearer(self.token.clone()))
    }

    pub fn profiles(&self) -> LoginProfileServiceClient<Authed> {
        LoginProfileServiceClient::with_interceptor(
            self.channel.clone(),
            Bearer(self.token.clone()),
        )
    }

    pub fn devices(&self) -> MfaDeviceServiceClient<Authed> {
        MfaDeviceServiceClient::with_interceptor(self.channel.clone(), Bearer(self.token.clone()))
    }

    pub fn policy(&self) -> AccountPasswordPolicyServiceClient<Authed> {
        AccountPasswordPolicyServiceClient::with_interceptor(
            self.channel.clone(),
            Bearer(self.token.clone()),
        )
    }

    /// Asks the server to stop, without waiting.
    pub fn stop_signal(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Asks the server to stop and waits until it has drained and flushed.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(server) => server.await.expect("the server task should not panic"),
            None => Ok(()),
        }
    }

    /// Stops the server and starts a new one on the same data directory.
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// Stops the server and starts a new one on the same data directory, with the test
    /// configuration changed by `adjust`.
    pub async fn restart_with(mut self, adjust: impl FnOnce(&mut ServeConfig)) -> TestApp {
        self.stop().await.expect("clean stop");
        // The test's own handle on the service holds the store open too.
        let TestApp {
            data_dir,
            service,
            db,
            ..
        } = self;
        drop(service);
        let mut config = test_config(data_dir.path().to_path_buf());
        adjust(&mut config);
        start_on(config, data_dir, db).await
    }
}

/// The `ErrorInfo.reason` (the IAM code) of a status.
pub fn reason(status: &Status) -> String {
    use tonic_types::StatusExt as _;
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default()
}

/// Asserts a status's gRPC code, IAM code and message.
#[track_caller]
pub fn assert_error(status: &Status, code: tonic::Code, iam_code: &str, message: &str) {
    assert_eq!(status.code(), code, "gRPC code of {status:?}");
    assert_eq!(reason(status), iam_code, "IAM code of {status:?}");
    assert_eq!(status.message(), message, "message of {status:?}");
}
