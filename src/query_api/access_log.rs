//! The Query API's access log: one line per request with the action, HTTP status, IAM code,
//! latency, caller and request id. It is never given the query string or the body, which carry
//! passwords.

use std::time::Instant;

use http::StatusCode;

/// The response header that carries the request id, as IAM names it.
pub(super) const REQUEST_ID_HEADER: &str = "x-amzn-requestid";

/// One request being served: when it began and the id its response and log line carry.
#[derive(Debug)]
pub(super) struct CallLog {
    started: Instant,
    request_id: String,
}

/// How a request ended, as its log line reports it.
#[derive(Debug)]
pub(super) struct Ending<'a> {
    pub(super) action: &'a str,
    pub(super) status: StatusCode,
    pub(super) code: Option<&'static str>,
    pub(super) caller: Option<&'a str>,
}

impl CallLog {
    /// Starts the clock and makes a fresh request id.
    pub(super) fn start() -> Self {
        Self {
            started: Instant::now(),
            request_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub(super) fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Writes the request's one line.
    pub(super) fn finish(&self, ending: &Ending<'_>) {
        tracing::info!(
            action = ending.action,
            status = ending.status.as_u16(),
            code = ending.code.unwrap_or("-"),
            latency_ms = self.started.elapsed().as_micros() as f64 / 1000.0,
            caller = ending.caller.unwrap_or("-"),
            request_id = self.request_id.as_str(),
            "query api call"
        );
    }
}
