//! LoginProfileService: the four IAM operations, word for word.

use tonic::Code;
use tonic_types::StatusExt as _;

use crate::helpers::{
    TestApp, assert_error, assert_no_profile, assert_no_such_user, spawn_app, user,
    user_with_profile,
};
use loginprofiled::grpc::proto::{
    CreateLoginProfileRequest, DeleteLoginProfileRequest, GetLoginProfileRequest, LoginProfile,
    UpdateLoginProfileRequest, VerifyPasswordRequest, VerifyResult,
};

pub const GOOD: &str = "Str0ng!Passw0rd";
pub const OTHER: &str = "An0ther#Secret";

pub fn create(name: &str, password: &str, reset: bool) -> CreateLoginProfileRequest {
    CreateLoginProfileRequest {
        user_name: name.to_owned(),
        password: password.to_owned(),
        password_reset_required: reset,
    }
}

pub fn get(name: &str) -> GetLoginProfileRequest {
    GetLoginProfileRequest {
        user_name: name.to_owned(),
    }
}

/// The user's login profile, which must exist.
pub async fn login_profile(app: &TestApp, name: &str) -> LoginProfile {
    let reply = app.profiles().get_login_profile(get(name)).await.unwrap();
    reply.into_inner().login_profile.unwrap()
}

pub async fn verify(app: &TestApp, name: &str, password: &str) -> VerifyResult {
    let request = VerifyPasswordRequest {
        mfa_code: None,
        user_name: name.to_owned(),
        password: password.to_owned(),
    };
    app.profiles()
        .verify_password(request)
        .await
        .unwrap()
        .into_inner()
        .result()
}

#[tokio::test]
async fn create_then_get_shows_the_profile_without_any_secret() {
    let app = spawn_app().await;
    user(&app, "Alice").await;
    let created = app
        .profiles()
        .create_login_profile(create("alice", GOOD, true))
        .await
        .unwrap()
        .into_inner();
    let created = created.login_profile.unwrap();
    assert_eq!(created.user_name, "Alice");
    assert!(created.password_reset_required);
    let got = login_profile(&app, "ALICE").await;
    assert_eq!(got, created);
}

#[tokio::test]
async fn create_date_is_when_the_profile_was_made_and_never_changes() {
    let app = spawn_app().await;
    user(&app, "bob").await;
    app.clock.advance(std::time::Duration::from_secs(3600));
    let made = app
        .profiles()
        .create_login_profile(create("bob", GOOD, false))
        .await
        .unwrap()
        .into_inner();
    let made_at = made.login_profile.unwrap().create_date.unwrap();
    let user_made_at = app
        .users()
        .get_user(loginprofiled::grpc::proto::GetUserRequest {
            user_name: "bob".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap()
        .create_date
        .unwrap();
    assert!(made_at.seconds >= user_made_at.seconds + 3600);
    app.clock.advance(std::time::Duration::from_secs(60));
    let update = UpdateLoginProfileRequest {
        user_name: "bob".into(),
        password: Some(OTHER.into()),
        password_reset_required: Some(true),
    };
    app.profiles().update_login_profile(update).await.unwrap();
    let got = login_profile(&app, "bob").await;
    assert_eq!(got.create_date.unwrap(), made_at);
}

#[tokio::test]
async fn create_for_an_unknown_user_is_not_found() {
    let app = spawn_app().await;
    let err = app
        .profiles()
        .create_login_profile(create("Ghost", GOOD, false))
        .await
        .unwrap_err();
    assert_no_such_user(&err, "Ghost");
}

#[tokio::test]
async fn a_second_profile_for_a_user_already_exists() {
    let app = spawn_app().await;
    user_with_profile(&app, "carol", GOOD).await;
    let err = app
        .profiles()
        .create_login_profile(create("Carol", OTHER, false))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::AlreadyExists,
        "EntityAlreadyExists",
        "Login Profile for user Carol already exists.",
    );
}

#[tokio::test]
async fn get_update_delete_name_the_missing_thing() {
    let app = spawn_app().await;
    user(&app, "dave").await;
    let err = app
        .profiles()
        .get_login_profile(get("dave"))
        .await
        .unwrap_err();
    assert_no_profile(&err, "dave");
    let update = UpdateLoginProfileRequest {
        user_name: "dave".into(),
        password: None,
        password_reset_required: None,
    };
    let err = app
        .profiles()
        .update_login_profile(update)
        .await
        .unwrap_err();
    assert_no_profile(&err, "dave");
    let err = app
        .profiles()
        .delete_login_profile(DeleteLoginProfileRequest {
            user_name: "dave".into(),
        })
        .await
        .unwrap_err();
    assert_no_profile(&err, "dave");

    let err = app
        .profiles()
        .get_login_profile(get("nobody"))
        .await
        .unwrap_err();
    assert_no_such_user(&err, "nobody");
}

#[tokio::test]
async fn update_changes_only_what_is_given() {
    let app = spawn_app().await;
    user_with_profile(&app, "erin", GOOD).await;

    let nothing = UpdateLoginProfileRequest {
        user_name: "erin".into(),
        password: None,
        password_reset_required: None,
    };
    app.profiles().update_login_profile(nothing).await.unwrap();
    assert_eq!(verify(&app, "erin", GOOD).await, VerifyResult::Ok);

    let flag_only = UpdateLoginProfileRequest {
        user_name: "erin".into(),
        password: None,
        password_reset_required: Some(true),
    };
    app.profiles()
        .update_login_profile(flag_only)
        .await
        .unwrap();
    let got = login_profile(&app, "erin").await;
    assert!(got.password_reset_required);
    assert_eq!(verify(&app, "erin", GOOD).await, VerifyResult::Ok);

    let password_only = UpdateLoginProfileRequest {
        user_name: "erin".into(),
        password: Some(OTHER.into()),
        password_reset_required: None,
    };
    app.profiles()
        .update_login_profile(password_only)
        .await
        .unwrap();
    let got = login_profile(&app, "erin").await;
    assert!(got.password_reset_required, "the flag stays as it was");
    assert_eq!(verify(&app, "erin", OTHER).await, VerifyResult::Ok);
    assert_eq!(
        verify(&app, "erin", GOOD).await,
        VerifyResult::InvalidCredentials
    );
}

#[tokio::test]
async fn delete_removes_the_profile_and_its_password() {
    let app = spawn_app().await;
    user_with_profile(&app, "frank", GOOD).await;
    app.profiles()
        .delete_login_profile(DeleteLoginProfileRequest {
            user_name: "frank".into(),
        })
        .await
        .unwrap();
    let err = app
        .profiles()
        .get_login_profile(get("frank"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(
        verify(&app, "frank", GOOD).await,
        VerifyResult::InvalidCredentials
    );
    // A new profile can be made again after the delete.
    app.profiles()
        .create_login_profile(create("frank", OTHER, false))
        .await
        .unwrap();
}

#[tokio::test]
async fn invalid_input_is_a_validation_error_with_field_violations_and_no_echo() {
    let app = spawn_app().await;
    let long_name = "a".repeat(65);
    let err = app
        .profiles()
        .create_login_profile(create(&long_name, "", false))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "ValidationError",
        "2 validation errors detected: Value at 'userName' failed to satisfy constraint: Member must have \
         length less than or equal to 64; Value at 'password' failed to satisfy constraint: Member must have \
         length greater than or equal to 1",
    );
    let details = err.get_error_details();
    let fields: Vec<_> = details
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, ["userName", "password"]);

    let secret = "caf\u{e9}\u{2603}snowman-secret";
    let err = app
        .profiles()
        .create_login_profile(create("bad name!", secret, false))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "ValidationError",
        "2 validation errors detected: Value at 'userName' failed to satisfy constraint: Member must satisfy \
         regular expression pattern: [\\w+=,.@-]+; Value at 'password' failed to satisfy constraint: Member \
         must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
    );
    assert!(!format!("{err:?}").contains("snowman-secret"));

    let too_long = "x".repeat(129);
    let err = app
        .profiles()
        .create_login_profile(create("ok", &too_long, false))
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length \
         less than or equal to 128"
    );
}

#[tokio::test]
async fn passwords_of_latin1_and_control_whitespace_are_accepted() {
    let app = spawn_app().await;
    user(&app, "gina").await;
    let password = "Caf\u{e9}\tBr\u{fc}cke 9!\u{ff}";
    app.profiles()
        .create_login_profile(create("gina", password, false))
        .await
        .unwrap();
    assert_eq!(verify(&app, "gina", password).await, VerifyResult::Ok);
}
