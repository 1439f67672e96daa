//! The IAM Query API over HTTP, so that the `aws` CLI, boto3 and the AWS SDKs work against the
//! service with `--endpoint-url`. Same domain operations as gRPC; only the wire differs.
//!
//! A request: size limits -> SigV4 (access keys of the tokens file; none configured: every
//! local caller is admitted) -> Action and Version -> scope -> `actions` -> domain -> XML.
//! The front door is `auth` (SigV4 and scopes, yielding the same `access::Caller` as gRPC) and
//! the call record (`crate::call`: one access-log line per request, metrics; never the query
//! string or the body, which carry passwords).

mod actions;
mod auth;
mod error;
mod limits;
mod mfa_actions;
mod params;
mod render;
mod sigv4;
mod status;
mod xml;

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Router,
    extract::{ConnectInfo, Request, State},
    response::{IntoResponse as _, Response},
    serve::{IncomingStream, Listener},
};
use http::{HeaderValue, Method, StatusCode, header};

pub use limits::{MAX_BODY_BYTES, MAX_URL_BYTES};

pub use error::{QueryApiError, RequestError};

use crate::{
    access::Tokens,
    call::{CallRecord, Ending, Transport},
    domain::{IamError, Service},
    meter,
};
/// The response header that carries the request id, as IAM names it.
const REQUEST_ID_HEADER: &str = "x-amzn-requestid";
use actions::Action;
use params::Params;

/// What the Query API handler needs: the domain service and the callers it admits.
#[derive(Debug, Clone)]
pub struct QueryApi {
    service: Service,
    /// None: no tokens file, every (local) caller is admitted unsigned.
    tokens: Option<Arc<Tokens>>,
}

impl QueryApi {
    pub fn new(service: Service, tokens: Option<Arc<Tokens>>) -> Self {
        Self { service, tokens }
    }

    /// The HTTP router: every path and method goes to the one Query API handler. Serve it with
    /// `into_make_service_with_connect_info::<Peer>()`: the call record names the peer.
    pub fn router(self) -> Router {
        Router::new().fallback(handle).with_state(self)
    }
}

/// The remote address of a Query API connection, from any listener that knows it.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Peer {
    /// For the `Connected` impl of each listener the Query API is served on.
    pub fn of<L: Listener<Addr = SocketAddr>>(stream: &IncomingStream<'_, L>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// How a request went, for its response.
struct Outcome {
    action: Option<Action>,
    result: Result<Vec<xml::Node>, QueryApiError>,
}

async fn handle(
    State(api): State<QueryApi>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    request: Request,
) -> Response {
    let call = CallRecord::start(
        Transport::QueryApi,
        None,
        crate::call::new_request_id(),
        Some(peer.to_string()),
        true,
    );
    meter::call_started(&call);
    let request_id = call.request_id.as_str();
    let outcome = Arc::clone(&call).scope(serve(&api, request, &call)).await;
    let action_name = outcome.action.map_or("-", Action::name);
    let retry_after = match &outcome.result {
        Err(QueryApiError::Iam(error)) => error.retry_after(),
        _ => None,
    };
    let (status, body, code) = match outcome.result {
        Ok(result) => match xml::success(action_name, result, request_id) {
            Ok(body) => (StatusCode::OK, body, None),
            Err(e) => error_reply(&IamError::internal(e).into(), request_id),
        },
        Err(error) => error_reply(&error, request_id),
    };
    let ending = Ending::QueryApi {
        status: status.as_u16(),
        code,
    };
    let latency = call.finish(ending);
    meter::call_finished(&call, ending, latency);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    if let Some(retry_after) = retry_after {
        headers.insert(header::RETRY_AFTER, retry_after_seconds(retry_after));
    }
    response
}

/// `Retry-After` in whole seconds (RFC 9110 section 10.2.3), rounded up so that a client never
/// comes back before the service said it may, and at least 1.
fn retry_after_seconds(retry_after: std::time::Duration) -> HeaderValue {
    let mut seconds = retry_after.as_secs();
    if retry_after.subsec_nanos() > 0 || seconds == 0 {
        seconds += 1;
    }
    HeaderValue::from(seconds)
}

/// The status, XML body and IAM code of an error. The cause of an internal error is logged
/// here, once; the client sees only the fixed message.
fn error_reply(
    error: &QueryApiError,
    request_id: &str,
) -> (StatusCode, String, Option<&'static str>) {
    if let QueryApiError::Iam(cause) = error
        && let Some(cause) = cause.fault()
    {
        tracing::error!(error = format!("{cause:#}"), request_id, "request failed");
    }
    let status = status::http_status(error);
    let body = xml::error(
        status::fault(status),
        error.code(),
        &error.to_string(),
        request_id,
    )
    .unwrap_or_default();
    (status, body, Some(error.code()))
}

async fn serve(api: &QueryApi, request: Request, call: &CallRecord) -> Outcome {
    let mut outcome = Outcome {
        action: None,
        result: Ok(Vec::new()),
    };
    outcome.result = run_checks(api, request, &mut outcome, call).await;
    outcome
}

/// The order of checks of DESIGN.md: size limits, authentication, Action and Version, scope,
/// then the action itself.
async fn run_checks(
    api: &QueryApi,
    request: Request,
    outcome: &mut Outcome,
    call: &CallRecord,
) -> Result<Vec<xml::Node>, QueryApiError> {
    let (parts, body) = request.into_parts();
    limits::check_url(&parts.uri)?;
    let body = limits::read_body(&parts.headers, body).await?;
    let caller = auth::authenticate(api.tokens.as_deref(), &api.service, &parts, &body)?;
    if let Some(caller) = &caller {
        call.set_caller(&caller.name);
    }
    let form = (parts.method == Method::POST && is_form(&parts.headers)).then_some(&body[..]);
    let params = Params::parse(parts.uri.query(), form);
    let action = Action::from_params(&params)?;
    outcome.action = Some(action);
    call.set_operation(action.operation());
    auth::authorize(caller.as_ref(), action)?;
    Ok(actions::perform(action, &params, caller.as_ref(), &api.service).await?)
}

/// A form body: botocore's `application/x-www-form-urlencoded; charset=utf-8`, or no type.
fn is_form(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::retry_after_seconds;

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_at_least_one() {
        for (after, header) in [
            (Duration::ZERO, "1"),
            (Duration::from_millis(200), "1"),
            (Duration::from_secs(1), "1"),
            (Duration::from_millis(1500), "2"),
            (Duration::from_secs(60), "60"),
        ] {
            assert_eq!(retry_after_seconds(after), header, "{after:?}");
        }
    }
}
