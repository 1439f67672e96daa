//! The gRPC caller-auth layer: client certificate or bearer token -> caller -> scope check,
//! before any handler runs. Health and reflection are open; with no tokens configured every call
//! is admitted.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use http::{Request, Response};
use tower::{Layer, Service};

use crate::{
    access::{AuthError, Caller, Tokens},
    call::CallRecord,
    operation::Operation,
    tls::PeerInfo,
};

/// Path prefixes that need no token.
const OPEN_PREFIXES: [&str; 2] = ["/grpc.health.v1.Health/", "/grpc.reflection."];

/// Adds [`Auth`] to a service.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    tokens: Option<Arc<Tokens>>,
}

impl AuthLayer {
    /// `None` admits every caller (loopback, Unix socket, or `--insecure-no-auth`).
    pub fn new(tokens: Option<Arc<Tokens>>) -> Self {
        Self { tokens }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth {
            inner,
            tokens: self.tokens.clone(),
        }
    }
}

/// Rejects unauthenticated or unauthorised calls with the IAM error as a gRPC status, and
/// records the caller's name on the current (access log) span.
#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    tokens: Option<Arc<Tokens>>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> Service<Request<B>> for Auth<S>
where
    S: Service<Request<B>, Response = Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match self.check(&request) {
            Ok(_) => Box::pin(self.inner.call(request)),
            Err(error) => {
                let response = tonic::Status::from(error).into_http();
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

impl<S> Auth<S> {
    /// The caller of an admitted request (None when no tokens are configured or the path is
    /// open), or why it is refused.
    fn check<B>(&self, request: &Request<B>) -> Result<Option<Caller>, AuthError> {
        let path = request.uri().path();
        let Some(tokens) = &self.tokens else {
            return Ok(None);
        };
        if OPEN_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
            return Ok(None);
        }
        // A verified client certificate that the tokens file names decides; otherwise the
        // bearer token does.
        let certificate_caller = request
            .extensions()
            .get::<PeerInfo>()
            .and_then(|peer| tokens.certificate_caller(&peer.client_names));
        let caller = match certificate_caller {
            Some(caller) => caller,
            None => bearer_caller(tokens, request)?,
        };
        // Named in the access log whether or not the scope allows the call.
        if let Some(call) = CallRecord::current() {
            call.set_caller(&caller.name);
        }
        let operation = path.rsplit('/').next().unwrap_or_default();
        if !caller.may(Operation::from_grpc_path(path)) {
            return Err(AuthError::AccessDenied(format!(
                "Caller {} is not authorized to perform {operation}.",
                caller.name
            )));
        }
        Ok(Some(caller))
    }
}

/// The caller whose bearer token the request carries, or why there is none.
fn bearer_caller<B>(tokens: &Tokens, request: &Request<B>) -> Result<Caller, AuthError> {
    let mut headers = request
        .headers()
        .get_all(http::header::AUTHORIZATION)
        .iter();
    let header = headers.next().ok_or_else(|| {
        AuthError::MissingAuthenticationToken("Missing Authentication Token".to_owned())
    })?;
    if headers.next().is_some() {
        // Which one would win depends on the proxies in between: refuse rather than guess.
        return Err(AuthError::InvalidClientTokenId(
            "The request carries more than one authorization header; send exactly one.".to_owned(),
        ));
    }
    let token = header.to_str().ok().and_then(bearer_token);
    token
        .and_then(|token| tokens.authenticate(token))
        .ok_or_else(|| {
            AuthError::InvalidClientTokenId(
                "The security token included in the request is invalid.".to_owned(),
            )
        })
}

/// The token of a `Bearer` credential. The scheme is matched without regard to case (RFC 7235
/// section 2.1) and separated from the token by one or more spaces.
fn bearer_token(credentials: &str) -> Option<&str> {
    let (scheme, token) = credentials.split_once(' ')?;
    let token = token.trim_matches(' ');
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_matched_in_any_case() {
        for credentials in [
            "Bearer t0k",
            "bearer t0k",
            "BEARER t0k",
            "bEaReR t0k",
            "Bearer   t0k ",
        ] {
            assert_eq!(bearer_token(credentials), Some("t0k"), "{credentials:?}");
        }
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_not_bearer_tokens() {
        for credentials in [
            "Basic dXNlcjpwdw==",
            "Bearer",
            "Bearer ",
            "Bearert0k",
            "t0k",
            "Token t0k",
        ] {
            assert_eq!(bearer_token(credentials), None, "{credentials:?}");
        }
    }
}
