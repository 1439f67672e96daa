//! The `unix:` socket file, with real server processes: a live server's socket is never taken
//! over, a stale one is replaced, and a server removes only its own socket at exit. (What
//! clients send over the socket is in `unix_socket`.)

use std::{fs::File, path::Path, process::Stdio};

use loginprofiled::grpc::proto::{
    CreateUserRequest, GetUserRequest, user_service_client::UserServiceClient,
};
use tonic_health::pb::health_check_response::ServingStatus;

use crate::binary::Binary;

/// Starts a server with its data in `dir` on `socket`, its stderr in `dir/stderr.log`.
fn spawn_logged(dir: &Path, socket: &Path) -> Binary {
    let log = File::create(dir.join("stderr.log")).unwrap();
    Binary::spawn_with(dir, socket, &[], &[], Stdio::from(log))
}

fn stderr(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("stderr.log")).unwrap()
}

#[tokio::test]
async fn a_socket_a_live_server_answers_on_is_never_taken_over() {
    let (first_dir, second_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = Binary::start(first_dir.path(), &[]).await;
    let mut users = UserServiceClient::new(first.channel());
    let create = CreateUserRequest {
        user_name: "alice".into(),
        path: String::new(),
        ..Default::default()
    };
    users.create_user(create).await.unwrap();

    let mut second = spawn_logged(second_dir.path(), &first.socket);
    let status = second.exit_status().await;

    assert!(!status.success(), "{status:?}");
    let log = stderr(second_dir.path());
    assert!(
        log.contains(&format!(
            "another process is serving on unix:{}; refusing to take over its socket",
            first.socket.display()
        )),
        "{log}"
    );
    assert_eq!(first.health().await, Some(ServingStatus::Serving));
    let get = GetUserRequest {
        user_name: "alice".into(),
    };
    let mut users = UserServiceClient::new(first.channel());
    users
        .get_user(get)
        .await
        .expect("calls still reach the first server's store");
}

#[tokio::test]
async fn a_socket_file_no_process_answers_on_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("lpd.sock");
    // Binding and dropping a listener leaves its file behind, as a killed server does.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());

    let server = Binary::start(dir.path(), &[]).await;

    assert_eq!(server.health().await, Some(ServingStatus::Serving));
}

#[tokio::test]
async fn a_file_that_is_not_a_socket_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lpd.sock");
    std::fs::write(&path, "an operator's file").unwrap();

    let mut server = spawn_logged(dir.path(), &path);
    let status = server.exit_status().await;

    assert!(!status.success(), "{status:?}");
    let log = stderr(dir.path());
    assert!(
        log.contains(&format!(
            "{} exists and is not a socket; refusing to replace it",
            path.display()
        )),
        "{log}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "an operator's file"
    );
}

#[tokio::test]
async fn at_exit_a_server_removes_its_socket_only_if_the_path_still_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &[]).await;
    // Someone moves the server's socket aside and puts another live socket at the path.
    std::fs::rename(&server.socket, dir.path().join("moved.sock")).unwrap();
    let _other = std::os::unix::net::UnixListener::bind(&server.socket).unwrap();

    server.signal("-TERM");
    let status = server.exit_status().await;

    assert!(status.success(), "{status:?}");
    assert!(server.socket.exists(), "the other socket is left alone");
    assert!(
        std::os::unix::net::UnixStream::connect(&server.socket).is_ok(),
        "and still answers"
    );
}
