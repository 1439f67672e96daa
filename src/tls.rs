//! TLS for both listeners: the certificate and key files (PEM), reloaded when they change, the
//! optional client CA for mutual TLS, and the acceptors that turn TCP connections into TLS ones
//! for tonic (gRPC, ALPN `h2`) and axum (the Query API, ALPN `http/1.1`).
//!
//! rustls runs on exactly one crypto provider, ring, passed explicitly to every configuration
//! (and installed as the process default at start), so no second provider is ever consulted.

use std::{fmt, path::PathBuf, sync::Arc};

use rustls::{ServerConfig, crypto::CryptoProvider};

mod accept;
mod client_ca;
mod peer;
mod pem;
mod reload;

pub use accept::{TlsConn, TlsListener, incoming};
pub use peer::PeerInfo;
pub use reload::RELOAD_CHECK_INTERVAL;

use client_ca::ReloadingClientCa;
use reload::ReloadingCert;

/// The one crypto provider rustls uses here.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs ring as the process-wide default provider (for any rustls use that does not name
/// one). Calling it again is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The files TLS is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// With it, clients must present a certificate signed by one of its CAs.
    pub client_ca: Option<PathBuf>,
}

/// Loaded TLS settings: the current certificate and, under mutual TLS, the current client CA,
/// each swapped in place on rotation.
#[derive(Clone)]
pub struct Tls {
    files: TlsFiles,
    cert: Arc<ReloadingCert>,
    client_ca: Option<Arc<ReloadingClientCa>>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("files", &self.files)
            .field("mutual", &self.client_ca.is_some())
            .finish_non_exhaustive()
    }
}

/// ALPN protocols: gRPC needs HTTP/2.
pub const ALPN_GRPC: &[&[u8]] = &[b"h2"];
/// ALPN protocols of the Query API, which speaks HTTP/1.1.
pub const ALPN_HTTP: &[&[u8]] = &[b"http/1.1"];

impl Tls {
    /// Reads and checks every file; returns every problem found, for the configuration report.
    pub fn load(files: &TlsFiles) -> Result<Self, Vec<String>> {
        let provider = provider();
        let mut problems = Vec::new();
        let cert = ReloadingCert::load(&files.cert, &files.key, provider.clone())
            .map_err(|found| problems.extend(found))
            .ok();
        let client_ca = match &files.client_ca {
            None => Some(None),
            Some(path) => ReloadingClientCa::load(path, provider)
                .map(|ca| Some(Arc::new(ca)))
                .map_err(|problem| problems.push(problem))
                .ok(),
        };
        match (cert, client_ca) {
            (Some(cert), Some(client_ca)) => Ok(Self {
                files: files.clone(),
                cert: Arc::new(cert),
                client_ca,
            }),
            _ => Err(problems),
        }
    }

    /// Whether clients must present a certificate.
    pub fn is_mutual(&self) -> bool {
        self.client_ca.is_some()
    }

    /// A server configuration offering `alpn`, on the current (and every future) certificate and
    /// client CA.
    pub fn server_config(&self, alpn: &[&[u8]]) -> Arc<ServerConfig> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions");
        let builder = match &self.client_ca {
            Some(client_ca) => builder.with_client_cert_verifier(client_ca.clone()),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(self.cert.clone());
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// Re-reads the certificate and key, and the client CA, every [`RELOAD_CHECK_INTERVAL`] and
    /// swaps in a changed file once it has stopped changing; a bad one is logged and the old one
    /// kept. Never returns.
    pub async fn watch(&self) {
        let cert = self.cert.watch(&self.files.cert, &self.files.key);
        let client_ca = async {
            match &self.client_ca {
                Some(client_ca) => client_ca.watch().await,
                None => std::future::pending().await,
            }
        };
        tokio::join!(cert, client_ca);
    }
}

#[cfg(test)]
mod tests;
