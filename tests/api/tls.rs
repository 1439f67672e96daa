//! TLS and mutual TLS on both listeners: real tonic and rustls clients, certificates made by
//! the test (see `pki`), handshake failures that must not stop the server, certificate callers,
//! rotation in place (in `rotation`), and the plaintext health port.

mod pki;
mod rotation;

use std::{
    io,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use hyper_util::rt::TokioIo;
use loginprofiled::{
    access::Tokens,
    grpc::proto::{CreateUserRequest, ListUsersRequest, user_service_client::UserServiceClient},
    server::{App, Listener, Listeners, run_with_listeners},
    tls::{Tls, TlsFiles},
};
use pki::{Ca, Pem};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject as _};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};
use tokio_rustls::{TlsConnector, client::TlsStream};
use tonic::{
    Code,
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity},
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::helpers::{Bearer, TestApp, spawn_app_with};

const SIGNIN_SPIFFE: &str = "spiffe://cluster.local/ns/app/sa/signin";

/// A CA, the server's certificate from it, and the directory holding both.
struct Setup {
    dir: tempfile::TempDir,
    ca: Ca,
    server: Pem,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "test-ca");
    let server = ca.server(dir.path(), "first");
    Setup { dir, ca, server }
}

impl Setup {
    fn tls(&self, mutual: bool) -> Tls {
        Tls::load(&TlsFiles {
            cert: self.server.cert_path.clone(),
            key: self.server.key_path.clone(),
            client_ca: mutual.then(|| self.ca.path.clone()),
        })
        .unwrap()
    }

    async fn app(&self, mutual: bool, tokens: Option<Arc<Tokens>>) -> TestApp {
        let tls = self.tls(mutual);
        spawn_app_with(|config| {
            config.tls = Some(tls);
            config.tokens = tokens;
        })
        .await
    }

    /// A tonic channel that trusts the CA, with a client certificate when given.
    fn channel(&self, addr: SocketAddr, identity: Option<&Pem>) -> Channel {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca.pem))
            .domain_name("localhost");
        if let Some(pem) = identity {
            tls = tls.identity(Identity::from_pem(&pem.cert, &pem.key));
        }
        Endpoint::from_shared(format!("https://{addr}"))
            .unwrap()
            .timeout(Duration::from_secs(10))
            .tls_config(tls)
            .unwrap()
            .connect_lazy()
    }

    /// A raw rustls connection to `addr` offering `alpn`; see [`tls_connect`].
    async fn connect(
        &self,
        addr: SocketAddr,
        alpn: &[u8],
        identity: Option<&Pem>,
    ) -> io::Result<TlsStream<TcpStream>> {
        tls_connect(&self.ca.pem, addr, alpn, identity).await
    }
}

/// A raw rustls connection to `addr` offering `alpn`, checking the server's certificate (for
/// `localhost`) against `ca_pem`, with a client certificate when given.
async fn tls_connect(
    ca_pem: &str,
    addr: SocketAddr,
    alpn: &[u8],
    identity: Option<&Pem>,
) -> io::Result<TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(loginprofiled::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match identity {
        Some(pem) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(pem.cert.as_bytes())
                    .collect::<Result<_, _>>()
                    .unwrap(),
                PrivateKeyDer::from_pem_slice(pem.key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![alpn.to_vec()];
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

async fn list_users(channel: Channel) -> Result<(), tonic::Status> {
    UserServiceClient::new(channel)
        .list_users(ListUsersRequest::default())
        .await
        .map(drop)
}

async fn health(channel: Channel) -> Result<i32, tonic::Status> {
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .map(|r| r.into_inner().status)
}

#[tokio::test]
async fn a_client_that_trusts_the_ca_calls_grpc_over_tls() {
    let setup = setup();
    let app = setup.app(false, None).await;
    let channel = setup.channel(app.addr, None);
    UserServiceClient::new(channel.clone())
        .create_user(CreateUserRequest {
            user_name: "Alice".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
    list_users(channel).await.unwrap();

    let h2 = setup.connect(app.addr, b"h2", None).await.unwrap();
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
}

#[tokio::test]
async fn a_plaintext_client_on_the_tls_port_fails_and_the_server_keeps_serving() {
    let setup = setup();
    let app = setup.app(false, None).await;
    let plaintext = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .timeout(Duration::from_secs(5))
        .connect_lazy();
    let refused = list_users(plaintext).await.unwrap_err();
    assert_ne!(refused.code(), Code::Ok);

    // Garbage instead of a ClientHello: the server closes that connection.
    let mut raw = TcpStream::connect(app.addr).await.unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), raw.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the server should close a connection that is not TLS"
    );

    // A client that connects and says nothing must not hold up anyone else's handshake: the
    // next call is bounded well inside the server's 10 s handshake deadline, which would free
    // an acceptor that waited for it.
    let _silent = TcpStream::connect(app.addr).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        list_users(setup.channel(app.addr, None)),
    )
    .await
    .expect("a silent client must not hold up the accept loop")
    .unwrap();
}

#[tokio::test]
async fn under_mutual_tls_a_client_without_a_good_certificate_fails_and_the_server_keeps_serving() {
    let setup = setup();
    let app = setup.app(true, None).await;

    let refused = list_users(setup.channel(app.addr, None)).await.unwrap_err();
    assert_ne!(refused.code(), Code::Ok, "no client certificate");

    let stranger_ca = Ca::new(setup.dir.path(), "stranger-ca");
    let stranger = stranger_ca.client(setup.dir.path(), "stranger", SIGNIN_SPIFFE);
    let refused = list_users(setup.channel(app.addr, Some(&stranger)))
        .await
        .unwrap_err();
    assert_ne!(refused.code(), Code::Ok, "a certificate from another CA");

    let client = setup.ca.client(setup.dir.path(), "client", SIGNIN_SPIFFE);
    list_users(setup.channel(app.addr, Some(&client)))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_certificate_named_in_the_tokens_file_calls_with_its_scopes_otherwise_the_token_decides()
{
    let setup = setup();
    // An admin bearer token, and two certificate callers.
    let (secret, token_entry) =
        loginprofiled::access::new_token("ops-token", &[loginprofiled::access::Scope::Admin]);
    let token_entry = format!(
        "{token_entry}[[certificate]]\nname = \"signin-svc\"\nsubject = \"{SIGNIN_SPIFFE}\"\nscopes = [\"read\"]\n\
         [[certificate]]\nname = \"ops-host\"\nsubject = \"ops.internal\"\nscopes = [\"admin\"]\n"
    );
    let tokens = Arc::new(Tokens::parse(&token_entry).unwrap());
    let app = setup.app(true, Some(tokens)).await;
    let dir = setup.dir.path();

    let signin = setup.ca.client(dir, "signin", SIGNIN_SPIFFE);
    let signin_channel = setup.channel(app.addr, Some(&signin));
    list_users(signin_channel.clone()).await.unwrap();
    let denied = UserServiceClient::new(signin_channel)
        .create_user(CreateUserRequest {
            user_name: "Bob".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(
        denied.message().contains("signin-svc"),
        "{}",
        denied.message()
    );

    let ops = setup.ca.client(dir, "ops", "ops.internal");
    UserServiceClient::new(setup.channel(app.addr, Some(&ops)))
        .create_user(CreateUserRequest {
            user_name: "Bob".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();

    // A valid certificate the tokens file does not name: the bearer token decides.
    let unnamed = setup.ca.client(dir, "unnamed", "unnamed.internal");
    let refused = list_users(setup.channel(app.addr, Some(&unnamed)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let with_token = UserServiceClient::with_interceptor(
        setup.channel(app.addr, Some(&unnamed)),
        Bearer(Some(secret)),
    );
    with_token
        .clone()
        .list_users(ListUsersRequest::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_query_api_is_served_over_https_and_a_plaintext_request_fails_alone() {
    let setup = setup();
    let app = setup.app(false, None).await;

    let mut plaintext = TcpStream::connect(app.http_addr).await.unwrap();
    plaintext
        .write_all(b"GET /?Action=ListUsers HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), plaintext.read_to_end(&mut answer)).await;
    assert!(!String::from_utf8_lossy(&answer).contains("ListUsersResponse"));

    let mut https = setup
        .connect(app.http_addr, b"http/1.1", None)
        .await
        .unwrap();
    assert_eq!(https.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    https
        .write_all(
            b"GET /?Action=ListUsers&Version=2010-05-08 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut response = Vec::new();
    https.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("<ListUsersResponse"), "{response}");
}

#[tokio::test]
async fn the_health_port_answers_health_alone_in_plaintext_beside_a_tls_port() {
    let setup = setup();
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = crate::helpers::test_config(data_dir.path().to_path_buf());
    config.tls = Some(setup.tls(true));
    let app = App::open(
        config,
        Arc::new(loginprofiled::domain::ManualClock::new(
            std::time::SystemTime::now(),
        )),
    )
    .unwrap();
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let health_port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (addr, health_addr) = (
        grpc.local_addr().unwrap(),
        health_port.local_addr().unwrap(),
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run_with_listeners(
        Listeners {
            grpc: Listener::Tcp(grpc),
            http: None,
            health: Some(health_port),
            metrics: None,
        },
        app,
        async {
            let _ = stop_rx.await;
        },
    ));

    let plaintext = Channel::from_shared(format!("http://{health_addr}"))
        .unwrap()
        .connect_lazy();
    assert_eq!(
        health(plaintext.clone()).await.unwrap(),
        ServingStatus::Serving as i32
    );
    let only_health = list_users(plaintext).await.unwrap_err();
    assert_eq!(only_health.code(), Code::Unimplemented);

    assert!(
        health(setup.channel(addr, None)).await.is_err(),
        "the mutual TLS port wants a client certificate, even for health"
    );
    let client = setup.ca.client(setup.dir.path(), "client", SIGNIN_SPIFFE);
    list_users(setup.channel(addr, Some(&client)))
        .await
        .unwrap();

    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
}

#[test]
fn bad_tls_files_stop_the_start_with_exit_2_and_every_problem_listed() {
    let setup = setup();
    let dir = setup.dir.path();
    let elsewhere = tempfile::tempdir().unwrap();
    let other = setup.ca.server(elsewhere.path(), "other");
    // The server's certificate with another certificate's key, and a CA file with no CA in it.
    std::fs::copy(&other.key_path, dir.join("wrong.key")).unwrap();
    std::fs::write(dir.join("empty-ca.pem"), "").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_loginprofiled"))
        .args(["serve", "--http-listen", "off", "--data-dir"])
        .arg(dir.join("data"))
        .arg("--tls-cert")
        .arg(&setup.server.cert_path)
        .arg("--tls-key")
        .arg(dir.join("wrong.key"))
        .arg("--tls-client-ca")
        .arg(dir.join("empty-ca.pem"))
        .args(["--account-id", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
    assert!(
        stderr.contains("does not belong to the certificate"),
        "{stderr}"
    );
    assert!(
        stderr.contains("empty-ca.pem: holds no certificate"),
        "{stderr}"
    );
    assert!(stderr.contains("--account-id"), "{stderr}");
    let key_body = other.key.lines().nth(1).unwrap();
    assert!(!stderr.contains(key_body));
}
