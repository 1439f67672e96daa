//! The audit trail: one JSON line per change and per sign-in on both transports, with who, from
//! where and how it ended, never a password; a line survives SIGKILL right after the reply; an
//! audit file that cannot be opened stops the start, one that cannot be written fails the call.

use loginprofiled::grpc::proto::{
    self, login_profile_service_client::LoginProfileServiceClient,
    user_service_client::UserServiceClient,
};
use serde_json::Value;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

use super::{ADMIN_KEY, ADMIN_SECRET, logged_addr, start, tokens_file};
use crate::{binary::Binary, helpers::Bearer, query_api::iam};

const PASSWORD: &str = "AuditFirst0Passw0rd";
const NEW_PASSWORD: &str = "AuditSecond1Passw0rd";
const WRONG: &str = "AuditWrong2Guess";

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn every_change_and_sign_in_on_both_transports_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (tokens, token) = tokens_file(dir.path());
    let audit = dir.path().join("audit.log");
    let server = start(
        dir.path(),
        &[
            "--tokens-file",
            tokens.to_str().unwrap(),
            "--audit-log",
            audit.to_str().unwrap(),
        ],
    )
    .await;
    let http = logged_addr(dir.path(), "http_listen").await;
    let bearer = || Bearer(Some(token.clone()));
    let mut users = UserServiceClient::with_interceptor(server.channel(), bearer());
    let mut profiles = LoginProfileServiceClient::with_interceptor(server.channel(), bearer());
    users
        .create_user(proto::CreateUserRequest {
            user_name: "Alice".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    profiles
        .create_login_profile(proto::CreateLoginProfileRequest {
            user_name: "alice".into(),
            password: PASSWORD.into(),
            password_reset_required: false,
        })
        .await
        .unwrap();
    for password in [PASSWORD, WRONG] {
        profiles
            .verify_password(proto::VerifyPasswordRequest {
                mfa_code: None,
                user_name: "alice".into(),
                password: password.into(),
            })
            .await
            .unwrap();
    }
    // A read writes nothing.
    users
        .get_user(proto::GetUserRequest {
            user_name: "alice".into(),
        })
        .await
        .unwrap();
    let sdk = iam(http, ADMIN_KEY, ADMIN_SECRET);
    sdk.create_user().user_name("bob").send().await.unwrap();
    sdk.update_login_profile()
        .user_name("alice")
        .password(NEW_PASSWORD)
        .send()
        .await
        .unwrap();
    let refused = sdk.delete_user().user_name("nobody").send().await;
    assert!(refused.is_err());
    sdk.get_user().user_name("bob").send().await.unwrap();

    let lines = lines(&audit);
    let summary: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            let field = |k: &str| l[k].as_str().unwrap_or("-").to_owned();
            (field("event"), field("user_name"), field("outcome"))
        })
        .collect();
    let expected = [
        ("user_created", "Alice", "Success"),
        ("profile_created", "alice", "Success"),
        ("sign_in_succeeded", "alice", "Success"),
        ("sign_in_failed", "alice", "InvalidCredentials"),
        ("user_created", "bob", "Success"),
        ("profile_updated", "alice", "Success"),
        ("user_deleted", "nobody", "NoSuchEntity"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(e, u, o)| ((*e).to_owned(), (*u).to_owned(), (*o).to_owned()))
        .collect();
    assert_eq!(summary, expected);
    for (i, line) in lines.iter().enumerate() {
        let grpc = i < 4;
        assert_eq!(
            line["caller"],
            if grpc { "ops" } else { "ops-key" },
            "{line}"
        );
        let peer = line["peer"].as_str().unwrap();
        assert!(
            if grpc {
                peer == "unix"
            } else {
                peer.starts_with("127.0.0.1:")
            },
            "{line}"
        );
        assert_eq!(line["request_id"].as_str().unwrap().len(), 36, "{line}");
        assert!(line["time"].as_str().unwrap().ends_with('Z'), "{line}");
    }
    let text = std::fs::read_to_string(&audit).unwrap();
    for secret in [
        PASSWORD,
        NEW_PASSWORD,
        WRONG,
        &token,
        ADMIN_SECRET,
        "$argon2id$",
    ] {
        assert!(!text.contains(secret), "{secret} in the audit log:\n{text}");
    }
    server.stop().await;
    // The same lines went to the log, on the `audit` target.
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert_eq!(log.matches("\"event\":").count(), 7, "{log}");
}

#[tokio::test]
async fn a_line_survives_sigkill_right_after_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let server = start(dir.path(), &["--audit-log", audit.to_str().unwrap()]).await;
    let mut users = UserServiceClient::new(server.channel());
    for name in ["carol", "dave", "erin"] {
        users
            .create_user(proto::CreateUserRequest {
                user_name: name.into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    server.signal("-KILL");
    let mut server = server;
    assert!(!server.exit_status().await.success());
    let names: Vec<_> = lines(&audit)
        .iter()
        .map(|l| l["user_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["carol", "dave", "erin"]);
}

#[tokio::test]
async fn an_audit_file_that_cannot_be_opened_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("audit.log");
    let (status, stderr) =
        Binary::try_start(dir.path(), &["--audit-log", missing.to_str().unwrap()])
            .await
            .map(drop)
            .unwrap_err();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("opening the audit log"), "{stderr}");
    assert!(stderr.contains("No such file or directory"), "{stderr}");
}

#[tokio::test]
async fn a_failed_write_fails_the_call_refuses_the_next_and_turns_health_off() {
    let dir = tempfile::tempdir().unwrap();
    // Opens like any file; every write fails with ENOSPC.
    let mut server = start(dir.path(), &["--audit-log", "/dev/full"]).await;
    let mut users = UserServiceClient::new(server.channel());
    let create = |name: &str| proto::CreateUserRequest {
        user_name: name.into(),
        ..Default::default()
    };
    let failed = users.create_user(create("frank")).await.unwrap_err();
    assert_eq!(failed.code(), Code::Internal, "{failed:?}");
    // From now on audited calls are refused before they change anything.
    let refused = users.create_user(create("grace")).await.unwrap_err();
    assert_eq!(refused.code(), Code::Internal, "{refused:?}");
    let lookup = users
        .get_user(proto::GetUserRequest {
            user_name: "grace".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(lookup.code(), Code::NotFound);
    server.wait_for_health(ServingStatus::NotServing).await;
    server.stop().await;
}
