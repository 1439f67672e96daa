//! One record per call, made by both front doors: the operation (or none: an unknown gRPC
//! method or Query API action), the caller, the peer, the request id, when it began and, once
//! known, how it ended. The access log line is written from it when the call ends; the metrics
//! (which the front doors record from it) and the audit trail (through [`CallRecord::current`],
//! while the domain operation runs) read it, and it knows neither. It never holds a message
//! body, so no password, hash or token can reach what reads it.

use std::{
    future::Future,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use crate::operation::Operation;

tokio::task_local! {
    static CURRENT: Arc<CallRecord>;
}

/// A fresh request id: a random (version 4) UUID, from the thread's own generator rather than
/// a system call per request.
pub fn new_request_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

/// Which front door took the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Grpc,
    QueryApi,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The gRPC status code.
    Grpc(tonic::Code),
    /// The HTTP status and, for an error, the IAM code.
    QueryApi {
        status: u16,
        code: Option<&'static str>,
    },
}

/// A call in progress.
#[derive(Debug)]
pub struct CallRecord {
    pub transport: Transport,
    pub request_id: String,
    /// The remote address, `unix` for a Unix socket, None when unknown.
    pub peer: Option<String>,
    /// Whether the call counts in the metrics (health and reflection calls do not).
    pub metered: bool,
    operation: OnceLock<Operation>,
    /// What the log line names a call outside the list by (a gRPC path).
    method: Option<Box<str>>,
    caller: OnceLock<String>,
    started: Instant,
}

impl CallRecord {
    /// Starts the clock on a call.
    pub fn start(
        transport: Transport,
        operation: Option<Operation>,
        request_id: String,
        peer: Option<String>,
        metered: bool,
    ) -> Arc<Self> {
        let record = Self {
            transport,
            request_id,
            peer,
            metered,
            operation: OnceLock::new(),
            method: None,
            caller: OnceLock::new(),
            started: Instant::now(),
        };
        if let Some(operation) = operation {
            let _ = record.operation.set(operation);
        }
        Arc::new(record)
    }

    /// The call being served on this task, if any.
    pub fn current() -> Option<Arc<CallRecord>> {
        CURRENT.try_with(Arc::clone).ok()
    }

    /// Runs `future` with this record as the current call.
    pub fn scope<F: Future>(self: Arc<Self>, future: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, future)
    }

    /// Runs `f` with this record as the current call.
    pub fn sync_scope<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        CURRENT.sync_scope(Arc::clone(self), f)
    }

    pub fn operation(&self) -> Option<Operation> {
        self.operation.get().copied()
    }

    /// Records the operation once it is known (the Query API learns it from the parameters).
    pub fn set_operation(&self, operation: Operation) {
        let _ = self.operation.set(operation);
    }

    /// Names, for the log line, a call that is not in the operation list.
    pub fn set_method(&mut self, method: &str) {
        self.method = Some(method.into());
    }

    /// The operation's name, or the method as called, or `-`.
    pub fn method(&self) -> &str {
        match (self.operation(), &self.method) {
            (Some(operation), _) => operation.name(),
            (None, Some(method)) => method,
            (None, None) => "-",
        }
    }

    /// The caller's name (token, access key or certificate name), once authenticated.
    pub fn caller(&self) -> Option<&str> {
        self.caller.get().map(String::as_str)
    }

    pub fn set_caller(&self, name: &str) {
        let _ = self.caller.set(name.to_owned());
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Ends the call: writes its access-log line, and returns how long the call took (the
    /// latency the line shows, for the metrics).
    pub fn finish(&self, ending: Ending) -> Duration {
        let latency = self.elapsed();
        let latency_ms = latency.as_micros() as f64 / 1000.0;
        let peer = self.peer.as_deref().unwrap_or("-");
        match ending {
            Ending::Grpc(code) => tracing::info!(
                method = self.method(),
                ?code,
                latency_ms,
                caller = self.caller().unwrap_or("-"),
                peer,
                request_id = self.request_id.as_str(),
                "grpc call"
            ),
            Ending::QueryApi { status, code } => tracing::info!(
                action = self.method(),
                status,
                code = code.unwrap_or("-"),
                latency_ms,
                caller = self.caller().unwrap_or("-"),
                peer,
                request_id = self.request_id.as_str(),
                "query api call"
            ),
        }
        latency
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let (a, b) = (super::new_request_id(), super::new_request_id());
        assert_ne!(a, b);
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(a.len(), 36);
    }
}
