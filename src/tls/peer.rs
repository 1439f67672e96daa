//! Who is at the other end of a TLS connection: the names in the client certificate that
//! rustls verified against `--tls-client-ca`.

use std::{net::SocketAddr, sync::Arc};

use rustls::pki_types::CertificateDer;
use x509_parser::{extensions::GeneralName, prelude::FromDer as _};

/// What the server knows about a TLS peer; tonic puts it in every request's extensions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerInfo {
    pub remote_addr: Option<SocketAddr>,
    /// The SAN URIs (e.g. SPIFFE IDs) and DNS names of a verified client certificate; empty
    /// without one.
    pub client_names: Arc<[String]>,
}

/// The URI and DNS subject alternative names of a certificate, in the order it lists them.
pub(super) fn subject_names(cert: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, cert)) = x509_parser::certificate::X509Certificate::from_der(cert.as_ref()) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::URI(uri) => Some((*uri).to_owned()),
            GeneralName::DNSName(dns) => Some((*dns).to_owned()),
            _ => None,
        })
        .collect()
}
