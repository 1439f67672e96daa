//! Reading PEM files: a certificate chain, a private key, a CA bundle. Errors name the file and
//! what is wrong with it, never any of its contents (a key file's bytes are secret).

use std::path::Path;

use rustls::{
    RootCertStore,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _},
};

/// Reads a file, naming it and the flag it came from in the error.
pub(super) fn read(flag: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{flag} {}: cannot read it: {e}", path.display()))
}

/// The certificates in a PEM text, in order (leaf first for a chain).
pub(super) fn certificates(
    flag: &str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{flag} {}: not a valid PEM file ({e})", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{flag} {}: holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)",
            path.display()
        ));
    }
    Ok(certs)
}

/// The private key in a PEM text (PKCS#8, PKCS#1 or SEC1). The parser's own error is not
/// passed on: it may quote part of the file.
pub(super) fn private_key(path: &Path, pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "holds no private key (expected a PEM \"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE \
                 KEY\" or \"BEGIN EC PRIVATE KEY\" block)"
            }
            _ => "is not a valid PEM private key",
        };
        format!("--tls-key {}: {why}", path.display())
    })
}

/// The CA certificates in a PEM text, which clients' certificates must chain to.
pub(super) fn roots(path: &Path, pem: &[u8]) -> Result<RootCertStore, String> {
    const FLAG: &str = "--tls-client-ca";
    let mut roots = RootCertStore::empty();
    for cert in certificates(FLAG, path, pem)? {
        roots.add(cert).map_err(|e| {
            format!(
                "{FLAG} {}: a certificate in it is unusable as a CA: {e}",
                path.display()
            )
        })?;
    }
    Ok(roots)
}
