//! The client CA of mutual TLS rotated in place: new handshakes are checked against the new
//! CA, open connections carry on, and a broken file changes nothing.

use super::*;

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
