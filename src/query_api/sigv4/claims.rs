//! What a SigV4 signature claims, parsed from the `Authorization` header or from the
//! `X-Amz-*` parameters of a presigned URL. Malformed claims are IncompleteSignature.

use http::HeaderMap;
use time::{
    OffsetDateTime, PrimitiveDateTime, UtcOffset, format_description::well_known::Rfc2822,
    macros::format_description,
};

use super::{ALGORITHM, MAX_EXPIRES, SignedRequest};
use crate::access::AuthError;

/// A signature's claims, from the `Authorization` header or the presigned query.
#[derive(Debug)]
pub(super) struct Claims {
    pub(super) access_key_id: String,
    /// `date/region/service/aws4_request`.
    pub(super) scope: String,
    pub(super) scope_date: String,
    pub(super) service: String,
    pub(super) signed_headers: Vec<String>,
    pub(super) signature: String,
    pub(super) amz_date: String,
    /// Presigned URLs only: seconds of validity after `amz_date`.
    pub(super) expires: Option<u64>,
}

pub(super) fn incomplete(message: &str) -> AuthError {
    AuthError::IncompleteSignature(message.to_owned())
}

/// What the request's signature claims: from the `Authorization` header when there is one,
/// else from the presigned query; MissingAuthenticationToken when neither is there.
pub(super) fn claims(request: &SignedRequest<'_>) -> Result<Claims, AuthError> {
    let mut authorization = request.headers.get_all(http::header::AUTHORIZATION).iter();
    if let Some(header) = authorization.next() {
        if authorization.next().is_some() {
            return Err(AuthError::InvalidClientTokenId(
                "The request carries more than one authorization header; send exactly one."
                    .to_owned(),
            ));
        }
        return header_claims(header.to_str().unwrap_or_default(), request.headers);
    }
    let query: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let Some(signature) = get("X-Amz-Signature") else {
        return Err(AuthError::MissingAuthenticationToken(
            "Request is missing Authentication Token".to_owned(),
        ));
    };
    let (Some(algorithm), Some(credential), Some(amz_date), Some(signed), Some(expires)) = (
        get("X-Amz-Algorithm"),
        get("X-Amz-Credential"),
        get("X-Amz-Date"),
        get("X-Amz-SignedHeaders"),
        get("X-Amz-Expires"),
    ) else {
        return Err(incomplete(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', \
             'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders' and 'X-Amz-Expires'.",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(incomplete(
            "Unsupported AWS 'algorithm': only AWS4-HMAC-SHA256.",
        ));
    }
    let expires = expires
        .parse::<u64>()
        .ok()
        .filter(|e| *e <= MAX_EXPIRES)
        .ok_or_else(|| incomplete("X-Amz-Expires must be a number of seconds up to 604800."))?;
    build_claims(&credential, &signed, signature, amz_date, Some(expires))
}

fn header_claims(value: &str, headers: &HeaderMap) -> Result<Claims, AuthError> {
    let Some(rest) = value.strip_prefix(ALGORITHM) else {
        return Err(incomplete(
            "Authorization header requires the AWS4-HMAC-SHA256 algorithm.",
        ));
    };
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(incomplete(
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' \
             parameters.",
        ));
    };
    build_claims(
        credential,
        signed,
        signature.to_owned(),
        signing_time(headers)?,
        None,
    )
}

/// The time a header-signed request was signed, as `YYYYMMDDTHHMMSSZ`: `X-Amz-Date` when there
/// is one, else the `Date` header, as AWS looks for them. `Date` may be an HTTP date
/// (`Tue, 20 Dec 2022 08:48:18 GMT`, or with a numeric zone as botocore writes it) or the
/// ISO 8601 basic form.
fn signing_time(headers: &HeaderMap) -> Result<String, AuthError> {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or_default());
    if let Some(amz_date) = text("x-amz-date") {
        return Ok(amz_date.to_owned());
    }
    let Some(date) = text("date") else {
        return Err(incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header.",
        ));
    };
    let basic = format_description!("[year][month][day]T[hour][minute][second]Z");
    if PrimitiveDateTime::parse(date, basic).is_ok() {
        return Ok(date.to_owned());
    }
    OffsetDateTime::parse(date, &Rfc2822)
        .ok()
        .and_then(|t| t.to_offset(UtcOffset::UTC).format(basic).ok())
        .ok_or_else(|| {
            incomplete(
                "Date must be an HTTP date such as 'Tue, 20 Dec 2022 08:48:18 GMT', or \
                 YYYYMMDDTHHMMSSZ.",
            )
        })
}

fn build_claims(
    credential: &str,
    signed_headers: &str,
    signature: String,
    amz_date: String,
    expires: Option<u64>,
) -> Result<Claims, AuthError> {
    // Credential = AKID/date/region/service/aws4_request
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, _region, service, "aws4_request"] = parts.as_slice() else {
        return Err(incomplete(
            "Credential must have the form <access key id>/<date>/<region>/<service>/aws4_request.",
        ));
    };
    Ok(Claims {
        access_key_id: (*access_key_id).to_owned(),
        scope: parts[1..].join("/"),
        scope_date: (*date).to_owned(),
        service: (*service).to_owned(),
        signed_headers: signed_headers
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect(),
        signature,
        amz_date,
        expires,
    })
}
