use std::{
    io,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
};
use rustls::{
    pki_types::{CertificateDer, UnixTime},
    server::danger::ClientCertVerifier,
};

use super::*;

/// A self-signed certificate for `name`, written as cert.pem / key.pem under `dir`.
fn write_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf, String) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path, key.serialize_pem())
}

fn files(cert: PathBuf, key: PathBuf) -> TlsFiles {
    TlsFiles {
        cert,
        key,
        client_ca: None,
    }
}

fn served_cert(tls: &Tls) -> Vec<u8> {
    tls.cert.current().end_entity_cert().unwrap().to_vec()
}

#[test]
fn a_matching_pair_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = write_pair(dir.path(), "lpd.example");
    let tls = Tls::load(&files(cert, key)).unwrap();
    assert!(!tls.is_mutual());
    assert_eq!(
        tls.server_config(ALPN_GRPC).alpn_protocols,
        vec![b"h2".to_vec()]
    );
}

#[test]
fn missing_files_are_all_reported() {
    let dir = tempfile::tempdir().unwrap();
    let problems = Tls::load(&TlsFiles {
        cert: dir.path().join("no-cert.pem"),
        key: dir.path().join("no-key.pem"),
        client_ca: Some(dir.path().join("no-ca.pem")),
    })
    .unwrap_err();
    let all = problems.join("\n");
    assert!(
        all.contains("--tls-cert") && all.contains("no-cert.pem"),
        "{all}"
    );
    assert!(
        all.contains("--tls-key") && all.contains("no-key.pem"),
        "{all}"
    );
    assert!(
        all.contains("--tls-client-ca") && all.contains("no-ca.pem"),
        "{all}"
    );
}

#[test]
fn a_key_of_another_certificate_is_refused_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _, _) = write_pair(dir.path(), "lpd.example");
    let other = tempfile::tempdir().unwrap();
    let (_, key, key_pem) = write_pair(other.path(), "other.example");
    let problems = Tls::load(&files(cert, key)).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("does not belong to the certificate"),
        "{problems:?}"
    );
    let body = key_pem.lines().nth(1).unwrap();
    assert!(!problems[0].contains(body));
}

#[test]
fn a_key_file_holding_a_certificate_or_garbage_is_refused_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = write_pair(dir.path(), "lpd.example");
    std::fs::copy(&cert, &key).unwrap();
    let problems = Tls::load(&files(cert.clone(), key.clone())).unwrap_err();
    assert!(problems[0].contains("holds no private key"), "{problems:?}");

    let secretish =
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA=!=\n-----END PRIVATE KEY-----\n";
    std::fs::write(&key, secretish).unwrap();
    let problems = Tls::load(&files(cert, key)).unwrap_err();
    assert!(
        problems[0].contains("is not a valid PEM private key"),
        "{problems:?}"
    );
    assert!(!problems[0].contains("c2VjcmV0"), "{problems:?}");
}

#[test]
fn a_ca_file_without_a_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = write_pair(dir.path(), "lpd.example");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate\n").unwrap();
    let problems = Tls::load(&TlsFiles {
        cert,
        key,
        client_ca: Some(ca),
    })
    .unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("--tls-client-ca") && problems[0].contains("holds no certificate"),
        "{problems:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn changed_files_replace_the_certificate_and_broken_ones_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = write_pair(dir.path(), "first.example");
    let tls = Tls::load(&files(cert.clone(), key.clone())).unwrap();
    let first = served_cert(&tls);
    let watching = tokio::spawn({
        let tls = tls.clone();
        async move { tls.watch().await }
    });
    tokio::time::sleep(RELOAD_CHECK_INTERVAL * 3).await;
    assert_eq!(served_cert(&tls), first, "unchanged files change nothing");

    // A key that does not match: the old certificate stays.
    let other = tempfile::tempdir().unwrap();
    let (_, other_key, _) = write_pair(other.path(), "other.example");
    std::fs::copy(&other_key, &key).unwrap();
    tokio::time::sleep(RELOAD_CHECK_INTERVAL * 3).await;
    assert_eq!(served_cert(&tls), first);

    // A good new pair: served within two checks.
    write_pair(dir.path(), "second.example");
    tokio::time::sleep(RELOAD_CHECK_INTERVAL * 2 + Duration::from_millis(100)).await;
    let second = served_cert(&tls);
    assert_ne!(second, first);
    assert_eq!(peer::subject_names(&second.into()), vec!["second.example"]);
    watching.abort();
}

/// A CA named `name`, written to `path`, and a client certificate it signed.
fn write_ca(path: &Path, name: &str) -> CertificateDer<'static> {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    std::fs::write(path, params.self_signed(&key).unwrap().pem()).unwrap();
    let issuer = Issuer::new(params, key);
    let client = CertificateParams::new(vec![format!("client.{name}")]).unwrap();
    client
        .signed_by(&KeyPair::generate().unwrap(), &issuer)
        .unwrap()
        .der()
        .clone()
}

fn mutual(dir: &Path, ca: PathBuf) -> Tls {
    let (cert, key, _) = write_pair(dir, "lpd.example");
    Tls::load(&TlsFiles {
        cert,
        key,
        client_ca: Some(ca),
    })
    .unwrap()
}

fn accepts(tls: &Tls, client: &CertificateDer<'_>) -> bool {
    let client_ca = tls.client_ca.as_ref().unwrap();
    client_ca
        .verify_client_cert(client, &[], UnixTime::now())
        .is_ok()
}

fn hints(tls: &Tls) -> Vec<Vec<u8>> {
    let client_ca = tls.client_ca.as_ref().unwrap();
    let hints = client_ca.root_hint_subjects();
    hints.iter().map(|name| name.as_ref().to_vec()).collect()
}

/// What the thread's log records say, from now until the guard is dropped.
fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    #[derive(Clone)]
    struct Writer(Arc<Mutex<Vec<u8>>>);
    impl io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let logs = Arc::new(Mutex::new(Vec::new()));
    let writer = Writer(logs.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

fn text(logs: &Mutex<Vec<u8>>) -> String {
    String::from_utf8(logs.lock().unwrap().clone()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_changed_client_ca_replaces_the_old_one_and_a_broken_one_is_ignored() {
    let (logs, _guard) = capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let client_a = write_ca(&ca, "ca-a");
    let ca_b = dir.path().join("ca-b.pem");
    let client_b = write_ca(&ca_b, "ca-b");
    let hints_b = hints(&mutual(tempfile::tempdir().unwrap().path(), ca_b.clone()));

    let tls = mutual(dir.path(), ca.clone());
    assert_ne!(hints(&tls), hints_b);
    let watching = tokio::spawn({
        let tls = tls.clone();
        async move { tls.watch().await }
    });
    tokio::time::sleep(RELOAD_CHECK_INTERVAL * 3).await;
    assert!(accepts(&tls, &client_a));
    assert!(!accepts(&tls, &client_b), "CA B is not trusted yet");

    // A new CA: trusted within two checks, and the old one no longer.
    std::fs::copy(&ca_b, &ca).unwrap();
    tokio::time::sleep(RELOAD_CHECK_INTERVAL * 2 + Duration::from_millis(100)).await;
    assert!(accepts(&tls, &client_b), "CA B was not loaded");
    assert!(!accepts(&tls, &client_a));
    assert_eq!(hints(&tls), hints_b);
    let logged = text(&logs);
    assert!(logged.contains("INFO"), "{logged}");
    assert!(logged.contains("TLS client CA reloaded"), "{logged}");
    assert!(logged.contains(&ca.display().to_string()), "{logged}");

    // Garbage: CA B stays, and the problem is logged without the file's contents.
    std::fs::write(&ca, "-----BEGIN JUNK-----\nc2VjcmV0\n-----END JUNK-----\n").unwrap();
    tokio::time::sleep(RELOAD_CHECK_INTERVAL * 3).await;
    assert!(accepts(&tls, &client_b));
    assert!(!accepts(&tls, &client_a));
    assert_eq!(hints(&tls), hints_b);
    let logged = text(&logs);
    assert!(logged.contains("WARN"), "{logged}");
    assert!(
        logged.contains("new TLS client CA file is unusable; keeping the client CA in use"),
        "{logged}"
    );
    assert!(logged.contains("holds no certificate"), "{logged}");
    assert!(!logged.contains("c2VjcmV0"), "{logged}");
    watching.abort();
}

#[tokio::test(start_paused = true)]
async fn a_client_ca_changed_before_the_watch_starts_is_still_loaded() {
    // Its reload logs through the same callsites as the test above: with no subscriber of its
    // own, a first hit here could cache "nobody listens" for them while that test listens.
    let (_logs, _guard) = capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    write_ca(&ca, "ca-a");
    let tls = mutual(dir.path(), ca.clone());
    let client_b = write_ca(&ca, "ca-b");
    let watching = tokio::spawn({
        let tls = tls.clone();
        async move { tls.watch().await }
    });
    tokio::time::sleep(RELOAD_CHECK_INTERVAL * 2 + Duration::from_millis(100)).await;
    assert!(accepts(&tls, &client_b));
    watching.abort();
}
