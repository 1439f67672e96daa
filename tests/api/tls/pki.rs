//! A throwaway PKI for the TLS tests: a CA, a server certificate for `localhost`/127.0.0.1 and
//! client certificates, all made with rcgen in a temporary directory (no key is ever committed).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, SanType,
};

/// A certificate and its key, as PEM, with the files they were written to.
#[derive(Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

/// A certificate authority that signs server and client certificates.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub pem: String,
    pub path: PathBuf,
}

impl Ca {
    pub fn new(dir: &Path, name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        let path = dir.join(format!("{name}.pem"));
        std::fs::write(&path, cert.pem()).unwrap();
        Self {
            issuer: Issuer::new(params, key),
            pem: cert.pem(),
            path,
        }
    }

    /// A certificate for the server: `localhost` and 127.0.0.1, common name `cn`.
    pub fn server(&self, dir: &Path, cn: &str) -> Pem {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        self.sign(params, dir, "server")
    }

    /// A client certificate with one SAN: a URI (e.g. a SPIFFE ID) or a DNS name.
    pub fn client(&self, dir: &Path, file: &str, san: &str) -> Pem {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let san = if san.contains("://") {
            SanType::URI(san.try_into().unwrap())
        } else {
            SanType::DnsName(san.try_into().unwrap())
        };
        params.subject_alt_names = vec![san];
        self.sign(params, dir, file)
    }

    fn sign(&self, params: CertificateParams, dir: &Path, file: &str) -> Pem {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let pem = Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
            cert_path: dir.join(format!("{file}.crt")),
            key_path: dir.join(format!("{file}.key")),
        };
        pem.write();
        pem
    }
}

impl Pem {
    /// (Re)writes the files in place, as cert-manager does when it renews.
    pub fn write(&self) {
        std::fs::write(&self.cert_path, &self.cert).unwrap();
        std::fs::write(&self.key_path, &self.key).unwrap();
    }

    /// Writes this certificate and key over another pair's files.
    pub fn write_over(&self, other: &Pem) {
        std::fs::write(&other.cert_path, &self.cert).unwrap();
        std::fs::write(&other.key_path, &self.key).unwrap();
    }
}
