//! The Query API by hand: the seed's GET form, common errors, size limits, headers.

use super::{access_keys, send};
use crate::helpers::{spawn_app, spawn_app_with};

const NS: &str = "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"";

#[tokio::test]
async fn the_seeds_get_form_works_unsigned_on_a_local_server() {
    let app = spawn_app().await;
    let created = send(
        app.http_addr,
        "GET",
        "/?Action=CreateUser&UserName=Bob",
        b"",
    )
    .await;
    assert_eq!(created.status, 200, "{created:?}");

    let response = send(
        app.http_addr,
        "GET",
        "/?Action=CreateLoginProfile&UserName=Bob&Password=Correct+horse%20battery1!&PasswordResetRequired=true",
        b"",
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("content-type"), Some("text/xml"));
    let request_id = response.header("x-amzn-requestid").unwrap();
    assert_eq!(request_id.len(), 36);
    let body = &response.body;
    assert!(
        body.starts_with(&format!("<CreateLoginProfileResponse {NS}>\n  <CreateLoginProfileResult>\n    <LoginProfile>\n      <UserName>Bob</UserName>\n      <CreateDate>")),
        "{body}"
    );
    assert!(
        body.contains("Z</CreateDate>\n      <PasswordResetRequired>true</PasswordResetRequired>"),
        "{body}"
    );
    assert!(
        body.contains(&format!("<RequestId>{request_id}</RequestId>")),
        "{body}"
    );
    assert!(!body.contains("horse"), "{body}");

    // The password decoded `+` and `%20` alike: the same password, sent as a POST form with
    // the other spelling, is the current one, so ChangePassword accepts it as the old one.
    let change = send(
        app.http_addr,
        "POST",
        "/",
        b"Action=ChangePassword&UserName=Bob&OldPassword=Correct%20horse+battery1!&NewPassword=Another+one+42!",
    )
    .await;
    assert_eq!(change.status, 200, "{change:?}");
    assert!(
        change.body.starts_with(&format!(
            "<ChangePasswordResponse {NS}>\n  <ResponseMetadata>"
        )),
        "{change:?}"
    );
}

#[tokio::test]
async fn missing_unknown_and_misversioned_actions_are_common_errors() {
    let app = spawn_app().await;
    let cases = [
        ("/", "MissingAction", "Missing Action"),
        (
            "/?Action=CreateAccessKey",
            "InvalidAction",
            "Could not find operation CreateAccessKey for version 2010-05-08",
        ),
        (
            "/?Action=VerifyPassword&UserName=a&Password=b",
            "InvalidAction",
            "Could not find operation VerifyPassword for version 2010-05-08",
        ),
        (
            "/?Action=GetUser&UserName=a&Version=2006-03-01",
            "InvalidAction",
            "Could not find operation GetUser for version 2006-03-01",
        ),
    ];
    for (target, code, message) in cases {
        let response = send(app.http_addr, "GET", target, b"").await;
        assert_eq!(response.status, 400, "{target}: {response:?}");
        assert!(response.body.starts_with(&format!("<ErrorResponse {NS}>\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n  <RequestId>")), "{target}: {}", response.body);
    }
}

#[tokio::test]
async fn oversized_urls_and_bodies_are_refused_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let long_url = format!("/?Action=GetUser&UserName=a&Pad={}", "x".repeat(16 * 1024));
    let response = send(app.http_addr, "GET", &long_url, b"").await;
    assert_eq!(response.status, 414, "{response:?}");
    assert!(
        response.body.contains("<Code>RequestURITooLong</Code>"),
        "{response:?}"
    );

    let big_body = format!("Action=GetUser&UserName=a&Pad={}", "x".repeat(64 * 1024));
    let response = send(app.http_addr, "POST", "/", big_body.as_bytes()).await;
    assert_eq!(response.status, 413, "{response:?}");
    assert!(
        response.body.contains("<Code>RequestEntityTooLarge</Code>"),
        "{response:?}"
    );

    let response = send(app.http_addr, "POST", "/", b"Action=ListUsers").await;
    assert_eq!(response.status, 200, "{response:?}");
    assert!(response.body.contains("<Users/>"), "{response:?}");
    assert!(
        response.body.contains("<IsTruncated>false</IsTruncated>"),
        "{response:?}"
    );
}

#[tokio::test]
async fn with_access_keys_an_unsigned_request_is_refused() {
    let app = spawn_app_with(|c| c.tokens = Some(access_keys())).await;
    let response = send(app.http_addr, "GET", "/?Action=ListUsers", b"").await;
    assert_eq!(response.status, 403, "{response:?}");
    assert!(
        response
            .body
            .contains("<Code>MissingAuthenticationToken</Code>"),
        "{response:?}"
    );
    let bad = send(
        app.http_addr,
        "GET",
        "/?Action=ListUsers&X-Amz-Signature=00&X-Amz-Credential=AKIAADMINEXAMPLE0001%2F20260101%2Fus-east-1%2Fiam%2Faws4_request",
        b"",
    )
    .await;
    assert_eq!(bad.status, 400, "{bad:?}");
    assert!(
        bad.body.contains("<Code>IncompleteSignature</Code>"),
        "{bad:?}"
    );
}

#[tokio::test]
async fn validation_errors_read_as_iam_writes_them() {
    let app = spawn_app().await;
    let response = send(
        app.http_addr,
        "POST",
        "/",
        b"Action=UpdateAccountPasswordPolicy&Version=2010-05-08&MaxPasswordAge=1096&MinimumPasswordLength=129&PasswordReusePrevention=25",
    )
    .await;
    assert_eq!(response.status, 400);
    assert!(response.body.contains("<Message>3 validation errors detected: Value at 'minimumPasswordLength' failed to satisfy constraint: Member must have value less than or equal to 128; Value at 'passwordReusePrevention' failed to satisfy constraint: Member must have value less than or equal to 24; Value at 'maxPasswordAge' failed to satisfy constraint: Member must have value less than or equal to 1095</Message>"), "{}", response.body);

    let response = send(app.http_addr, "POST", "/", b"Action=GetLoginProfile").await;
    assert_eq!(response.status, 400);
    assert!(response.body.contains("<Code>ValidationError</Code>\n    <Message>Must specify userName when calling with non-User credentials</Message>"), "{}", response.body);
}

#[tokio::test]
async fn the_http_listener_stops_with_the_server() {
    let mut app = spawn_app().await;
    app.stop().await.unwrap();
    assert!(tokio::net::TcpStream::connect(app.http_addr).await.is_err());
}
