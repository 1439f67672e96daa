//! AWS Signature Version 4 verification, for header-signed and query-string-presigned requests
//! (any region, service `iam`). The canonical request follows botocore: the listed signed
//! headers, the decoded then URI-encoded query sorted by name and value, the SHA-256 of the body.

mod claims;

use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac as _};
use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use secrecy::ExposeSecret as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

use crate::access::{AuthError, Caller, Tokens};

use claims::{Claims, claims, incomplete};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "iam";
/// Largest clock difference accepted for a header-signed request.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// Longest validity of a presigned URL (seven days, as AWS allows).
const MAX_EXPIRES: u64 = 7 * 24 * 3600;
/// RFC 3986 unreserved characters stay as they are; everything else is `%XX`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
const PATH_SAFE: &AsciiSet = &UNRESERVED.remove(b'/');

/// The parts of an HTTP request that a signature covers.
#[derive(Debug)]
pub(super) struct SignedRequest<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) query: &'a str,
    pub(super) headers: &'a HeaderMap,
    pub(super) body: &'a [u8],
}

/// Verifies the request's signature against the access keys and returns the key's caller.
pub(super) fn authenticate(
    request: &SignedRequest<'_>,
    tokens: &Tokens,
    now: SystemTime,
) -> Result<Caller, AuthError> {
    let claims = claims(request)?;
    let invalid_token = || {
        AuthError::InvalidClientTokenId(
            "The security token included in the request is invalid.".to_owned(),
        )
    };
    // This service issues no session credentials, so no session token can be valid.
    if carries_session_token(request) {
        return Err(invalid_token());
    }
    let key = tokens
        .access_key(&claims.access_key_id)
        .ok_or_else(invalid_token)?;
    if claims.service != SERVICE {
        return Err(AuthError::SignatureDoesNotMatch(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    if !claims.amz_date.starts_with(&claims.scope_date) {
        return Err(AuthError::SignatureDoesNotMatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{}'",
            crate::domain::Echo::cut(&claims.scope_date),
            claims.amz_date.get(..8).unwrap_or_default()
        )));
    }
    let signing_key = signing_key(key.secret_access_key.expose_secret(), &claims.scope);
    if !matches_any(request, &claims, &signing_key) {
        return Err(AuthError::SignatureDoesNotMatch(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
                .to_owned(),
        ));
    }
    check_time(&claims, now)?;
    Ok(Caller {
        name: key.name.clone(),
        scopes: key.scopes.clone(),
        user: key.user.clone(),
    })
}

/// A session token in the `X-Amz-Security-Token` header or query parameter.
fn carries_session_token(request: &SignedRequest<'_>) -> bool {
    request.headers.contains_key("x-amz-security-token")
        || form_urlencoded::parse(request.query.as_bytes())
            .any(|(name, _)| name.eq_ignore_ascii_case("X-Amz-Security-Token"))
}

/// Tries the encodings clients differ on: a `+` in the query as a space or as itself, and for
/// presigned URLs without a body an unsigned payload. The payload is otherwise always the
/// SHA-256 of the body received, whatever `x-amz-content-sha256` says: IAM signs its payloads,
/// so a body swapped after signing does not match.
fn matches_any(request: &SignedRequest<'_>, claims: &Claims, key: &[u8]) -> bool {
    let presigned = claims.expires.is_some();
    let mut plus_readings = vec![true];
    if request.query.contains('+') {
        plus_readings.push(false);
    }
    let mut payloads = vec![hex::encode(Sha256::digest(request.body))];
    if presigned && request.body.is_empty() {
        payloads.push("UNSIGNED-PAYLOAD".to_owned());
    }
    let mut matched = false;
    for &plus_is_space in &plus_readings {
        for payload in &payloads {
            let canonical = canonical_request(request, claims, plus_is_space, payload);
            let expected = hex::encode(hmac(key, &string_to_sign(claims, &canonical)));
            matched |= bool::from(expected.as_bytes().ct_eq(claims.signature.as_bytes()));
        }
    }
    matched
}

fn canonical_request(
    request: &SignedRequest<'_>,
    claims: &Claims,
    plus_is_space: bool,
    payload_hash: &str,
) -> String {
    let path = if request.path.is_empty() {
        "/"
    } else {
        request.path
    };
    let path = utf8_percent_encode(path, PATH_SAFE).to_string();
    let mut query: Vec<(String, String)> = request
        .query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                encode(&decode(name, plus_is_space)),
                encode(&decode(value, plus_is_space)),
            )
        })
        .filter(|(name, _)| !(claims.expires.is_some() && name == "X-Amz-Signature"))
        .collect();
    query.sort();
    let query: Vec<String> = query.into_iter().map(|(n, v)| format!("{n}={v}")).collect();
    let headers: String = claims
        .signed_headers
        .iter()
        .map(|name| format!("{name}:{}\n", header_value(request.headers, name)))
        .collect();
    format!(
        "{}\n{path}\n{}\n{headers}\n{}\n{payload_hash}",
        request.method,
        query.join("&"),
        claims.signed_headers.join(";"),
    )
}

fn decode(raw: &str, plus_is_space: bool) -> String {
    let raw = if plus_is_space {
        raw.replace('+', " ")
    } else {
        raw.to_owned()
    };
    percent_decode_str(&raw).decode_utf8_lossy().into_owned()
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED).to_string()
}

/// All values of a header, joined by commas, trimmed, inner runs of spaces collapsed.
fn header_value(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(name)
        .iter()
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn string_to_sign(claims: &Claims, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        claims.amz_date,
        claims.scope,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn signing_key(secret: &str, scope: &str) -> Vec<u8> {
    scope
        .split('/')
        .fold(format!("AWS4{secret}").into_bytes(), |key, part| {
            hmac(&key, part)
        })
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn check_time(claims: &Claims, now: SystemTime) -> Result<(), AuthError> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let signed_at = PrimitiveDateTime::parse(&claims.amz_date, format)
        .map_err(|_| incomplete("X-Amz-Date must have the form YYYYMMDDTHHMMSSZ."))?
        .assume_utc();
    let now = OffsetDateTime::from(now);
    let stamp = |t: OffsetDateTime| t.format(format).unwrap_or_default();
    if signed_at > now + MAX_SKEW {
        return Err(AuthError::RequestExpired(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            claims.amz_date,
            stamp(now + MAX_SKEW),
            stamp(now)
        )));
    }
    match claims.expires {
        Some(expires) if now > signed_at + Duration::from_secs(expires) => {
            Err(AuthError::RequestExpired(format!(
                "Request has expired. (signed at {})",
                claims.amz_date
            )))
        }
        None if signed_at < now - MAX_SKEW => Err(AuthError::RequestExpired(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            claims.amz_date,
            stamp(now - MAX_SKEW),
            stamp(now)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
