//! AccountPasswordPolicyService and the policy check of every new password.

use loginprofiled::grpc::proto::{
    DeleteAccountPasswordPolicyRequest, GetAccountPasswordPolicyRequest, PasswordPolicy,
    UpdateAccountPasswordPolicyRequest, UpdateLoginProfileRequest, VerifyResult,
};
use tonic::Code;

use crate::{
    helpers::{TestApp, assert_error, assert_policy_violation, spawn_app, user, user_with_profile},
    login_profiles::{GOOD, create, verify},
};

pub async fn set_policy(app: &TestApp, request: UpdateAccountPasswordPolicyRequest) {
    app.policy()
        .update_account_password_policy(request)
        .await
        .unwrap();
}

async fn get_policy(app: &TestApp) -> PasswordPolicy {
    let reply = app
        .policy()
        .get_account_password_policy(GetAccountPasswordPolicyRequest {})
        .await
        .unwrap();
    reply.into_inner().password_policy.unwrap()
}

#[tokio::test]
async fn an_empty_update_stores_the_defaults_and_leaves_optional_fields_absent() {
    let app = spawn_app().await;
    set_policy(&app, UpdateAccountPasswordPolicyRequest::default()).await;
    let policy = get_policy(&app).await;
    assert_eq!(
        policy,
        PasswordPolicy {
            minimum_password_length: 6,
            ..PasswordPolicy::default()
        },
        "7 fields, the three optional ones absent"
    );
}

#[tokio::test]
async fn given_optional_fields_are_echoed_and_expire_passwords_follows_max_age() {
    let app = spawn_app().await;
    let request = UpdateAccountPasswordPolicyRequest {
        minimum_password_length: Some(12),
        require_symbols: true,
        require_numbers: true,
        allow_users_to_change_password: true,
        max_password_age: Some(60),
        password_reuse_prevention: Some(3),
        hard_expiry: Some(false),
        ..Default::default()
    };
    set_policy(&app, request).await;
    let policy = get_policy(&app).await;
    assert_eq!(policy.minimum_password_length, 12);
    assert!(policy.expire_passwords && policy.require_symbols && policy.require_numbers);
    assert_eq!(
        (
            policy.max_password_age,
            policy.password_reuse_prevention,
            policy.hard_expiry
        ),
        (Some(60), Some(3), Some(false))
    );

    // An update replaces the whole policy: what is not given reverts.
    set_policy(
        &app,
        UpdateAccountPasswordPolicyRequest {
            require_numbers: true,
            ..Default::default()
        },
    )
    .await;
    let policy = get_policy(&app).await;
    assert_eq!(policy.minimum_password_length, 6);
    assert!(!policy.expire_passwords && !policy.require_symbols);
    assert_eq!(
        (
            policy.max_password_age,
            policy.password_reuse_prevention,
            policy.hard_expiry
        ),
        (None, None, None)
    );
}

#[tokio::test]
async fn out_of_range_values_are_reported_in_iam_order() {
    let app = spawn_app().await;
    let too_big = UpdateAccountPasswordPolicyRequest {
        max_password_age: Some(1096),
        minimum_password_length: Some(129),
        password_reuse_prevention: Some(25),
        ..Default::default()
    };
    let err = app
        .policy()
        .update_account_password_policy(too_big)
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "ValidationError",
        "3 validation errors detected: Value at 'minimumPasswordLength' failed to satisfy constraint: Member must \
         have value less than or equal to 128; Value at 'passwordReusePrevention' failed to satisfy constraint: \
         Member must have value less than or equal to 24; Value at 'maxPasswordAge' failed to satisfy \
         constraint: Member must have value less than or equal to 1095",
    );
    let too_small = UpdateAccountPasswordPolicyRequest {
        minimum_password_length: Some(5),
        password_reuse_prevention: Some(0),
        max_password_age: Some(0),
        ..Default::default()
    };
    let err = app
        .policy()
        .update_account_password_policy(too_small)
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "3 validation errors detected: Value at 'minimumPasswordLength' failed to satisfy constraint: Member must \
         have value greater than or equal to 6; Value at 'passwordReusePrevention' failed to satisfy constraint: \
         Member must have value greater than or equal to 1; Value at 'maxPasswordAge' failed to satisfy \
         constraint: Member must have value greater than or equal to 1"
    );
    let err = app
        .policy()
        .get_account_password_policy(GetAccountPasswordPolicyRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "nothing was stored");
}

#[tokio::test]
async fn get_and_delete_without_a_policy_have_their_own_messages() {
    let app = spawn_app().await;
    let err = app
        .policy()
        .get_account_password_policy(GetAccountPasswordPolicyRequest {})
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::NotFound,
        "NoSuchEntity",
        "The Password Policy with domain name 123456789012 cannot be found.",
    );
    let err = app
        .policy()
        .delete_account_password_policy(DeleteAccountPasswordPolicyRequest {})
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::NotFound,
        "NoSuchEntity",
        "The account policy with name PasswordPolicy cannot be found.",
    );

    set_policy(&app, UpdateAccountPasswordPolicyRequest::default()).await;
    app.policy()
        .delete_account_password_policy(DeleteAccountPasswordPolicyRequest {})
        .await
        .unwrap();
    let err = app
        .policy()
        .get_account_password_policy(GetAccountPasswordPolicyRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn without_a_custom_policy_the_iam_default_applies() {
    let app = spawn_app().await;
    user(&app, "alice").await;
    let err = app
        .profiles()
        .create_login_profile(create("alice", "Ab1!", false))
        .await
        .unwrap_err();
    assert_policy_violation(&err, "Password should have a minimum length of 8");
    let err = app
        .profiles()
        .create_login_profile(create("alice", "lowercase123", false))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "PasswordPolicyViolation",
        "Password should meet 1 more of the following requirements: Password should have at least one uppercase \
         letter, Password should have at least one symbol",
    );
    // IAM counts only its 20 symbols: `~` is not one of them.
    let err = app
        .profiles()
        .create_login_profile(create("alice", "lowercase~~1", false))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    app.profiles()
        .create_login_profile(create("alice", "lowercase#12", false))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_custom_policy_replaces_the_default_and_applies_to_the_next_password_only() {
    let app = spawn_app().await;
    user_with_profile(&app, "bob", GOOD).await;
    set_policy(
        &app,
        UpdateAccountPasswordPolicyRequest {
            minimum_password_length: Some(20),
            require_lowercase_characters: true,
            require_numbers: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        verify(&app, "bob", GOOD).await,
        VerifyResult::Ok,
        "stored passwords stay valid"
    );

    let update = |password: &str| UpdateLoginProfileRequest {
        user_name: "bob".into(),
        password: Some(password.into()),
        password_reset_required: None,
    };
    let err = app
        .profiles()
        .update_login_profile(update("SHORTUPPER"))
        .await
        .unwrap_err();
    assert_policy_violation(&err, "Password should have a minimum length of 20");
    let err = app
        .profiles()
        .update_login_profile(update("LONG ENOUGH BUT ALL UPPER CASE"))
        .await
        .unwrap_err();
    assert_policy_violation(
        &err,
        "Password should have at least one lowercase letter, Password should have at least one number",
    );
    // No symbol or upper case needed under this policy.
    app.profiles()
        .update_login_profile(update("only lowercase and 1 digit"))
        .await
        .unwrap();
}
