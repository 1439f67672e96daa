//! Persistence, crash safety and graceful shutdown, in-process and with the real binary.

use crate::binary::Binary;
use std::{process::Command, time::Duration};

use loginprofiled::grpc::proto::{
    GetUserRequest, UpdateLoginProfileRequest, VerifyResult,
    login_profile_service_client::LoginProfileServiceClient,
    user_service_client::UserServiceClient,
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::{
    helpers::{spawn_app_with, user},
    login_profiles::{GOOD, OTHER, create, get, verify},
};

#[tokio::test]
async fn data_survives_a_restart() {
    let app = spawn_app_with(|_| {}).await;
    user(&app, "alice").await;
    app.profiles()
        .create_login_profile(create("alice", GOOD, true))
        .await
        .unwrap();
    let app = app.restart().await;
    let profile = app
        .profiles()
        .get_login_profile(get("alice"))
        .await
        .unwrap()
        .into_inner();
    assert!(profile.login_profile.unwrap().password_reset_required);
    assert_eq!(verify(&app, "alice", GOOD).await, VerifyResult::Ok);
}

#[tokio::test]
async fn shutdown_reports_not_serving_then_drains_in_flight_calls() {
    let mut app = spawn_app_with(|c| {
        c.drain_delay = Duration::from_millis(500);
        c.hash_cost.memory_kib = 32 * 1024;
        c.hash_cost.iterations = 4;
    })
    .await;
    user(&app, "bob").await;
    let mut profiles = app.profiles();
    let in_flight = tokio::spawn(async move {
        profiles
            .create_login_profile(create("bob", GOOD, false))
            .await
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut health = HealthClient::new(app.channel.clone());
    let stopped = {
        let server = app.server.take().unwrap();
        app.stop_signal();
        server
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let status = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status(), ServingStatus::NotServing);
    in_flight
        .await
        .unwrap()
        .expect("the in-flight call completes");
    stopped.await.unwrap().expect("the server stops cleanly");
}

#[tokio::test]
async fn an_acknowledged_write_survives_kill_9_right_after_the_reply() {
    // On PostgreSQL the binary serves the test's own database instead of the data directory.
    let db = crate::helpers::on_postgres().then(crate::helpers::TestDb::create);
    let store: Vec<&str> = match &db {
        Some(db) => vec!["--database-url", &db.url],
        None => Vec::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &store).await;
    let mut users = UserServiceClient::new(server.channel());
    let mut profiles = LoginProfileServiceClient::new(server.channel());
    users
        .create_user(loginprofiled::grpc::proto::CreateUserRequest {
            user_name: "alice".into(),
            path: String::new(),
            ..Default::default()
        })
        .await
        .unwrap();
    profiles
        .create_login_profile(create("alice", GOOD, false))
        .await
        .unwrap();
    let update = UpdateLoginProfileRequest {
        user_name: "alice".into(),
        password: Some(OTHER.into()),
        password_reset_required: Some(true),
    };
    profiles.update_login_profile(update).await.unwrap();
    server.signal("-KILL");
    drop(server);

    let server = Binary::start(dir.path(), &store).await;
    let mut users = UserServiceClient::new(server.channel());
    let mut profiles = LoginProfileServiceClient::new(server.channel());
    users
        .get_user(GetUserRequest {
            user_name: "alice".into(),
        })
        .await
        .unwrap();
    let profile = profiles
        .get_login_profile(get("alice"))
        .await
        .unwrap()
        .into_inner()
        .login_profile
        .unwrap();
    assert!(profile.password_reset_required);
    let verified = profiles
        .verify_password(loginprofiled::grpc::proto::VerifyPasswordRequest {
            mfa_code: None,
            user_name: "alice".into(),
            password: OTHER.into(),
        })
        .await
        .unwrap();
    assert_eq!(verified.into_inner().result(), VerifyResult::Ok);
}

#[tokio::test]
async fn sigterm_stops_the_binary_with_exit_code_0_and_removes_its_socket() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &["--grace-period", "5s"]).await;
    server.signal("-TERM");
    let status = tokio::task::spawn_blocking(move || {
        let status = server.child.wait().unwrap();
        (status, server.socket.exists())
    })
    .await
    .unwrap();
    assert!(status.0.success(), "exit status {:?}", status.0);
    assert!(!status.1, "the socket file is removed");
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_refuses_to_start() {
    if crate::helpers::sled_only("about the data directory lock") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _first = Binary::start(dir.path(), &[]).await;
    let output = Command::new(env!("CARGO_BIN_EXE_loginprofiled"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("opening the sled store"), "{stderr}");
}

#[test]
fn bad_configuration_exits_non_zero_listing_every_problem() {
    let output = Command::new(env!("CARGO_BIN_EXE_loginprofiled"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:99999",
            "--http-listen",
            "0.0.0.0:8080",
            "--account-id",
            "abc",
            "--grace-period",
            "later",
            "--max-concurrent-streams",
            "0",
            "--max-message-bytes",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid configuration (6 problem(s))"),
        "{stderr}"
    );
    for problem in [
        "--listen \"127.0.0.1:99999\": port 99999 is out of range (0-65535)",
        "--http-listen 0.0.0.0:8080 is not a loopback address",
        "--account-id",
        "--grace-period",
        "--max-concurrent-streams must be at least 1",
        "--max-message-bytes must be at least 1",
    ] {
        assert!(stderr.contains(problem), "{problem}: {stderr}");
    }
}
