//! Metrics: the recording layer over the `metrics` facade, and `GET /metrics` in the Prometheus
//! text format on `--metrics-listen` (registry and exposition by `metrics-exporter-prometheus`).
//!
//! Every label value is a `&'static str` from a fixed set: an operation of the list, a gRPC code,
//! an IAM code, a verify result, a store operation, or [`UNKNOWN`] for a gRPC method or Query
//! API action that is not in the list. So callers cannot grow the label sets, and no user name,
//! token, password or hash can ever be a label. Without `--metrics-listen` no recorder is
//! installed and every call here does nothing.

mod store;

use std::{future::Future, sync::OnceLock, time::Duration};

use anyhow::Context as _;
use axum::{Router, routing::get};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

pub use store::TimedStore;

use crate::{
    call::{CallRecord, Ending, Transport},
    operation::{Operation, UNKNOWN},
};

const GRPC_STARTED: &str = "grpc_server_started_total";
const GRPC_HANDLED: &str = "grpc_server_handled_total";
const GRPC_SECONDS: &str = "grpc_server_handling_seconds";
const QUERY_API_REQUESTS: &str = "loginprofiled_query_api_requests_total";
const QUERY_API_SECONDS: &str = "loginprofiled_query_api_request_seconds";
const HASH_IN_FLIGHT: &str = "loginprofiled_hash_in_flight";
const HASH_QUEUE_DEPTH: &str = "loginprofiled_hash_queue_depth";
const HASH_THROTTLED: &str = "loginprofiled_hash_throttled_total";
const HASH_SECONDS: &str = "loginprofiled_hash_seconds";
const VERIFY: &str = "loginprofiled_verify_total";
const LOCKOUTS: &str = "loginprofiled_lockouts_total";
const REHASH: &str = "loginprofiled_rehash_total";
const COMPROMISED: &str = "loginprofiled_password_compromised_total";
const PASSWORD_HASHES: &str = "loginprofiled_password_hashes";
const STORE_SECONDS: &str = "loginprofiled_store_seconds";
const BUILD_INFO: &str = "loginprofiled_build_info";
const AUDIT_FAILURES: &str = "loginprofiled_audit_write_failures_total";
const MFA_DEVICES: &str = "loginprofiled_mfa_device_events_total";
const MFA_SEALED: &str = "loginprofiled_mfa_seeds_resealed_total";

/// Prometheus' default histogram buckets (as go-grpc-prometheus uses), in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls return the same handle).
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .context("histogram buckets")?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))?;
    let _ = HANDLE.set(handle.clone());
    describe();
    Ok(handle)
}

/// Help texts, and the series that must exist from the start (at 0) for alerts on their rate.
fn describe() {
    describe_counter!(GRPC_STARTED, "gRPC calls started, by service and method.");
    describe_counter!(
        GRPC_HANDLED,
        "gRPC calls completed, by service, method and code."
    );
    describe_histogram!(
        GRPC_SECONDS,
        metrics::Unit::Seconds,
        "Latency of gRPC calls, by service and method."
    );
    describe_counter!(
        QUERY_API_REQUESTS,
        "Query API requests, by action and IAM code."
    );
    describe_histogram!(
        QUERY_API_SECONDS,
        metrics::Unit::Seconds,
        "Latency of Query API requests, by action."
    );
    describe_gauge!(HASH_IN_FLIGHT, "argon2 computations running now.");
    describe_gauge!(
        HASH_QUEUE_DEPTH,
        "argon2 computations waiting for a thread."
    );
    describe_counter!(
        HASH_THROTTLED,
        "Calls refused because the hashing queue was full."
    );
    describe_histogram!(
        HASH_SECONDS,
        metrics::Unit::Seconds,
        "Time one argon2 computation takes."
    );
    describe_counter!(VERIFY, "VerifyPassword outcomes, by result.");
    describe_counter!(
        MFA_DEVICES,
        "Changes of virtual MFA devices: created, enabled, resynced, deactivated, deleted."
    );
    describe_counter!(
        MFA_SEALED,
        "MFA seeds re-encrypted under the first key of the key file (key rotation)."
    );
    describe_counter!(LOCKOUTS, "User names locked after repeated failures.");
    describe_counter!(
        REHASH,
        "Password hashes replaced by argon2id with the configured costs at a sign-in, by the \
         scheme they replaced (a foreign one when imported; argon2id when the costs changed)."
    );
    describe_counter!(
        COMPROMISED,
        "Login profiles marked PasswordResetRequired at a sign-in because their right password \
         is now on a blocklist."
    );
    describe_histogram!(
        STORE_SECONDS,
        metrics::Unit::Seconds,
        "Latency of store operations, by operation."
    );
    describe_gauge!(
        PASSWORD_HASHES,
        "Login profiles in the store by the scheme of their password hash (imported ones \
         upgrade to argon2id at their first sign-in), counted every 5 minutes."
    );
    describe_gauge!(BUILD_INFO, "Always 1; the version label names the build.");
    describe_counter!(AUDIT_FAILURES, "Audit lines that could not be written.");
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    counter!(HASH_THROTTLED).absolute(0);
    counter!(LOCKOUTS).absolute(0);
    counter!(COMPROMISED).absolute(0);
    counter!(AUDIT_FAILURES).absolute(0);
    gauge!(HASH_IN_FLIGHT).set(0.0);
    gauge!(HASH_QUEUE_DEPTH).set(0.0);
}

/// Serves `GET /metrics` on `listener` until `stop`.
pub async fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let upkeep = handle.clone();
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
            }
        }),
    );
    // Histograms are drained into their buckets by the upkeep, which this recorder (built
    // without the crate's own listener) leaves to its owner.
    let upkeeping = async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    };
    let serving = axum::serve(listener, router).with_graceful_shutdown(stop);
    tokio::select! {
        result = serving => result.context("serving metrics"),
        () = upkeeping => Ok(()),
    }
}

/// The labels of a call's operation.
fn grpc_labels(record: &CallRecord) -> (&'static str, &'static str) {
    match record.operation() {
        Some(op) => (op.grpc_service().full_name(), op.name()),
        None => (UNKNOWN, UNKNOWN),
    }
}

/// Counts a call as started (gRPC only, as go-grpc-prometheus does), unless it is unmetered.
pub(crate) fn call_started(record: &CallRecord) {
    if record.metered && record.transport == Transport::Grpc {
        let (service, method) = grpc_labels(record);
        counter!(GRPC_STARTED, "grpc_type" => "unary", "grpc_service" => service,
            "grpc_method" => method)
        .increment(1);
    }
}

/// Counts a finished call and its latency by operation and outcome, unless it is unmetered.
pub(crate) fn call_finished(record: &CallRecord, ending: Ending, latency: Duration) {
    if !record.metered {
        return;
    }
    match ending {
        Ending::Grpc(code) => {
            let (service, method) = grpc_labels(record);
            counter!(GRPC_HANDLED, "grpc_type" => "unary", "grpc_service" => service,
                "grpc_method" => method, "grpc_code" => grpc_code_name(code))
            .increment(1);
            histogram!(GRPC_SECONDS, "grpc_type" => "unary", "grpc_service" => service,
                "grpc_method" => method)
            .record(latency);
        }
        Ending::QueryApi { code, .. } => {
            let action = record.operation().map_or(UNKNOWN, Operation::name);
            counter!(QUERY_API_REQUESTS, "action" => action, "code" => code.unwrap_or("Success"))
                .increment(1);
            histogram!(QUERY_API_SECONDS, "action" => action).record(latency);
        }
    }
}

/// The name grpc-go gives a code (`codes.Code.String()`), which go-grpc-prometheus dashboards
/// expect in `grpc_code`.
pub fn grpc_code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "Canceled",
        Unknown => "Unknown",
        InvalidArgument => "InvalidArgument",
        DeadlineExceeded => "DeadlineExceeded",
        NotFound => "NotFound",
        AlreadyExists => "AlreadyExists",
        PermissionDenied => "PermissionDenied",
        ResourceExhausted => "ResourceExhausted",
        FailedPrecondition => "FailedPrecondition",
        Aborted => "Aborted",
        OutOfRange => "OutOfRange",
        Unimplemented => "Unimplemented",
        Internal => "Internal",
        Unavailable => "Unavailable",
        DataLoss => "DataLoss",
        Unauthenticated => "Unauthenticated",
    }
}

/// The hashing pool's figures.
pub(crate) mod hash {
    use std::time::Duration;

    use super::*;

    /// A job joined the queue. Counted up here and down by the thread that takes it (not set
    /// from the queue's length, which a submitter and a hashing thread would race to write).
    pub(crate) fn queued() {
        gauge!(HASH_QUEUE_DEPTH).increment(1.0);
    }

    /// A hashing thread took a job off the queue.
    pub(crate) fn dequeued() {
        gauge!(HASH_QUEUE_DEPTH).decrement(1.0);
    }

    pub(crate) fn throttled() {
        counter!(HASH_THROTTLED).increment(1);
    }

    /// One computation begins; `done` when it ends.
    pub(crate) fn started() {
        gauge!(HASH_IN_FLIGHT).increment(1.0);
    }

    pub(crate) fn done(took: Duration) {
        gauge!(HASH_IN_FLIGHT).decrement(1.0);
        histogram!(HASH_SECONDS).record(took);
    }
}

/// A VerifyPassword outcome: `ok`, `invalid_credentials`, `locked`, `throttled`, `error` or
/// `mfa_required`.
pub(crate) fn verify(result: &'static str) {
    counter!(VERIFY, "result" => result).increment(1);
}

/// A user name became locked.
pub(crate) fn lockout() {
    counter!(LOCKOUTS).increment(1);
}

/// A password hash of scheme `from` was replaced by argon2id at a sign-in.
pub(crate) fn rehashed(from: &'static str) {
    counter!(REHASH, "from" => from).increment(1);
}

/// A profile was marked PasswordResetRequired because its password is now on a blocklist.
pub(crate) fn password_compromised() {
    counter!(COMPROMISED).increment(1);
}

/// The store holds `count` login profiles whose hash is of `scheme`.
pub(crate) fn password_hashes(scheme: &'static str, count: u64) {
    gauge!(PASSWORD_HASHES, "scheme" => scheme).set(count as f64);
}

/// A virtual MFA device changed: `created`, `enabled`, `resynced`, `deactivated` or `deleted`.
pub(crate) fn mfa_device(event: &'static str) {
    counter!(MFA_DEVICES, "event" => event).increment(1);
}

/// An MFA seed was re-encrypted under the key file's first key.
pub(crate) fn mfa_seed_resealed() {
    counter!(MFA_SEALED).increment(1);
}

/// An audit line could not be written.
pub(crate) fn audit_failure() {
    counter!(AUDIT_FAILURES).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_codes_are_named_as_grpc_go_names_them() {
        assert_eq!(grpc_code_name(tonic::Code::Ok), "OK");
        assert_eq!(grpc_code_name(tonic::Code::Cancelled), "Canceled");
        assert_eq!(
            grpc_code_name(tonic::Code::ResourceExhausted),
            "ResourceExhausted"
        );
    }
}
