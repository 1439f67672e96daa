//! Caller auth: bearer tokens, scopes, and the open health and reflection services.

use loginprofiled::{
    access::Scope,
    grpc::proto::{GetUserRequest, ListUsersRequest, VerifyPasswordRequest},
};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use tonic::{Request, Status, metadata::MetadataValue};

use crate::helpers::{assert_error, spawn_app_with, tokens_with};

/// GetUser with exactly these `authorization` values, in this order.
async fn get_user_with(
    app: &crate::helpers::TestApp,
    authorization: Vec<String>,
) -> Result<(), Status> {
    let interceptor = move |mut request: Request<()>| {
        for value in &authorization {
            let value: MetadataValue<_> = value.parse().unwrap();
            request.metadata_mut().append("authorization", value);
        }
        Ok(request)
    };
    let mut users =
        loginprofiled::grpc::proto::user_service_client::UserServiceClient::with_interceptor(
            app.channel.clone(),
            interceptor,
        );
    let request = GetUserRequest {
        user_name: "nobody".into(),
    };
    match users.get_user(request).await {
        // NotFound means the call got past auth, which is all these tests ask.
        Err(status) if status.code() == Code::NotFound => Ok(()),
        Err(status) => Err(status),
        Ok(_) => Ok(()),
    }
}

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
    crate::helpers::user(&app, "alice").await;

    let app = app.with_token(Some(signin));
    let verify = || VerifyPasswordRequest {
        mfa_code: None,
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
            ..Default::default()
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

#[tokio::test]
async fn the_bearer_scheme_is_matched_in_any_case() {
    let (tokens, secrets) = tokens_with(&[("ops", &[Scope::Admin])]);
    let app = spawn_app_with(|c| c.tokens = Some(tokens)).await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let result = get_user_with(&app, vec![format!("{scheme} {}", secrets[0])]).await;
        assert!(result.is_ok(), "{scheme}: {result:?}");
    }
    let err = get_user_with(&app, vec![format!("Basic {}", secrets[0])])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn two_authorization_headers_are_refused_as_ambiguous() {
    let (tokens, secrets) = tokens_with(&[("ops", &[Scope::Admin]), ("audit", &[Scope::Read])]);
    let app = spawn_app_with(|c| c.tokens = Some(tokens)).await;
    let valid = |i: usize| format!("Bearer {}", secrets[i]);
    for pair in [
        vec![valid(0), valid(1)],
        vec![valid(0), "Bearer lpd_wrong".to_owned()],
        vec!["Bearer lpd_wrong".to_owned(), valid(0)],
        vec![valid(0), valid(0)],
    ] {
        let err = get_user_with(&app, pair).await.unwrap_err();
        assert_error(
            &err,
            Code::Unauthenticated,
            "InvalidClientTokenId",
            "The request carries more than one authorization header; send exactly one.",
        );
    }
}
