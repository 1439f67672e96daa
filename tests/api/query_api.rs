//! The IAM Query API over HTTP: the AWS SDK for Rust as a real client (it checks the XML shape
//! strictly), and raw HTTP for what SDKs never send.

mod directory;
mod raw;
mod sdk;
mod signing;

use std::{net::SocketAddr, sync::Arc};

use aws_sdk_iam::{
    config::{BehaviorVersion, Credentials, Region, retry::RetryConfig},
    error::{ProvideErrorMetadata, SdkError},
};
use loginprofiled::access::Tokens;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{TestApp, spawn_app_with};

pub const ADMIN_KEY: &str = "AKIAADMINEXAMPLE0001";
pub const BOB_KEY: &str = "AKIABOBEXAMPLE000002";
pub const READ_KEY: &str = "AKIAREADEXAMPLE00003";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// Access keys: an admin key with no user, Bob's own signin key, and a read-only key.
pub fn access_keys() -> Arc<Tokens> {
    let text = format!(
        "[[access_key]]\naccess_key_id = '{ADMIN_KEY}'\nsecret_access_key = '{SECRET}'\n\
         scopes = ['admin']\nname = 'ops'\n\n\
         [[access_key]]\naccess_key_id = '{BOB_KEY}'\nsecret_access_key = '{SECRET}'\n\
         scopes = ['signin']\nuser = 'Bob'\n\n\
         [[access_key]]\naccess_key_id = '{READ_KEY}'\nsecret_access_key = '{SECRET}'\n\
         scopes = ['read']\n"
    );
    Arc::new(Tokens::parse(&text).unwrap())
}

/// A server that admits the [`access_keys`].
pub async fn keyed_app() -> TestApp {
    spawn_app_with(|c| c.tokens = Some(access_keys())).await
}

/// A server that admits the [`access_keys`], and an SDK client signing with the admin key.
pub async fn sdk_app() -> (TestApp, aws_sdk_iam::Client) {
    let app = keyed_app().await;
    let admin = iam(app.http_addr, ADMIN_KEY, SECRET);
    (app, admin)
}

/// The IAM code, message and HTTP status of a failed SDK call.
pub fn failure<E: ProvideErrorMetadata>(err: &SdkError<E>) -> (String, String, u16) {
    (
        err.code().unwrap_or_default().to_owned(),
        err.message().unwrap_or_default().to_owned(),
        err.raw_response().map_or(0, |r| r.status().as_u16()),
    )
}

/// Asserts a failed SDK call's IAM code, message (word for word) and HTTP status.
#[track_caller]
pub fn assert_failure<E: ProvideErrorMetadata + std::fmt::Debug>(
    err: &SdkError<E>,
    code: &str,
    message: &str,
    status: u16,
) {
    let expected = (code.to_owned(), message.to_owned(), status);
    assert_eq!(failure(err), expected, "{err:?}");
}

/// Asserts a failed SDK call's IAM code and HTTP status, whatever its message.
#[track_caller]
pub fn assert_refused<E: ProvideErrorMetadata + std::fmt::Debug>(
    err: &SdkError<E>,
    code: &str,
    status: u16,
) {
    let (got_code, _, got_status) = failure(err);
    assert_eq!((got_code.as_str(), got_status), (code, status), "{err:?}");
}

/// An IAM client of the AWS SDK for Rust pointed at the server, without retries.
pub fn iam(http_addr: SocketAddr, key: &str, secret: &str) -> aws_sdk_iam::Client {
    iam_with_session(http_addr, key, secret, None)
}

/// [`iam`] with session credentials when `session_token` is given.
pub fn iam_with_session(
    http_addr: SocketAddr,
    key: &str,
    secret: &str,
    session_token: Option<&str>,
) -> aws_sdk_iam::Client {
    let credentials = Credentials::new(key, secret, session_token.map(str::to_owned), None, "test");
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(format!("http://{http_addr}"))
        .credentials_provider(credentials)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

/// A plain HTTP/1.1 response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request over a fresh connection and reads the whole response.
pub async fn send(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> RawResponse {
    let mut headers = vec![("host".to_owned(), addr.to_string())];
    if method == "POST" {
        headers.push((
            "content-type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        ));
    }
    send_with(addr, method, target, &headers, body).await
}

/// Sends one request with exactly `headers` (plus `connection` and, for a body,
/// `content-length`) over a fresh connection and reads the whole response.
pub async fn send_with(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> RawResponse {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    // A refused oversized body may close the connection before all of it is written.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    RawResponse {
        status,
        headers,
        body: body.to_owned(),
    }
}
