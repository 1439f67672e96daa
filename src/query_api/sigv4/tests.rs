//! Signatures made by botocore (and the AWS documentation's IAM example), checked here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};

use super::*;
use crate::{access::Tokens, domain::IamError};

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
    assert!(matches!(err, IamError::SignatureDoesNotMatch(_)), "{err:?}");
    let headers = botocore_post_headers(&POST_SIGNATURE.replace('f', "0"));
    let err = authenticate(
        &post(&headers, POST_BODY),
        &tokens("AKIDEXAMPLE"),
        botocore_time(),
    )
    .unwrap_err();
    assert!(matches!(err, IamError::SignatureDoesNotMatch(_)), "{err:?}");
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
    assert!(matches!(err, IamError::InvalidClientTokenId(_)), "{err:?}");
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
        assert!(matches!(late, Err(IamError::RequestExpired(_))), "{late:?}");
        let early = authenticate(
            &post(&headers, POST_BODY),
            &tokens("AKIDEXAMPLE"),
            botocore_time() - offset,
        );
        assert!(
            matches!(early, Err(IamError::RequestExpired(_))),
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
        matches!(expired, Err(IamError::RequestExpired(_))),
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
        matches!(err, IamError::MissingAuthenticationToken(_)),
        "{err:?}"
    );
    let bearer = headers(&[("authorization", "Bearer abc")]);
    let err = authenticate(&post(&bearer, b""), &keys, botocore_time()).unwrap_err();
    assert!(matches!(err, IamError::IncompleteSignature(_)), "{err:?}");
}
