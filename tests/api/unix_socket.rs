//! gRPC over a Unix socket, whatever `:authority` the client sends. Pins the h2 patch carried in
//! patches/h2 (see patches/PATCH.md): an h2 upgrade that drops it fails here.

use std::path::{Path, PathBuf};

use loginprofiled::{
    config::ListenAddr,
    server::{App, Listener, run},
};
use tokio::{
    net::{TcpListener, TcpStream, UnixStream},
    sync::oneshot,
};

use crate::{
    helpers::test_config,
    raw_h2::{Answer, unary_call},
};

const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
/// `HealthCheckResponse { status: SERVING }`, encoded.
const SERVING: &[u8] = &[0x08, 0x01];

/// Serves a fresh store on `listener` until the returned sender is dropped.
fn serve(listener: Listener, data_dir: &Path) -> oneshot::Sender<()> {
    let app = App::open(
        test_config(data_dir.to_path_buf()),
        std::sync::Arc::new(loginprofiled::domain::SystemClock),
    )
    .expect("opening the app");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(run(listener, app, async {
        let _ = stopped.await;
    }));
    stop
}

fn percent_encoded(path: &Path) -> String {
    path.to_str().unwrap().replace('/', "%2F")
}

/// What gRPC clients put in `:authority` on a Unix socket, by client.
fn authorities(socket: &Path) -> Vec<(&'static str, Option<String>)> {
    let path = socket.to_str().unwrap().to_owned();
    vec![
        (
            "localhost (grpc-go, grpc-js, tonic)",
            Some("localhost".to_owned()),
        ),
        (
            "the socket path (grpcurl 1.8, grpc-java)",
            Some(path.clone()),
        ),
        (
            "the path percent-encoded (grpc-swift)",
            Some(percent_encoded(socket)),
        ),
        (
            "the path percent-encoded without its leading slash (grpcio)",
            Some(percent_encoded(socket).trim_start_matches("%2F").to_owned()),
        ),
        ("empty", Some(String::new())),
        ("none", None),
    ]
}

#[tokio::test]
async fn a_call_over_a_unix_socket_is_answered_whatever_authority_the_client_sends() {
    let dir = tempfile::tempdir().unwrap();
    let socket: PathBuf = dir.path().join("grpc.sock");
    let listener = Listener::bind(&ListenAddr::Unix(socket.clone()))
        .await
        .unwrap();
    let _stop = serve(listener, &dir.path().join("data"));
    let mut refused = Vec::new();
    for (client, authority) in authorities(&socket) {
        let io = UnixStream::connect(&socket).await.unwrap();
        let answer = unary_call(
            io,
            authority.as_deref().map(str::as_bytes),
            HEALTH_CHECK,
            &[],
        )
        .await;
        if answer != Answer::Message(SERVING.to_vec()) {
            refused.push(format!("{client}: :authority {authority:?} got {answer:?}"));
        }
    }
    assert!(
        refused.is_empty(),
        "not answered over a Unix socket:\n{}",
        refused.join("\n")
    );
}

/// h2 cannot tell a Unix socket from TCP, so the patch relaxes TCP too: such an authority is
/// served as if it were absent, which h2 already allows (PATCH.md says why that is safe).
#[tokio::test]
async fn over_tcp_an_authority_that_is_not_a_uri_authority_is_served_as_if_absent() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _stop = serve(Listener::Tcp(listener), &dir.path().join("data"));
    let io = TcpStream::connect(addr).await.unwrap();
    let answer = unary_call(io, Some(b"/run/lpd/grpc.sock"), HEALTH_CHECK, &[]).await;
    assert_eq!(answer, Answer::Message(SERVING.to_vec()));
}
