//! Rotation in place: a renewed certificate is served, and a rotated client CA decides, new
//! handshakes, while open connections carry on; broken files change nothing.

use super::*;

impl Setup {
    /// A channel on one gRPC connection, never re-made (a second connect fails its calls), so
    /// calls on it show that connection still works; and how many connects it tried.
    async fn one_connection(
        &self,
        addr: SocketAddr,
        identity: Option<&Pem>,
    ) -> (Channel, Arc<AtomicUsize>) {
        let connects = Arc::new(AtomicUsize::new(0));
        let (ca_pem, identity) = (self.ca.pem.clone(), identity.cloned());
        let channel = Endpoint::from_static("http://localhost")
            .connect_with_connector(tower::service_fn({
                let connects = connects.clone();
                move |_| {
                    let (connects, ca_pem, identity) =
                        (connects.clone(), ca_pem.clone(), identity.clone());
                    async move {
                        if connects.fetch_add(1, Ordering::SeqCst) > 0 {
                            return Err(io::Error::other("this test allows one connection only"));
                        }
                        let stream = tls_connect(&ca_pem, addr, b"h2", identity.as_ref()).await?;
                        Ok::<_, io::Error>(TokioIo::new(stream))
                    }
                }
            }))
            .await
            .unwrap();
        (channel, connects)
    }
}

/// The certificate the server presented on a connection.
fn served_cert(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

fn der(pem: &Pem) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.cert.as_bytes())
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn a_renewed_certificate_is_served_to_new_connections_while_open_ones_keep_working() {
    let setup = setup();
    let app = setup.app(false, None).await;
    let first = der(&setup.server);

    let (open, connects) = setup.one_connection(app.addr, None).await;
    list_users(open.clone()).await.unwrap();

    let renewed = setup
        .ca
        .server(tempfile::tempdir().unwrap().path(), "second");
    renewed.write_over(&setup.server);
    let written = Instant::now();
    loop {
        let stream = setup.connect(app.addr, b"h2", None).await.unwrap();
        if served_cert(&stream) == der(&renewed) {
            break;
        }
        assert_eq!(served_cert(&stream), first);
        assert!(
            written.elapsed() < Duration::from_secs(10),
            "the renewed certificate was not served within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    list_users(open.clone()).await.unwrap();

    // A broken renewal: new connections keep the last good certificate.
    std::fs::write(
        &setup.server.key_path,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    tokio::time::sleep(loginprofiled::tls::RELOAD_CHECK_INTERVAL * 3).await;
    let stream = setup.connect(app.addr, b"h2", None).await.unwrap();
    assert_eq!(served_cert(&stream), der(&renewed));
    list_users(open).await.unwrap();
    assert_eq!(connects.load(Ordering::SeqCst), 1);
}

/// Calls until `client` is accepted; panics if it is not within 10 s of the CA being written.
async fn until_accepted(setup: &Setup, addr: SocketAddr, client: &Pem) {
    let written = Instant::now();
    while list_users(setup.channel(addr, Some(client))).await.is_err() {
        assert!(
            written.elapsed() < Duration::from_secs(10),
            "a client of the new CA was not accepted within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_rotated_client_ca_decides_new_handshakes_while_open_connections_keep_working() {
    let setup = setup();
    let app = setup.app(true, None).await;
    let dir = setup.dir.path();
    let client_a = setup.ca.client(dir, "client-a", SIGNIN_SPIFFE);
    let ca_b = Ca::new(dir, "ca-b");
    let client_b = ca_b.client(dir, "client-b", SIGNIN_SPIFFE);

    let (open, connects) = setup.one_connection(app.addr, Some(&client_a)).await;
    list_users(open.clone()).await.unwrap();
    assert!(
        list_users(setup.channel(app.addr, Some(&client_b)))
            .await
            .is_err(),
        "CA B is not trusted yet"
    );

    // CA B written over the --tls-client-ca file (the server's own certificate stays CA A's).
    std::fs::write(&setup.ca.path, &ca_b.pem).unwrap();
    until_accepted(&setup, app.addr, &client_b).await;
    assert!(
        list_users(setup.channel(app.addr, Some(&client_a)))
            .await
            .is_err(),
        "CA A is no longer trusted"
    );
    list_users(open.clone()).await.unwrap();

    // Garbage over the file: CA B stays.
    std::fs::write(&setup.ca.path, "not a certificate\n").unwrap();
    tokio::time::sleep(loginprofiled::tls::RELOAD_CHECK_INTERVAL * 3).await;
    list_users(setup.channel(app.addr, Some(&client_b)))
        .await
        .unwrap();
    assert!(
        list_users(setup.channel(app.addr, Some(&client_a)))
            .await
            .is_err()
    );
    list_users(open).await.unwrap();
    assert_eq!(connects.load(Ordering::SeqCst), 1);
}
