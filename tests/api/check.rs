//! `loginprofiled check` on healthy stores: what it reports, that it changes nothing and never
//! prints a hash, and that it leaves a running server's store alone. (Damaged stores are in
//! `damage`.)

use std::{collections::BTreeMap, path::Path};

use loginprofiled::grpc::proto::{
    CreateLoginProfileRequest, CreateUserRequest, UpdateAccountPasswordPolicyRequest,
    VerifyPasswordRequest,
    account_password_policy_service_client::AccountPasswordPolicyServiceClient,
    login_profile_service_client::LoginProfileServiceClient,
    user_service_client::UserServiceClient,
};

use crate::binary::{self, Binary};

const PASSWORD: &str = "Check-test-pw-1";

/// Every file under `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.insert(path.display().to_string(), std::fs::read(&path).unwrap());
        }
    }
    found
}

#[tokio::test]
async fn check_reports_a_healthy_store_and_changes_nothing_and_prints_no_hash() {
    if crate::helpers::sled_only("loginprofiled check reads the embedded store") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]).await;
    let mut users = UserServiceClient::new(server.channel());
    let mut profiles = LoginProfileServiceClient::new(server.channel());
    for name in ["ann", "bob", "cy"] {
        let request = CreateUserRequest {
            user_name: name.to_owned(),
            path: String::new(),
            tags: Vec::new(),
        };
        users.create_user(request).await.unwrap();
    }
    for name in ["ann", "bob"] {
        let request = CreateLoginProfileRequest {
            user_name: name.to_owned(),
            password: PASSWORD.to_owned(),
            password_reset_required: false,
        };
        profiles.create_login_profile(request).await.unwrap();
    }
    AccountPasswordPolicyServiceClient::new(server.channel())
        .update_account_password_policy(UpdateAccountPasswordPolicyRequest {
            minimum_password_length: Some(10),
            ..Default::default()
        })
        .await
        .unwrap();
    let wrong = VerifyPasswordRequest {
        mfa_code: None,
        user_name: "ann".to_owned(),
        password: "Not-the-password-1".to_owned(),
    };
    profiles.verify_password(wrong).await.unwrap();
    server.stop().await;
    let data = dir.path().join("data");
    let before = files(&data);

    let checked = binary::check(&data, &[]);

    let report = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{checked:?}");
    for line in [
        "users:            3",
        "login profiles:   2",
        "lockout entries:  1",
        "password policy:  present",
        "acknowledged:     up to write #6 (ACKNOWLEDGED); the store holds up to #6",
        "healthy:          `serve` starts on this store",
    ] {
        assert!(report.contains(line), "{line:?} in:\n{report}");
    }
    assert!(!report.contains("argon2"), "{report}");
    assert!(before == files(&data), "check changed the data directory");
}

#[tokio::test]
async fn check_leaves_a_store_a_running_server_holds_alone() {
    if crate::helpers::sled_only("loginprofiled check reads the embedded store") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _server = Binary::start(dir.path(), &[]).await;

    let checked = binary::check(&dir.path().join("data"), &[]);

    assert!(!checked.status.success());
    let stderr = String::from_utf8_lossy(&checked.stderr);
    assert!(
        stderr.contains("is in use by a running loginprofiled"),
        "{stderr}"
    );
}

#[test]
fn check_says_so_when_there_is_no_store() {
    if crate::helpers::sled_only("loginprofiled check reads the embedded store") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();

    let checked = binary::check(dir.path(), &[]);

    assert!(!checked.status.success());
    let stderr = String::from_utf8_lossy(&checked.stderr);
    assert!(stderr.contains("holds no sled store"), "{stderr}");
}
