//! The steps many tests begin with (a user; a user with a login profile) and the IAM errors
//! that name a missing user or profile, asserted word for word.

use loginprofiled::grpc::proto::{CreateLoginProfileRequest, CreateUserRequest};
use tonic::{Code, Status};

use super::{TestApp, assert_error};

/// Creates the user `name` at path `/`.
pub async fn user(app: &TestApp, name: &str) {
    let request = CreateUserRequest {
        user_name: name.to_owned(),
        ..Default::default()
    };
    app.users().create_user(request).await.unwrap();
}

/// Creates the user `name` and its login profile with `password` (no reset required).
pub async fn user_with_profile(app: &TestApp, name: &str, password: &str) {
    user(app, name).await;
    let request = CreateLoginProfileRequest {
        user_name: name.to_owned(),
        password: password.to_owned(),
        password_reset_required: false,
    };
    app.profiles().create_login_profile(request).await.unwrap();
}

/// Asserts IAM's NoSuchEntity for a user, named as the caller sent it.
#[track_caller]
pub fn assert_no_such_user(status: &Status, name: &str) {
    let message = format!("The user with name {name} cannot be found.");
    assert_error(status, Code::NotFound, "NoSuchEntity", &message);
}

/// Asserts IAM's NoSuchEntity for an existing user without a login profile.
#[track_caller]
pub fn assert_no_profile(status: &Status, name: &str) {
    let message = format!("Login Profile for User {name} cannot be found.");
    assert_error(status, Code::NotFound, "NoSuchEntity", &message);
}

/// Asserts IAM's PasswordPolicyViolation with `message`.
#[track_caller]
pub fn assert_policy_violation(status: &Status, message: &str) {
    assert_error(
        status,
        Code::InvalidArgument,
        "PasswordPolicyViolation",
        message,
    );
}
