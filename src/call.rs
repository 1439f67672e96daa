//! One record per call, made by both front doors: the operation (or none: an unknown gRPC
//! method or Query API action), the caller, the peer, the request id, when it began and, once
//! known, how it ended. The access log line and the call metrics are written from it when the
//! call ends, and the audit trail reads it (through [`CallRecord::current`]) while the domain
//! operation runs. It never holds a message body, so no password, hash or token can reach
//! what reads it.

use std::{
    future::Future,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use crate::{meter, operation::Operation};

tokio::task_local! {
    static CURRENT: Arc<CallRecord>;
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
    caller: OnceLock<String>,
    started: Instant,
}

impl CallRecord {
    /// Starts the clock on a call; counts it as started when it is metered.
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
            caller: OnceLock::new(),
            started: Instant::now(),
        };
        if let Some(operation) = operation {
            let _ = record.operation.set(operation);
        }
        if metered {
            meter::call_started(&record);
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

    /// Ends the call: writes its access-log line (a gRPC front door calls this inside the
    /// call's span, which carries the method, request id and caller) and its metrics.
    pub fn finish(&self, ending: Ending) {
        let latency = self.elapsed();
        let latency_ms = latency.as_micros() as f64 / 1000.0;
        let peer = self.peer.as_deref().unwrap_or("-");
        match ending {
            Ending::Grpc(code) => tracing::info!(?code, latency_ms, peer, "grpc call"),
            Ending::QueryApi { status, code } => tracing::info!(
                action = self.operation().map_or("-", Operation::name),
                status,
                code = code.unwrap_or("-"),
                latency_ms,
                caller = self.caller().unwrap_or("-"),
                peer,
                request_id = self.request_id.as_str(),
                "query api call"
            ),
        }
        if self.metered {
            meter::call_finished(self, ending, latency);
        }
    }
}
