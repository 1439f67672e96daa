//! The Query API's caller checks: SigV4 with the access keys of the tokens file, then the
//! caller's scopes against the action. Produces the same [`Caller`] as the gRPC auth layer.

use http::request::Parts;

use super::{actions::Action, sigv4};
use crate::{
    access::{AuthError, Caller, Tokens},
    domain::Service,
};

/// The caller of a request: None when no tokens file is configured (a local server admits
/// everyone, signed or not), else the owner of the access key that signed it.
pub(super) fn authenticate(
    tokens: Option<&Tokens>,
    service: &Service,
    parts: &Parts,
    body: &[u8],
) -> Result<Option<Caller>, AuthError> {
    let Some(tokens) = tokens else {
        return Ok(None);
    };
    let request = sigv4::SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body,
    };
    sigv4::authenticate(&request, tokens, service.clock().now()).map(Some)
}

/// AccessDenied unless the caller's scopes allow the action; with no caller (no tokens file)
/// everything is allowed.
pub(super) fn authorize(caller: Option<&Caller>, action: Action) -> Result<(), AuthError> {
    match caller {
        Some(caller) if !caller.may(Some(action.operation())) => {
            Err(AuthError::AccessDenied(format!(
                "User: {} is not authorized to perform: iam:{}",
                caller.name,
                action.name()
            )))
        }
        _ => Ok(()),
    }
}
