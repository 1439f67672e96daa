use std::{path::Path, time::Duration};

use rcgen::{CertificateParams, KeyPair};

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
