//! SigV4 as AWS checks it, past what the SDK sends by itself: the `Date` header, unsigned
//! payloads, session tokens. Requests are signed with aws-sigv4 (the AWS SDKs' own signer)
//! wherever it can make them, and by hand (checked against it) where it cannot: it always
//! signs with `X-Amz-Date`.

use std::{
    net::SocketAddr,
    time::{Duration, SystemTime},
};

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{
        PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
        sign,
    },
    sign::v4,
};
use aws_smithy_runtime_api::client::identity::Identity;
use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};
use time::{OffsetDateTime, macros::format_description};

use super::{ADMIN_KEY, RawResponse, SECRET, access_keys, iam, send_with};
use crate::helpers::{TestApp, spawn_app_with};

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// How aws-sigv4 is to sign a request.
#[derive(Default)]
struct How {
    /// Sign `UNSIGNED-PAYLOAD` (and send it as `x-amz-content-sha256`) instead of the body.
    unsigned_payload: bool,
    session_token: Option<&'static str>,
    /// A presigned URL (the signature in the query) instead of an `Authorization` header.
    presigned: bool,
}

/// A signed request: its target (path and query) and every header to send.
struct Signed {
    target: String,
    headers: Vec<(String, String)>,
}

/// `method /?query` with `body`, signed now by aws-sigv4 with the admin key.
fn sign_with_sdk(addr: SocketAddr, method: &str, query: &str, body: &[u8], how: How) -> Signed {
    let identity: Identity = Credentials::new(
        ADMIN_KEY,
        SECRET,
        how.session_token.map(str::to_owned),
        None,
        "test",
    )
    .into();
    let mut settings = SigningSettings::default();
    if how.unsigned_payload {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    if how.presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("iam")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let mut headers = vec![("host".to_owned(), addr.to_string())];
    if method == "POST" {
        headers.push(("content-type".to_owned(), FORM.to_owned()));
    }
    let uri = match query {
        "" => format!("http://{addr}/"),
        query => format!("http://{addr}/?{query}"),
    };
    let body = if how.unsigned_payload {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Bytes(body)
    };
    let signable = SignableRequest::new(
        method,
        uri.clone(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        body,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::builder().method(method).uri(&uri);
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let mut request = request.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    Signed {
        target: request.uri().path_and_query().unwrap().to_string(),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect(),
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The `Authorization` header of a `POST /` with exactly `headers` signed (names in lower case,
/// sorted), made at `timestamp` (`YYYYMMDDTHHMMSSZ`), by the algorithm of the AWS
/// documentation.
fn sign_by_hand(headers: &[(String, String)], body: &[u8], timestamp: &str) -> String {
    let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let canonical = format!(
        "POST\n/\n\n{canonical_headers}\n{}\n{}",
        names.join(";"),
        hex::encode(Sha256::digest(body))
    );
    let date = &timestamp[..8];
    let scope = format!("{date}/us-east-1/iam/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = [date, "us-east-1", "iam", "aws4_request"]
        .iter()
        .fold(format!("AWS4{SECRET}").into_bytes(), |key, part| {
            hmac(&key, part.as_bytes())
        });
    format!(
        "AWS4-HMAC-SHA256 Credential={ADMIN_KEY}/{scope}, SignedHeaders={}, Signature={}",
        names.join(";"),
        hex::encode(hmac(&key, to_sign.as_bytes()))
    )
}

/// `(HTTP date, YYYYMMDDTHHMMSSZ)` of `time`.
fn dates(time: OffsetDateTime) -> (String, String) {
    let http = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let basic = format_description!("[year][month][day]T[hour][minute][second]Z");
    (time.format(http).unwrap(), time.format(basic).unwrap())
}

/// A `POST /` of `body` signed by hand with a `Date` header (and no `X-Amz-Date`) at `time`.
fn signed_with_date_header(addr: SocketAddr, body: &[u8], time: OffsetDateTime) -> Signed {
    let (http_date, timestamp) = dates(time);
    let mut headers = vec![
        ("content-type".to_owned(), FORM.to_owned()),
        ("date".to_owned(), http_date),
        ("host".to_owned(), addr.to_string()),
    ];
    let authorization = sign_by_hand(&headers, body, &timestamp);
    headers.push(("authorization".to_owned(), authorization));
    Signed {
        target: "/".to_owned(),
        headers,
    }
}

/// A `POST /` of `body`, signed now by aws-sigv4 with the admin key.
fn sign_post(app: &TestApp, body: &[u8], how: How) -> Signed {
    sign_with_sdk(app.http_addr, "POST", "", body, how)
}

async fn post(app: &TestApp, signed: &Signed, body: &[u8]) -> RawResponse {
    send_with(app.http_addr, "POST", &signed.target, &signed.headers, body).await
}

#[track_caller]
fn assert_refused(response: &RawResponse, status: u16, code: &str) {
    assert_eq!(response.status, status, "{response:?}");
    assert!(
        response.body.contains(&format!("<Code>{code}</Code>")),
        "{response:?}"
    );
}

async fn user_exists(app: &TestApp, name: &str) -> bool {
    let admin = iam(app.http_addr, ADMIN_KEY, SECRET);
    admin.get_user().user_name(name).send().await.is_ok()
}

#[tokio::test]
async fn the_hand_signer_agrees_with_the_sdks() {
    let app = spawn_app_with(|c| c.tokens = Some(access_keys())).await;
    let body = b"Action=ListUsers";
    let sdk = sign_post(&app, body, How::default());
    let header = |name: &str| {
        sdk.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let signed = [
        ("content-type".to_owned(), header("content-type")),
        ("host".to_owned(), header("host")),
        ("x-amz-date".to_owned(), header("x-amz-date")),
    ];
    assert_eq!(
        sign_by_hand(&signed, body, &header("x-amz-date")),
        header("authorization")
    );
    assert_eq!(post(&app, &sdk, body).await.status, 200);
}

#[tokio::test]
async fn a_request_signed_with_the_date_header_is_accepted_as_aws_accepts_it() {
    let app = spawn_app_with(|c| c.tokens = Some(access_keys())).await;
    let body = b"Action=CreateUser&UserName=dated";
    let signed = signed_with_date_header(app.http_addr, body, OffsetDateTime::now_utc());

    let response = post(&app, &signed, body).await;

    assert_eq!(response.status, 200, "{response:?}");
    assert!(user_exists(&app, "dated").await);
}

#[tokio::test]
async fn the_date_header_is_held_to_the_same_fifteen_minutes() {
    let app = spawn_app_with(|c| c.tokens = Some(access_keys())).await;
    let body = b"Action=ListUsers";
    let stale = OffsetDateTime::now_utc() - Duration::from_secs(20 * 60);
    let signed = signed_with_date_header(app.http_addr, body, stale);

    assert_refused(&post(&app, &signed, body).await, 400, "RequestExpired");
}

#[tokio::test]
async fn x_amz_date_takes_precedence_over_the_date_header() {
    let app = spawn_app_with(|c| c.tokens = Some(access_keys())).await;
    let body = b"Action=ListUsers";
    let mut signed = sign_post(&app, body, How::default());
    // Unsigned, and years off: it must play no part.
    signed.headers.push((
        "date".to_owned(),
        "Mon, 01 Jan 2001 00:00:00 GMT".to_owned(),
    ));

    assert_eq!(post(&app, &signed, body).await.status, 200);
}

#[tokio::test]
async fn a_body_swapped_after_signing_an_unsigned_payload_is_refused() {
    let app = spawn_app_with(|c| c.tokens = Some(access_keys())).await;
    let signed_body = b"Action=CreateUser&UserName=signed";
    let unsigned = How {
        unsigned_payload: true,
        ..How::default()
    };
    let signed = sign_post(&app, signed_body, unsigned);
    assert!(
        signed
            .headers
            .contains(&("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into())),
        "{:?}",
        signed.headers
    );

    // IAM signs its payloads: an unsigned one is refused whether or not the body was changed.
    for body in [&b"Action=CreateUser&UserName=swapped"[..], signed_body] {
        assert_refused(
            &post(&app, &signed, body).await,
            403,
            "SignatureDoesNotMatch",
        );
    }
    assert!(!user_exists(&app, "swapped").await);
    assert!(!user_exists(&app, "signed").await);
}

#[tokio::test]
async fn a_signed_payload_hash_in_x_amz_content_sha256_is_fine() {
    let app = spawn_app_with(|c| c.tokens = Some(access_keys())).await;
    let body = b"Action=CreateUser&UserName=hashed";
    let mut signed = sign_post(&app, body, How::default());
    signed.headers.push((
        "x-amz-content-sha256".to_owned(),
        hex::encode(Sha256::digest(body)),
    ));

    assert_eq!(post(&app, &signed, body).await.status, 200);
    assert!(user_exists(&app, "hashed").await);
}

#[tokio::test]
async fn a_session_token_is_refused_in_a_header_or_a_presigned_url() {
    let app = spawn_app_with(|c| c.tokens = Some(access_keys())).await;
    let query = "Action=ListUsers&Version=2010-05-08";
    let presigned = |session_token| How {
        presigned: true,
        session_token,
        ..How::default()
    };
    let plain = sign_with_sdk(app.http_addr, "GET", query, b"", presigned(None));
    let response = send_with(app.http_addr, "GET", &plain.target, &plain.headers, b"").await;
    assert_eq!(response.status, 200, "a presigned URL works: {response:?}");

    let with_token = sign_with_sdk(
        app.http_addr,
        "GET",
        query,
        b"",
        presigned(Some("FwoGZXIvYXdzEJr//////////session")),
    );
    assert!(with_token.target.contains("X-Amz-Security-Token="));
    let response = send_with(
        app.http_addr,
        "GET",
        &with_token.target,
        &with_token.headers,
        b"",
    )
    .await;
    assert_refused(&response, 403, "InvalidClientTokenId");
    assert!(
        response
            .body
            .contains("<Message>The security token included in the request is invalid.</Message>"),
        "{response:?}"
    );

    let body = b"Action=ListUsers";
    let header_signed = How {
        session_token: Some("FwoGZXIvYXdzEJr//////////session"),
        ..How::default()
    };
    let signed = sign_post(&app, body, header_signed);
    assert!(
        signed
            .headers
            .iter()
            .any(|(n, _)| n == "x-amz-security-token")
    );
    assert_refused(
        &post(&app, &signed, body).await,
        403,
        "InvalidClientTokenId",
    );
}
