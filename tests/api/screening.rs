//! Screening of new passwords (DESIGN "Screening new passwords"): the built-in list and the
//! user-name rule on every way a password is set, on both transports, after the account policy;
//! operators' lists in `lists`, the marking at sign-in in `sign_in`.

mod lists;
mod sign_in;

use loginprofiled::{
    grpc::proto::{
        ChangePasswordRequest, CreateLoginProfileRequest, UpdateAccountPasswordPolicyRequest,
        UpdateLoginProfileRequest,
    },
    screening::Screening,
};
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

use crate::{
    helpers::{
        TestApp, assert_error, assert_policy_violation, spawn_app, spawn_app_with, user,
        user_with_profile,
    },
    policy::set_policy,
    query_api::{BOB_KEY, SECRET, assert_failure, sdk_app},
};

pub const BLOCKLIST: &str = "The password is too common or has appeared in a data breach. Choose a different password: several unrelated words are easy to remember and hard to guess.";
pub const CONTEXT: &str = "The password must not be based on the user name or the account ID. Choose a different password.";
/// Meets IAM's default policy and is on no list.
pub const STRONG: &str = "Vq7-mirth-Ogle-plank";

/// Asserts a screening refusal: PasswordPolicyViolation with the rule's message and its
/// `ErrorInfo.metadata["rule"]`.
#[track_caller]
pub fn assert_screened(status: &Status, rule: &str) {
    let message = if rule == "blocklist" {
        BLOCKLIST
    } else {
        CONTEXT
    };
    assert_error(
        status,
        Code::InvalidArgument,
        "PasswordPolicyViolation",
        message,
    );
    let info = status.get_error_details().error_info().cloned().unwrap();
    assert_eq!(info.metadata.get("rule").map(String::as_str), Some(rule));
}

pub async fn create(app: &TestApp, name: &str, password: &str) -> Result<(), Status> {
    let request = CreateLoginProfileRequest {
        user_name: name.to_owned(),
        password: password.to_owned(),
        password_reset_required: false,
    };
    app.profiles().create_login_profile(request).await.map(drop)
}

async fn update(app: &TestApp, name: &str, password: &str) -> Result<(), Status> {
    let request = UpdateLoginProfileRequest {
        user_name: name.to_owned(),
        password: Some(password.to_owned()),
        password_reset_required: None,
    };
    app.profiles().update_login_profile(request).await.map(drop)
}

async fn change(app: &TestApp, name: &str, old: &str, new: &str) -> Result<(), Status> {
    let request = ChangePasswordRequest {
        user_name: name.to_owned(),
        old_password: old.to_owned(),
        new_password: new.to_owned(),
    };
    app.profiles().change_password(request).await.map(drop)
}

#[tokio::test]
async fn common_passwords_are_refused_however_a_password_is_set() {
    let app = spawn_app().await;
    user(&app, "Ann").await;
    for common in ["Password1", "Qwerty123", "Welcome1", "Passw0rd"] {
        assert_screened(&create(&app, "Ann", common).await.unwrap_err(), "blocklist");
    }
    create(&app, "Ann", STRONG).await.unwrap();
    assert_screened(
        &update(&app, "Ann", "P@ssw0rd").await.unwrap_err(),
        "blocklist",
    );
    assert_screened(
        &change(&app, "Ann", STRONG, "Qwerty123").await.unwrap_err(),
        "blocklist",
    );
    change(&app, "Ann", STRONG, "Tarn-Quib-8-velvet")
        .await
        .unwrap();
}

#[tokio::test]
async fn the_user_name_with_digits_or_symbols_added_is_refused_as_context() {
    let app = spawn_app().await;
    user(&app, "alice").await;
    assert_screened(
        &create(&app, "alice", "Alice2024!").await.unwrap_err(),
        "context",
    );
    assert_screened(
        &create(&app, "alice", "!!ALICE-99").await.unwrap_err(),
        "context",
    );
    set_policy(
        &app,
        UpdateAccountPasswordPolicyRequest {
            minimum_password_length: Some(6),
            ..Default::default()
        },
    )
    .await;
    assert_screened(
        &create(&app, "alice", "123456789012").await.unwrap_err(),
        "context",
    );
    create(&app, "alice", "Malice-Aforethought-7")
        .await
        .unwrap();
}

#[tokio::test]
async fn the_account_policy_is_checked_before_screening() {
    let app = spawn_app().await;
    user(&app, "Ann").await;
    // Short and on every list: the policy's message wins.
    let err = create(&app, "Ann", "qwerty").await.unwrap_err();
    assert_policy_violation(&err, "Password should have a minimum length of 8");
    user(&app, "password").await;
    // One class only, and the user name: the policy's message wins.
    let err = create(&app, "password", "password").await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("Password should meet"), "{err:?}");
}

#[tokio::test]
async fn screening_off_accepts_exactly_what_iam_accepts() {
    let app = spawn_app_with(|c| c.screening = Screening::off()).await;
    user_with_profile(&app, "Ann", "Password1").await;
    user_with_profile(&app, "alice", "Alice2024!").await;
    change(&app, "Ann", "Password1", "Qwerty123").await.unwrap();
}

#[tokio::test]
async fn the_query_api_refuses_common_passwords_with_the_same_message() {
    let (app, admin) = sdk_app().await;
    let iam = admin;
    iam.create_user().user_name("Bob").send().await.unwrap();
    let err = iam
        .create_login_profile()
        .user_name("Bob")
        .password("Welcome1")
        .send()
        .await
        .unwrap_err();
    assert_failure(&err, "PasswordPolicyViolation", BLOCKLIST, 400);
    let err = iam
        .create_login_profile()
        .user_name("Bob")
        .password("bob#2024")
        .send()
        .await
        .unwrap_err();
    assert_failure(&err, "PasswordPolicyViolation", CONTEXT, 400);
    iam.create_login_profile()
        .user_name("Bob")
        .password(STRONG)
        .send()
        .await
        .unwrap();
    let err = iam
        .update_login_profile()
        .user_name("Bob")
        .password("Passw0rd")
        .send()
        .await
        .unwrap_err();
    assert_failure(&err, "PasswordPolicyViolation", BLOCKLIST, 400);
    let bob = crate::query_api::iam(app.http_addr, BOB_KEY, SECRET);
    let err = bob
        .change_password()
        .old_password(STRONG)
        .new_password("Qwerty123")
        .send()
        .await
        .unwrap_err();
    assert_failure(&err, "PasswordPolicyViolation", BLOCKLIST, 400);
}
