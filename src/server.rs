//! Wiring: opens the store and the hashing pool, builds the gRPC router with its layers and the
//! Query API's HTTP router, serves both until shutdown, then drains both and flushes.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context as _;
use tokio::net::{TcpListener, UnixListener};
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::{Server, server::TcpIncoming};
use tower::ServiceBuilder;

use crate::{
    audit::AuditTrail,
    config::{ListenAddr, ServeConfig},
    domain::{Clock, KeyringSlot, MfaSettings, Service, Settings, SystemClock},
    grpc::{
        LoginProfileApi, MfaDeviceApi, PasswordPolicyApi, UserApi,
        access_log::AccessLogLayer,
        auth::AuthLayer,
        proto::{
            self, account_password_policy_service_server::AccountPasswordPolicyServiceServer,
            login_profile_service_server::LoginProfileServiceServer,
            mfa_device_service_server::MfaDeviceServiceServer,
            user_service_server::UserServiceServer,
        },
    },
    meter::TimedStore,
    password::Hasher,
    query_api::QueryApi,
    store::{self, StoreConfig},
    tls,
};

mod connections;
mod health;
mod mfa_keys;
mod transport;
mod unix_socket;

use health::Health;
pub use mfa_keys::Refused;
use mfa_keys::{check_mfa_keys, watch_mfa_key_file};
pub use transport::Listeners;
use transport::{bind_tcp, serve_health, serve_metrics, warn_about_transport};
pub use unix_socket::SocketFile;

/// The service with its configuration, ready to serve.
#[derive(Debug, Clone)]
pub struct App {
    pub service: Service,
    pub config: ServeConfig,
}

impl App {
    /// Opens the store (PostgreSQL or the data directory) and starts the hashing pool.
    pub fn open(config: ServeConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let audit = match &config.audit_log {
            Some(path) => AuditTrail::open(path)?,
            None => AuditTrail::log_only(),
        };
        let store = TimedStore::new(store::open(&store_config(&config))?);
        let hasher = Hasher::start(config.hash_cost, config.pool)?;
        let settings = Settings {
            account_id: config.account_id.clone(),
            lockout: config.lockout,
            screening: config.screening.clone(),
            mfa: MfaSettings {
                keys: KeyringSlot::new(config.mfa_keys.clone()),
                issuer: config.mfa_issuer.clone(),
            },
        };
        let service = Service::new(Arc::new(store), hasher, clock, settings, audit);
        Ok(Self { service, config })
    }
}

/// The store a configuration names: PostgreSQL when it has a database, else sled.
pub fn store_config(config: &ServeConfig) -> StoreConfig {
    match &config.database {
        Some(pg) => StoreConfig::Postgres(pg.clone()),
        None => StoreConfig::Sled {
            data_dir: config.data_dir.clone(),
            cache_bytes: config.limits.store_cache_bytes,
        },
    }
}

/// A bound gRPC listener.
#[derive(Debug)]
pub enum Listener {
    Tcp(TcpListener),
    /// The socket file goes away with the listener (see [`SocketFile`]).
    Unix(UnixListener, SocketFile),
}

impl Listener {
    /// Binds the address. A Unix socket file left by a dead process is replaced; one that a live
    /// process answers on is not.
    pub async fn bind(addr: &ListenAddr) -> anyhow::Result<Self> {
        match addr {
            ListenAddr::Tcp(addr) => Ok(Self::Tcp(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding {addr}"))?,
            )),
            ListenAddr::Unix(path) => {
                let (listener, file) = unix_socket::bind(path).await?;
                Ok(Self::Unix(listener, file))
            }
        }
    }

    /// The address actually bound (the port chosen for port 0), for the log.
    fn local_addr(&self) -> String {
        match self {
            Self::Tcp(listener) => listener
                .local_addr()
                .map_or_else(|e| e.to_string(), |a| a.to_string()),
            Self::Unix(_, file) => format!("unix:{}", file.path().display()),
        }
    }
}

/// Runs the service from a validated configuration until SIGTERM or SIGINT.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    if config.tokens.is_none() && config.insecure_no_auth && !config.listen.is_local() {
        tracing::warn!(listen = %config.listen, "--insecure-no-auth: serving every caller WITHOUT authentication");
    }
    if let Some(http) = config.http_listen
        && config.tokens.is_none()
        && config.insecure_no_auth
        && !http.ip().is_loopback()
    {
        tracing::warn!(http_listen = %http, "--insecure-no-auth: serving the Query API to every caller WITHOUT authentication");
    }
    if config.tokens.as_ref().is_some_and(|t| t.secrets_exposed()) {
        tracing::warn!(
            "the tokens file holds access-key secrets and is readable by group or others; \
             make it readable by the service's user only (chmod 600)"
        );
    }
    warn_about_transport(&config);
    if let Some(keys) = &config.mfa_keys {
        keys.warn_if_exposed();
    }
    // Opening reads every record of the store: not on an async thread.
    let app = tokio::task::spawn_blocking(move || App::open(config, Arc::new(SystemClock)))
        .await
        .context("the task opening the store failed")??;
    if app.config.metrics_listen.is_some() {
        // Before the background re-seal of MFA seeds starts, or its counts would go to no
        // recorder (serve_metrics installs the same one again, later, idempotently).
        crate::meter::install()?;
    }
    check_mfa_keys(&app).await?;
    let listener = Listener::bind(&app.config.listen).await?;
    let http_listener = bind_tcp(app.config.http_listen, "the Query API").await?;
    let health_listener = bind_tcp(app.config.health_listen, "the health port").await?;
    let metrics_listener = bind_tcp(app.config.metrics_listen, "the metrics port").await?;
    tracing::info!(
        listen = listener.local_addr(),
        http_listen = http_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or_else(|| "off".to_owned(), |a| a.to_string()),
        health_listen = health_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or_else(|| "off".to_owned(), |a| a.to_string()),
        metrics_listen = metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or_else(|| "off".to_owned(), |a| a.to_string()),
        audit_log = app
            .config
            .audit_log
            .as_ref()
            .map_or_else(|| "off".to_owned(), |p| p.display().to_string()),
        tls = match &app.config.tls {
            Some(tls) if tls.is_mutual() => "mutual",
            Some(_) => "on",
            None => "off",
        },
        store = %match &app.config.database {
            Some(pg) => format!("postgres {}", pg.url),
            None => format!("sled {}", app.config.data_dir.display()),
        },
        "serving"
    );
    let listeners = Listeners {
        grpc: listener,
        http: http_listener,
        health: health_listener,
        metrics: metrics_listener,
    };
    run_with_listeners(listeners, app, crate::shutdown::signal()).await
}

/// Serves gRPC only; see [`run_with_http`].
pub async fn run(
    listener: Listener,
    app: App,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    run_with_http(listener, None, app, shutdown).await
}

/// Serves `app` over gRPC on `listener`, and the Query API on `http_listener` when given, until
/// `shutdown` resolves; then health turns NOT_SERVING, both go on serving for the drain delay,
/// in-flight calls of both get the grace period, and the store is flushed.
pub async fn run_with_http(
    listener: Listener,
    http_listener: Option<TcpListener>,
    app: App,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let listeners = Listeners {
        grpc: listener,
        http: http_listener,
        health: None,
        metrics: None,
    };
    run_with_listeners(listeners, app, shutdown).await
}

/// [`run_with_http`], plus the plaintext health port when one is bound.
pub async fn run_with_listeners(
    listeners: Listeners,
    app: App,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let Listeners {
        grpc: listener,
        http: http_listener,
        health: health_listener,
        metrics: metrics_listener,
    } = listeners;
    let App { service, config } = app;
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health = Health::start(reporter).await;

    let (draining_tx, draining_rx) = tokio::sync::watch::channel(false);
    let drain_delay = config.drain_delay;
    let stopping = health.clone();
    let stop_accepting = async move {
        shutdown.await;
        stopping.stop().await;
        if !drain_delay.is_zero() {
            tracing::info!(
                ?drain_delay,
                "health is NOT_SERVING; serving on during the drain delay"
            );
            tokio::time::sleep(drain_delay).await;
        }
        let _ = draining_tx.send(true);
    };
    let health_only = serve_health(
        health_listener,
        health_service.clone(),
        draining(draining_rx.clone()),
    );
    let grpc = serve_grpc(
        listener,
        &service,
        &config,
        health_service,
        draining(draining_rx.clone()),
    );
    let metrics = serve_metrics(metrics_listener, draining(draining_rx.clone()));
    let http = serve_http(http_listener, &service, &config, draining(draining_rx));
    let serving = async { tokio::try_join!(grpc, http, health_only, metrics).map(drop) };
    // Runs beside serving and stops with it, so no handle on the store outlives `run`.
    let sweeping = async {
        tokio::join!(
            forget_stale_failures(service.clone()),
            survey_hashes(service.clone())
        );
    };
    let probe_interval = match config.database {
        Some(_) => health::POSTGRES_PROBE_INTERVAL,
        None => health::SLED_PROBE_INTERVAL,
    };
    let probing = health::watch_store(service.clone(), health, probe_interval);
    let reloading = async {
        let certificates = async {
            match &config.tls {
                Some(tls) => tls.watch().await,
                None => std::future::pending().await,
            }
        };
        tokio::join!(
            certificates,
            config.screening.watch(),
            watch_mfa_key_file(service.clone(), config.mfa_key_file.clone())
        );
    };
    tokio::pin!(serving, stop_accepting, sweeping, probing, reloading);
    tokio::select! {
        result = &mut serving => result?,
        () = &mut sweeping => {}
        () = &mut probing => {}
        () = &mut reloading => {}
        () = &mut stop_accepting => {
            match tokio::time::timeout(config.grace_period, &mut serving).await {
                Ok(result) => result?,
                Err(_) => tracing::warn!(grace_period = ?config.grace_period, "calls still in flight after the grace period; closing them"),
            }
        }
    }
    service
        .store()
        .flush()
        .await
        .context("flushing the store at shutdown")?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves once draining starts (or its sender is gone, which means the same).
async fn draining(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|draining| *draining).await;
}

/// Builds the gRPC router with its layers and serves it until `stop`, then lets in-flight calls
/// finish.
async fn serve_grpc(
    listener: Listener,
    service: &Service,
    config: &ServeConfig,
    health_service: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let limits = config.limits;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // Both reflection versions are served, so both are listed, whichever a client asks.
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            )
            // google.rpc.ErrorInfo, BadRequest and RetryInfo, the details every error carries,
            // so that clients such as grpcurl decode them.
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    let layers = ServiceBuilder::new()
        // Outermost: every call gets a request id and exactly one log line, refusals included.
        .layer(AccessLogLayer)
        // Refuses callers without a valid token or scope before any handler runs.
        .layer(AuthLayer::new(config.tokens.clone()));
    let max_message = limits.max_message_bytes;
    let router = Server::builder()
        .max_concurrent_streams(limits.max_concurrent_streams)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .layer(layers)
        .add_service(health_service)
        .add_service(reflection().build_v1().context("building reflection v1")?)
        .add_service(
            reflection()
                .build_v1alpha()
                .context("building reflection v1alpha")?,
        )
        .add_service(
            LoginProfileServiceServer::new(LoginProfileApi(service.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            UserServiceServer::new(UserApi(service.clone())).max_decoding_message_size(max_message),
        )
        .add_service(
            AccountPasswordPolicyServiceServer::new(PasswordPolicyApi(service.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            MfaDeviceServiceServer::new(MfaDeviceApi(service.clone()))
                .max_decoding_message_size(max_message),
        );
    match listener {
        Listener::Tcp(listener) => {
            let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
            let incoming = connections::limit(incoming, limits.max_connections);
            match &config.tls {
                Some(tls) => {
                    let incoming = tls::incoming(incoming, tls.server_config(tls::ALPN_GRPC));
                    router.serve_with_incoming_shutdown(incoming, stop).await
                }
                None => router.serve_with_incoming_shutdown(incoming, stop).await,
            }
        }
        // The socket file stays until serving ends, and is removed then (if still ours).
        Listener::Unix(listener, _socket_file) => {
            let incoming =
                connections::limit(UnixListenerStream::new(listener), limits.max_connections);
            router.serve_with_incoming_shutdown(incoming, stop).await
        }
    }
    .context("serving gRPC")
}

/// Serves the Query API on `listener`, if there is one, until `stop`, then lets in-flight
/// requests finish.
async fn serve_http(
    listener: Option<TcpListener>,
    service: &Service,
    config: &ServeConfig,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Some(listener) = listener else {
        return Ok(());
    };
    let query_api = QueryApi::new(service.clone(), config.tokens.clone())
        .router()
        .into_make_service_with_connect_info::<crate::query_api::Peer>();
    let listener = connections::CappedListener::new(listener, config.limits.max_connections);
    match &config.tls {
        Some(tls) => {
            let listener = tls::TlsListener::new(listener, tls.server_config(tls::ALPN_HTTP));
            axum::serve(listener, query_api)
                .with_graceful_shutdown(stop)
                .await
        }
        None => {
            axum::serve(listener, query_api)
                .with_graceful_shutdown(stop)
                .await
        }
    }
    .context("serving the Query API over HTTP")
}

/// At start and every 5 minutes, counts the profiles by the scheme of their hash, for the
/// `loginprofiled_password_hashes` gauge. Never returns.
async fn survey_hashes(service: Service) {
    let mut every = tokio::time::interval(Duration::from_secs(300));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(error) = service.survey_hashes().await {
            tracing::warn!(?error, "counting password hashes by scheme failed");
        }
    }
}

/// Every minute, drops lockout state that no longer matters. Never returns.
async fn forget_stale_failures(service: Service) {
    let mut every_minute = tokio::time::interval(Duration::from_secs(60));
    every_minute.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every_minute.tick().await;
        match service.forget_stale_failures().await {
            Ok(0) => {}
            Ok(forgotten) => tracing::debug!(forgotten, "forgot stale lockout state"),
            Err(error) => tracing::warn!(?error, "pruning lockout state failed"),
        }
    }
}
