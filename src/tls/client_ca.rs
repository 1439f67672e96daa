//! The client CA of mutual TLS, swapped in place when its file changes (cert-manager rotates
//! trust bundles in place). Handshakes are verified against the current CA; open connections
//! were verified when they started and carry on.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
};

use rustls::{
    DigitallySignedStruct, DistinguishedName, SignatureScheme,
    client::danger::HandshakeSignatureValid,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, UnixTime},
    server::{
        WebPkiClientVerifier,
        danger::{ClientCertVerified, ClientCertVerifier},
    },
};
use sha2::{Digest as _, Sha256};

use super::{
    pem,
    reload::{Changes, checks},
};

const FLAG: &str = "--tls-client-ca";

/// A client certificate verifier that hands every call to the verifier of the CA file's
/// current contents.
pub(super) struct ReloadingClientCa {
    path: PathBuf,
    current: RwLock<Current>,
    hints: Hints,
    /// The digest of the file as loaded at start, so a change made before the watch begins is
    /// still seen.
    loaded_at_start: [u8; 32],
    provider: Arc<CryptoProvider>,
}

/// The verifier in use and the CA subjects it hints to clients.
#[derive(Clone)]
struct Current {
    verifier: Arc<dyn ClientCertVerifier>,
    /// [`ClientCertVerifier::root_hint_subjects`] returns a borrow of the verifier, which cannot
    /// outlive a read of the lock, so the hints are leaked instead: one copy per distinct set of
    /// CA subjects ever loaded (see [`Hints`]), a few hundred bytes per CA rotation.
    hints: &'static [DistinguishedName],
}

impl Current {
    fn new(verifier: Arc<dyn ClientCertVerifier>, hints: &Hints) -> Self {
        let hints = hints.intern(verifier.root_hint_subjects());
        Self { verifier, hints }
    }
}

/// Every distinct list of hints handed out so far.
#[derive(Default)]
struct Hints(Mutex<Vec<&'static [DistinguishedName]>>);

impl Hints {
    /// A copy of `hints` that lives as long as the process: one handed out before if equal,
    /// else a new, leaked one. Bounded by the distinct CA sets the file ever held.
    fn intern(&self, hints: &[DistinguishedName]) -> &'static [DistinguishedName] {
        let mut given = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(same) = given.iter().find(|given| der(given).eq(der(hints))) {
            return same;
        }
        let leaked: &'static [DistinguishedName] = Vec::leak(hints.to_vec());
        given.push(leaked);
        leaked
    }
}

impl fmt::Debug for ReloadingClientCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingClientCa")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The verifier for the CAs in `pem`, read from `path`.
fn verifier(
    path: &Path,
    pem: &[u8],
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let roots = pem::roots(path, pem)?;
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("{FLAG} {}: {e}", path.display()))
}

/// The DER of each name (`DistinguishedName` has no `==`).
fn der(names: &[DistinguishedName]) -> impl Iterator<Item = &[u8]> {
    names.iter().map(|name| name.as_ref())
}

fn digest(pem: &[u8]) -> [u8; 32] {
    Sha256::digest(pem).into()
}

impl ReloadingClientCa {
    /// Loads the CA file at start; any problem is a configuration error.
    pub(super) fn load(path: &Path, provider: Arc<CryptoProvider>) -> Result<Self, String> {
        let pem = pem::read(FLAG, path)?;
        let hints = Hints::default();
        let current = Current::new(verifier(path, &pem, &provider)?, &hints);
        Ok(Self {
            path: path.to_owned(),
            current: RwLock::new(current),
            hints,
            loaded_at_start: digest(&pem),
            provider,
        })
    }

    /// The verifier new handshakes use.
    fn current(&self) -> Current {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn swap_in(&self, verifier: Arc<dyn ClientCertVerifier>) {
        let current = Current::new(verifier, &self.hints);
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = current;
    }

    /// Polls the file and swaps in a changed, valid CA. Never returns.
    pub(super) async fn watch(&self) {
        let path = &self.path;
        let mut changes = Changes::new(Some(self.loaded_at_start));
        let mut every = checks();
        loop {
            every.tick().await;
            let pem = match pem::read(FLAG, path) {
                Ok(pem) => pem,
                Err(problem) => {
                    if changes.unreadable() {
                        tracing::warn!(
                            problem,
                            "TLS client CA file unreadable; keeping the client CA in use"
                        );
                    }
                    continue;
                }
            };
            if !changes.settled_change(digest(&pem)) {
                continue;
            }
            match verifier(path, &pem, &self.provider) {
                Ok(verifier) => {
                    self.swap_in(verifier);
                    tracing::info!(client_ca = %path.display(), "TLS client CA reloaded");
                }
                Err(problem) => tracing::warn!(
                    problem,
                    "new TLS client CA file is unusable; keeping the client CA in use"
                ),
            }
        }
    }
}

impl ClientCertVerifier for ReloadingClientCa {
    fn offer_client_auth(&self) -> bool {
        self.current().verifier.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.current().verifier.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.current().hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.current()
            .verifier
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.current()
            .verifier
            .verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.current()
            .verifier
            .verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.current().verifier.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.current().verifier.requires_raw_public_keys()
    }
}
