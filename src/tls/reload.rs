//! The server certificate, swapped in place when its files change (cert-manager renews them in
//! place). Handshakes read the current one; open connections keep the one they started with.

use std::{
    fmt,
    path::Path,
    sync::{Arc, RwLock},
    time::Duration,
};

use rustls::{
    crypto::CryptoProvider,
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};
use sha2::{Digest as _, Sha256};

use super::pem;

/// How often the files are looked at. A change is taken once two looks agree (so a pair caught
/// half-written is not loaded), so a new certificate is served within two intervals.
pub const RELOAD_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// The certificate and key in use, and how to make a new pair.
pub(super) struct ReloadingCert {
    current: RwLock<Arc<CertifiedKey>>,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for ReloadingCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingCert").finish_non_exhaustive()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The contents of the two files, and their digest (to see changes without keeping the key).
struct Pair {
    cert: Vec<u8>,
    key: Vec<u8>,
}

impl Pair {
    fn read(cert: &Path, key: &Path) -> Result<Self, Vec<String>> {
        let cert_pem = pem::read("--tls-cert", cert);
        let key_pem = pem::read("--tls-key", key);
        match (cert_pem, key_pem) {
            (Ok(cert), Ok(key)) => Ok(Self { cert, key }),
            (cert, key) => Err(cert.err().into_iter().chain(key.err()).collect()),
        }
    }

    fn digest(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update((self.cert.len() as u64).to_be_bytes());
        hash.update(&self.cert);
        hash.update(&self.key);
        hash.finalize().into()
    }

    /// The certified key, checked: the chain parses, the key parses and matches the leaf.
    fn certify(
        &self,
        cert_path: &Path,
        key_path: &Path,
        provider: &CryptoProvider,
    ) -> Result<CertifiedKey, Vec<String>> {
        let chain = pem::certificates("--tls-cert", cert_path, &self.cert);
        let key = pem::private_key(key_path, &self.key);
        let (chain, key) = match (chain, key) {
            (Ok(chain), Ok(key)) => (chain, key),
            (chain, key) => return Err(chain.err().into_iter().chain(key.err()).collect()),
        };
        CertifiedKey::from_der(chain, key, provider).map_err(|e| {
            vec![match e {
                rustls::Error::InconsistentKeys(_) => format!(
                    "--tls-key {} does not belong to the certificate in --tls-cert {}",
                    key_path.display(),
                    cert_path.display()
                ),
                other => format!(
                    "--tls-cert {} / --tls-key {}: unusable: {other}",
                    cert_path.display(),
                    key_path.display()
                ),
            }]
        })
    }
}

impl ReloadingCert {
    /// Loads the pair at start; any problem is a configuration error.
    pub(super) fn load(
        cert: &Path,
        key: &Path,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, Vec<String>> {
        let certified = Pair::read(cert, key)?.certify(cert, key, &provider)?;
        Ok(Self {
            current: RwLock::new(Arc::new(certified)),
            provider,
        })
    }

    /// The certificate new handshakes get.
    pub(super) fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Polls the files and swaps in a changed, valid pair. Never returns.
    pub(super) async fn watch(&self, cert: &Path, key: &Path) {
        let mut changes = Changes::new(Pair::read(cert, key).map(|pair| pair.digest()).ok());
        let mut every = checks();
        loop {
            every.tick().await;
            let pair = match Pair::read(cert, key) {
                Ok(pair) => pair,
                Err(problems) => {
                    if changes.unreadable() {
                        tracing::warn!(
                            problem = problems.join("; "),
                            "TLS files unreadable; keeping the certificate in use"
                        );
                    }
                    continue;
                }
            };
            if !changes.settled_change(pair.digest()) {
                continue;
            }
            match pair.certify(cert, key, &self.provider) {
                Ok(certified) => {
                    *self
                        .current
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(certified);
                    tracing::info!(cert = %cert.display(), "TLS certificate reloaded");
                }
                Err(problems) => tracing::warn!(
                    problem = problems.join("; "),
                    "new TLS certificate files are unusable; keeping the certificate in use"
                ),
            }
        }
    }
}

/// The ticks the files are looked at on, every [`RELOAD_CHECK_INTERVAL`] (the first at once).
pub(super) fn checks() -> tokio::time::Interval {
    let mut every = tokio::time::interval(RELOAD_CHECK_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every
}

/// The digests of the contents last tried and last read, which tell a change worth loading
/// from one still being written.
pub(super) struct Changes {
    loaded: Option<[u8; 32]>,
    seen: Option<[u8; 32]>,
}

impl Changes {
    /// Starting from the contents in use (`None` if they could not be read again).
    pub(super) fn new(loaded: Option<[u8; 32]>) -> Self {
        Self {
            loaded,
            seen: loaded,
        }
    }

    /// Records a read; whether to load it now: it differs from what was last tried and the
    /// previous read agrees (so a file caught half-written is not loaded). Each distinct content
    /// is tried once, so a bad file is logged once, not every poll.
    pub(super) fn settled_change(&mut self, digest: [u8; 32]) -> bool {
        let digest = Some(digest);
        let settled = digest == self.seen;
        self.seen = digest;
        if !settled || digest == self.loaded {
            return false;
        }
        self.loaded = digest;
        true
    }

    /// Records a failed read; whether it is the first since a good one (worth a warning).
    pub(super) fn unreadable(&mut self) -> bool {
        self.seen.take().is_some()
    }
}
