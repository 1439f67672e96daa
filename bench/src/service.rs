//! loginprofiled itself, in this process, through its real `server::run`: tokens file auth on,
//! access log on (to a file, as a deployment would send it away from the terminal).

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use loginprofiled::{
    access::{Scope, Tokens, new_token},
    config::{Limits, ListenAddr, LogFormat, ServeConfig},
    domain::{LockoutRule, SystemClock},
    password::{HashCost, PoolSize},
    server::{App, Listener, run},
};
use tokio::{sync::oneshot, task::JoinHandle};

/// A fresh admin token and the tokens-file entry that admits it.
pub(crate) fn admin_token() -> (String, String) {
    new_token("bench", &[Scope::Admin])
}

/// The tokens of a tokens-file text.
pub(crate) fn tokens(entry: &str) -> anyhow::Result<Arc<Tokens>> {
    Ok(Arc::new(Tokens::parse(entry)?))
}

/// The configuration the bench serves with: production defaults but for the data directory,
/// the tokens and the pool size.
pub(crate) fn config(
    data_dir: PathBuf,
    tokens: Arc<Tokens>,
    pool: PoolSize,
    cache_bytes: u64,
) -> ServeConfig {
    ServeConfig {
        listen: ListenAddr::Tcp(SocketAddr::from(([127, 0, 0, 1], 0))),
        // The bench drives gRPC only.
        http_listen: None,
        data_dir,
        database: None,
        tokens: Some(tokens),
        insecure_no_auth: false,
        account_id: "123456789012".to_owned(),
        log_format: LogFormat::Text,
        hash_cost: HashCost::default(),
        pool,
        drain_delay: Duration::ZERO,
        grace_period: Duration::from_secs(10),
        lockout: LockoutRule::default(),
        limits: Limits {
            store_cache_bytes: cache_bytes,
            ..Limits::default()
        },
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

/// A running in-process server.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    stop_tx: oneshot::Sender<()>,
    server: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Opens the data directory and serves it on 127.0.0.1.
    pub(crate) async fn start(config: ServeConfig) -> anyhow::Result<Self> {
        let app =
            tokio::task::spawn_blocking(move || App::open(config, Arc::new(SystemClock))).await??;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(run(Listener::Tcp(listener), app, async {
            let _ = stop_rx.await;
        }));
        Ok(Self {
            addr,
            stop_tx,
            server,
        })
    }

    /// Drains, flushes and closes the store.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop_tx.send(());
        self.server.await?
    }
}
