//! What the transport adds around the service: binding the optional TCP listeners, the
//! plaintext health port, the metrics port, and the start-up warnings about how callers reach the server.

use std::{future::Future, net::SocketAddr};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tonic::transport::{Server, server::TcpIncoming};

use super::{Listener, connections};
use crate::config::ServeConfig;

/// Binds `addr` when there is one; `what` names the listener in the error.
pub(super) async fn bind_tcp(
    addr: Option<SocketAddr>,
    what: &str,
) -> anyhow::Result<Option<TcpListener>> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {what} on {addr}"))?;
    Ok(Some(listener))
}

/// Warns about transport settings that work but are probably not what is wanted.
pub(super) fn warn_about_transport(config: &ServeConfig) {
    let Some(tokens) = &config.tokens else {
        return;
    };
    if config.tls.is_none() {
        let network = (!config.listen.is_local()).then(|| config.listen.to_string());
        let http = config
            .http_listen
            .filter(|addr| !addr.ip().is_loopback())
            .map(|addr| addr.to_string());
        for addr in network.iter().chain(http.iter()) {
            tracing::warn!(
                listen = %addr,
                "serving without TLS on a non-loopback address: bearer tokens and passwords \
                 cross the network in clear unless a service mesh encrypts it; give \
                 --tls-cert and --tls-key"
            );
        }
    }
    if tokens.has_certificate_callers() && !config.tls.as_ref().is_some_and(|t| t.is_mutual()) {
        tracing::warn!(
            "the tokens file names [[certificate]] callers, but without --tls-client-ca no \
             client certificate is asked for, so they can never match"
        );
    }
}

/// The bound listeners: gRPC, and optionally the Query API and the plaintext health port.
#[derive(Debug)]
pub struct Listeners {
    pub grpc: Listener,
    pub http: Option<TcpListener>,
    pub health: Option<TcpListener>,
    /// Prometheus metrics (`GET /metrics`).
    pub metrics: Option<TcpListener>,
}

/// Serves `grpc.health.v1.Health` alone, in plaintext, on `listener` if there is one (for
/// probes that cannot speak TLS), until `stop`.
pub(super) async fn serve_health(
    listener: Option<TcpListener>,
    health_service: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let Some(listener) = listener else {
        return Ok(());
    };
    let incoming = connections::limit(TcpIncoming::from(listener), 64);
    Server::builder()
        .add_service(health_service)
        .serve_with_incoming_shutdown(incoming, stop)
        .await
        .context("serving the health port")
}

/// Serves Prometheus metrics on `listener`, if there is one, until `stop`. The recorder is
/// installed only then: without `--metrics-listen` nothing is recorded.
pub(super) async fn serve_metrics(
    listener: Option<TcpListener>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Some(listener) = listener else {
        return Ok(());
    };
    let handle = crate::meter::install()?;
    crate::meter::serve(listener, handle, stop).await
}
