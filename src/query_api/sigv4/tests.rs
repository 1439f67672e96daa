//! Signatures made by botocore (and the AWS documentation's IAM example), checked here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};

use super::*;
use crate::access::{AuthError, Tokens};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn tokens(service_key: &str) -> Tokens {
    Tokens::parse(&format!(
        "[[access_key]]\naccess_key_id = '{service_key}'\nsecret_access_key = '{SECRET}'\n\
         scopes = ['admin']\nuser = 'Bob'\n"
    ))
    .unwrap()
}

/// 2026-11-23T17:34:19Z, when the botocore vectors were signed.
fn botocore_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_455_259)
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

const POST_BODY: &[u8] = b"Action=CreateLoginProfile&Version=2010-05-08&UserName=Bob&Password=a+b%2Bc&PasswordResetRequired=true";

fn botocore_post_headers(signature: &str) -> HeaderMap {
    headers(&[
        ("host", "127.0.0.1:8080"),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        ("x-amz-date", "20261123T173419Z"),
        (
            "authorization",
            &format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-1/iam/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date, Signature={signature}"
            ),
        ),
    ])
}

fn post<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> SignedRequest<'a> {
    SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body,
    }
}

const POST_SIGNATURE: &str = "f21f7a4c4c43930fc3aac2f87350a8831668b2fbbcd0bbe047460043cc154c9e";

#[test]
fn a_botocore_header_signed_post_is_accepted_with_its_key() {
    let headers = botocore_post_headers(POST_SIGNATURE);
    let caller = authenticate(
        &post(&headers, POST_BODY),
        &tokens("AKIDEXAMPLE"),
        botocore_time(),
    )
    .unwrap();
    assert_eq!(caller.user.as_deref(), Some("Bob"));
}

#[test]
fn a_changed_body_or_signature_does_not_match() {
    let headers = botocore_post_headers(POST_SIGNATURE);
    let err = authenticate(
        &post(&headers, b"Action=DeleteUser&UserName=Bob"),
        &tokens("AKIDEXAMPLE"),
        botocore_time(),
    )
    .unwrap_err();
    assert!(
        matches!(err, AuthError::SignatureDoesNotMatch(_)),
        "{err:?}"
    );
    let headers = botocore_post_headers(&POST_SIGNATURE.replace('f', "0"));
    let err = authenticate(
        &post(&headers, POST_BODY),
        &tokens("AKIDEXAMPLE"),
        botocore_time(),
    )
    .unwrap_err();
    assert!(
        matches!(err, AuthError::SignatureDoesNotMatch(_)),
        "{err:?}"
    );
}

#[test]
fn an_unknown_key_is_an_invalid_client_token_id() {
    let headers = botocore_post_headers(POST_SIGNATURE);
    let err = authenticate(
        &post(&headers, POST_BODY),
        &tokens("AKIDOTHER"),
        botocore_time(),
    )
    .unwrap_err();
    assert!(matches!(err, AuthError::InvalidClientTokenId(_)), "{err:?}");
}

#[test]
fn more_than_fifteen_minutes_of_skew_is_request_expired() {
    let headers = botocore_post_headers(POST_SIGNATURE);
    {
        let offset = Duration::from_secs(16 * 60);
        let late = authenticate(
            &post(&headers, POST_BODY),
            &tokens("AKIDEXAMPLE"),
            botocore_time() + offset,
        );
        assert!(
            matches!(late, Err(AuthError::RequestExpired(_))),
            "{late:?}"
        );
        let early = authenticate(
            &post(&headers, POST_BODY),
            &tokens("AKIDEXAMPLE"),
            botocore_time() - offset,
        );
        assert!(
            matches!(early, Err(AuthError::RequestExpired(_))),
            "{early:?}"
        );
    }
    let within = authenticate(
        &post(&headers, POST_BODY),
        &tokens("AKIDEXAMPLE"),
        botocore_time() + Duration::from_secs(14 * 60),
    );
    assert!(within.is_ok(), "{within:?}");
}

const PRESIGNED_QUERY: &str = "Action=GetUser&UserName=Bob%20Smith&X-Amz-Algorithm=AWS4-HMAC-SHA256\
&X-Amz-Credential=AKIDEXAMPLE%2F20261123%2Fus-east-1%2Fiam%2Faws4_request&X-Amz-Date=20261123T173419Z\
&X-Amz-Expires=300&X-Amz-SignedHeaders=host\
&X-Amz-Signature=d90dae039cfaab110762644e4ea58676685b72bed216f0339144cc463723f6f0";

fn presigned<'a>(headers: &'a HeaderMap, query: &'a str) -> SignedRequest<'a> {
    SignedRequest {
        method: "GET",
        path: "/",
        query,
        headers,
        body: b"",
    }
}

#[test]
fn a_botocore_presigned_url_is_accepted_until_it_expires() {
    let headers = headers(&[("host", "127.0.0.1:8080")]);
    let keys = tokens("AKIDEXAMPLE");
    let ok = authenticate(
        &presigned(&headers, PRESIGNED_QUERY),
        &keys,
        botocore_time() + Duration::from_secs(299),
    );
    assert!(ok.is_ok(), "{ok:?}");
    let expired = authenticate(
        &presigned(&headers, PRESIGNED_QUERY),
        &keys,
        botocore_time() + Duration::from_secs(301),
    );
    assert!(
        matches!(expired, Err(AuthError::RequestExpired(_))),
        "{expired:?}"
    );
    let plus = PRESIGNED_QUERY.replace("Bob%20Smith", "Bob+Smith");
    let ok = authenticate(&presigned(&headers, &plus), &keys, botocore_time());
    assert!(ok.is_ok(), "a + read as a space still matches: {ok:?}");
}

#[test]
fn the_aws_documentation_example_verifies() {
    let headers = headers(&[
        ("host", "iam.amazonaws.com"),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        ("x-amz-date", "20150830T123600Z"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        ),
    ]);
    let request = SignedRequest {
        method: "GET",
        path: "/",
        query: "Action=ListUsers&Version=2010-05-08",
        headers: &headers,
        body: b"",
    };
    let now = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    let caller = authenticate(&request, &tokens("AKIDEXAMPLE"), now);
    assert!(caller.is_ok(), "{caller:?}");
}

#[test]
fn a_credential_for_another_service_or_no_signature_is_refused() {
    let keys = tokens("AKIDEXAMPLE");
    let wrong_service = headers(&[
        ("host", "h"),
        ("x-amz-date", "20261123T173419Z"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/sts/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00",
        ),
    ]);
    let err = authenticate(&post(&wrong_service, b""), &keys, botocore_time()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Credential should be scoped to correct service: 'iam'."
    );
    let none = HeaderMap::new();
    let err = authenticate(&post(&none, b""), &keys, botocore_time()).unwrap_err();
    assert!(
        matches!(err, AuthError::MissingAuthenticationToken(_)),
        "{err:?}"
    );
    let bearer = headers(&[("authorization", "Bearer abc")]);
    let err = authenticate(&post(&bearer, b""), &keys, botocore_time()).unwrap_err();
    assert!(matches!(err, AuthError::IncompleteSignature(_)), "{err:?}");
}

/// The AWS SigV4 test suite's `get-vanilla` case, signed with a `Date` header
/// (`Mon, 09 Sep 2011 23:36:00 GMT`) and no `X-Amz-Date`.
const SUITE_SIGNATURE: &str = "b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470";

fn suite_headers(date: &str) -> HeaderMap {
    headers(&[
        ("host", "host.foo.com"),
        ("date", date),
        (
            "authorization",
            &format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, \
                 SignedHeaders=date;host, Signature={SUITE_SIGNATURE}"
            ),
        ),
    ])
}

/// Whether the signature matches, past the claims (the suite's service is `host`, not `iam`).
fn suite_matches(headers: &HeaderMap) -> bool {
    let request = SignedRequest {
        method: "GET",
        path: "/",
        query: "",
        headers,
        body: b"",
    };
    let claims = claims(&request).unwrap();
    assert_eq!(claims.amz_date, "20110909T233600Z");
    let key = signing_key(SECRET, &claims.scope);
    matches_any(&request, &claims, &key)
}

#[test]
fn the_date_header_signs_when_there_is_no_x_amz_date() {
    let headers = suite_headers("Mon, 09 Sep 2011 23:36:00 GMT");
    assert!(suite_matches(&headers));
}

#[test]
fn the_date_header_may_carry_a_numeric_zone_or_the_basic_form() {
    // The time is the same; the header's text is signed as sent, so the signature differs.
    for date in [
        "Mon, 09 Sep 2011 23:36:00 -0000",
        "Tue, 10 Sep 2011 01:36:00 +0200",
        "20110909T233600Z",
    ] {
        let request = SignedRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &suite_headers(date),
            body: b"",
        };
        assert_eq!(
            claims(&request).unwrap().amz_date,
            "20110909T233600Z",
            "{date}"
        );
    }
}

#[test]
fn x_amz_date_takes_precedence_over_date() {
    let mut headers = suite_headers("Mon, 09 Sep 2011 23:36:00 GMT");
    headers.insert("x-amz-date", HeaderValue::from_static("20261123T173419Z"));
    let request = post(&headers, b"");
    assert_eq!(claims(&request).unwrap().amz_date, "20261123T173419Z");
}

#[test]
fn an_unreadable_or_missing_date_is_an_incomplete_signature() {
    fn refused(headers: &HeaderMap) -> AuthError {
        claims(&post(headers, b"")).unwrap_err()
    }
    let err = refused(&suite_headers("yesterday"));
    assert!(matches!(err, AuthError::IncompleteSignature(_)), "{err:?}");
    let mut no_date = suite_headers("x");
    no_date.remove("date");
    let err = refused(&no_date);
    assert_eq!(
        err.to_string(),
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    );
}

#[test]
fn a_session_token_in_a_header_or_the_query_is_an_invalid_client_token_id() {
    let keys = tokens("AKIDEXAMPLE");
    let mut with_header = botocore_post_headers(POST_SIGNATURE);
    with_header.insert("x-amz-security-token", HeaderValue::from_static("FwoGZX"));
    let err = authenticate(&post(&with_header, POST_BODY), &keys, botocore_time()).unwrap_err();
    assert!(matches!(err, AuthError::InvalidClientTokenId(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "The security token included in the request is invalid."
    );

    let headers = headers(&[("host", "127.0.0.1:8080")]);
    let query = format!("{PRESIGNED_QUERY}&X-Amz-Security-Token=FwoGZX");
    let err = authenticate(&presigned(&headers, &query), &keys, botocore_time()).unwrap_err();
    assert!(matches!(err, AuthError::InvalidClientTokenId(_)), "{err:?}");
}

/// A header-signed POST whose signature covers `UNSIGNED-PAYLOAD` instead of the body's hash.
fn unsigned_payload_post(body: &[u8]) -> HeaderMap {
    let mut headers = botocore_post_headers("0");
    headers.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static("UNSIGNED-PAYLOAD"),
    );
    let claims = claims(&post(&headers, body)).unwrap();
    let canonical = canonical_request(&post(&headers, body), &claims, true, "UNSIGNED-PAYLOAD");
    let key = signing_key(SECRET, &claims.scope);
    let signature = hex::encode(hmac(&key, &string_to_sign(&claims, &canonical)));
    botocore_post_headers(&signature)
}

#[test]
fn a_header_signed_unsigned_payload_does_not_match_whatever_the_body() {
    let mut headers = unsigned_payload_post(POST_BODY);
    headers.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static("UNSIGNED-PAYLOAD"),
    );
    for body in [POST_BODY, b"Action=DeleteUser&UserName=Bob".as_slice()] {
        let err = authenticate(
            &post(&headers, body),
            &tokens("AKIDEXAMPLE"),
            botocore_time(),
        )
        .unwrap_err();
        assert!(
            matches!(err, AuthError::SignatureDoesNotMatch(_)),
            "{err:?}"
        );
    }
}

#[test]
fn a_presigned_url_with_a_body_must_sign_the_body() {
    let headers = headers(&[("host", "127.0.0.1:8080")]);
    let request = SignedRequest {
        method: "POST",
        path: "/",
        query: PRESIGNED_QUERY,
        headers: &headers,
        body: b"Action=DeleteUser&UserName=Bob",
    };
    let err = authenticate(&request, &tokens("AKIDEXAMPLE"), botocore_time()).unwrap_err();
    assert!(
        matches!(err, AuthError::SignatureDoesNotMatch(_)),
        "{err:?}"
    );
}

#[test]
fn two_authorization_headers_are_refused() {
    let mut headers = botocore_post_headers(POST_SIGNATURE);
    headers.append(
        "authorization",
        HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=x"),
    );
    let err = authenticate(
        &post(&headers, POST_BODY),
        &tokens("AKIDEXAMPLE"),
        botocore_time(),
    )
    .unwrap_err();
    assert!(matches!(err, AuthError::InvalidClientTokenId(_)), "{err:?}");
}
