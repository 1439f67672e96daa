//! Size limits of Query API requests: checked before anything else, answered with an IAM
//! error body, and the server keeps serving.

use axum::body::{Body, Bytes};
use http::{HeaderMap, Uri};

use super::error::RequestError;

/// Largest request body (a CreateLoginProfile form is well under 1 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest request target (path and query string).
pub const MAX_URL_BYTES: usize = 16 * 1024;

fn too_large() -> RequestError {
    RequestError::RequestEntityTooLarge(format!(
        "Request body must not exceed {MAX_BODY_BYTES} bytes."
    ))
}

/// RequestURITooLong when the path and query exceed the limit.
pub(super) fn check_url(uri: &Uri) -> Result<(), RequestError> {
    let len = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    if len > MAX_URL_BYTES {
        return Err(RequestError::RequestUriTooLong(format!(
            "Request URL must not exceed {MAX_URL_BYTES} bytes."
        )));
    }
    Ok(())
}

/// Reads the body, refusing a declared or actual length over the limit without buffering it.
pub(super) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, RequestError> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large())
}
