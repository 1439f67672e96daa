//! Caller auth: bearer tokens, scopes, and the open health and reflection services.

use loginprofiled::{
    access::Scope,
    grpc::proto::{GetUserRequest, ListUsersRequest, VerifyPasswordRequest},
};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::{assert_error, spawn_app_with, tokens_with};

#[tokio::test]
async fn calls_without_a_token_or_with_a_wrong_one_are_unauthenticated() {
    let (tokens, _) = tokens_with(&[("ops", &[Scope::Admin])]);
    let app = spawn_app_with(|c| c.tokens = Some(tokens)).await;
    let err = app
        .users()
        .get_user(GetUserRequest {
            user_name: "x".into(),
        })
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::Unauthenticated,
        "MissingAuthenticationToken",
        "Missing Authentication Token",
    );

    let app = app.with_token(Some("lpd_not-a-real-token".into()));
    let err = app
        .users()
        .get_user(GetUserRequest {
            user_name: "x".into(),
        })
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::Unauthenticated,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    );
}

#[tokio::test]
async fn each_scope_grants_exactly_its_methods() {
    let (tokens, secrets) = tokens_with(&[
        ("ops", &[Scope::Admin]),
        ("frontend", &[Scope::Signin]),
        ("audit", &[Scope::Read]),
    ]);
    let app = spawn_app_with(|c| c.tokens = Some(tokens)).await;
    let [admin, signin, read] = [0, 1, 2].map(|i| secrets[i].clone());

    let app = app.with_token(Some(admin));
    crate::login_profiles::user(&app, "alice").await;

    let app = app.with_token(Some(signin));
    let verify = || VerifyPasswordRequest {
        user_name: "alice".into(),
        password: "whatever".into(),
    };
    app.profiles().verify_password(verify()).await.unwrap();
    app.users()
        .get_user(GetUserRequest {
            user_name: "alice".into(),
        })
        .await
        .unwrap();
    let err = app
        .users()
        .list_users(ListUsersRequest::default())
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::PermissionDenied,
        "AccessDenied",
        "Caller frontend is not authorized to perform ListUsers.",
    );

    let app = app.with_token(Some(read));
    app.users()
        .list_users(ListUsersRequest::default())
        .await
        .unwrap();
    let err = app.profiles().verify_password(verify()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = app
        .users()
        .create_user(loginprofiled::grpc::proto::CreateUserRequest {
            user_name: "bob".into(),
            path: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn health_needs_no_token_and_reports_every_service() {
    let (tokens, _) = tokens_with(&[("ops", &[Scope::Admin])]);
    let app = spawn_app_with(|c| c.tokens = Some(tokens)).await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in [
        "",
        "iam.loginprofile.v1.LoginProfileService",
        "iam.loginprofile.v1.UserService",
        "iam.loginprofile.v1.AccountPasswordPolicyService",
    ] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving,
            "{service:?}"
        );
    }
}
