//! What gRPC health reports: SERVING while the store can take writes (PostgreSQL: reachable and
//! not read-only), every audit line could be written, and shutdown has not begun.
//!
//! After an I/O error such as a full disk, sled fails every operation until the process
//! reopens it; health then turns NOT_SERVING so that load balancers stop routing calls that can
//! only fail, and a liveness probe can restart the process once the disk has room.

use std::{sync::Arc, time::Duration};

use tokio::sync::Mutex;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{domain::Service, grpc::SERVICE_NAMES};

/// How often PostgreSQL is probed: often enough that a database going away, turning read-only,
/// or coming back shows in health within 2 s (DESIGN, "PostgreSQL in production").
pub(super) const POSTGRES_PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// How often the embedded store is probed. Each probe is a durable write (sled reports an I/O
/// error it recorded only to a write), and at 500 ms they cost Create and Verify about 15% of
/// their throughput in `loginprofiled-bench` (0.77 against 0.95 of the raw argon2 rate); its
/// failures (a full disk) last until the process restarts, so 2 s is soon enough.
pub(super) const SLED_PROBE_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct State {
    stopping: bool,
    store_answers: bool,
}

/// The health of this process, published to the gRPC health service. Cloning is shallow.
#[derive(Clone)]
pub(super) struct Health {
    reporter: HealthReporter,
    // A lock, so that a probe publishing SERVING cannot overtake the shutdown's NOT_SERVING.
    state: Arc<Mutex<State>>,
}

impl Health {
    /// Publishes SERVING for "" and every service.
    pub(super) async fn start(reporter: HealthReporter) -> Self {
        let health = Self {
            reporter,
            state: Arc::new(Mutex::new(State {
                stopping: false,
                store_answers: true,
            })),
        };
        health.publish(&*health.state.lock().await).await;
        health
    }

    /// Shutdown has begun: NOT_SERVING from now on, whatever the store does.
    pub(super) async fn stop(&self) {
        let mut state = self.state.lock().await;
        state.stopping = true;
        self.publish(&state).await;
    }

    /// Records whether the store answered its last probe, publishing any change.
    pub(super) async fn store_answered(&self, answers: bool) {
        let mut state = self.state.lock().await;
        if state.store_answers != answers {
            state.store_answers = answers;
            self.publish(&state).await;
        }
    }

    async fn publish(&self, state: &State) {
        let status = if state.stopping || !state.store_answers {
            ServingStatus::NotServing
        } else {
            ServingStatus::Serving
        };
        self.reporter.set_service_status("", status).await;
        for name in SERVICE_NAMES {
            self.reporter.set_service_status(name, status).await;
        }
    }
}

/// Probes the store every `interval` and reports what it finds. Never returns.
pub(super) async fn watch_store(service: Service, health: Health, interval: Duration) {
    let mut every = tokio::time::interval(interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_failing = false;
    loop {
        every.tick().await;
        // A failed audit trail refuses every audited call: as useless to route to.
        let result = match service.store().check().await {
            Ok(()) => service.audit().ready(),
            failed => failed,
        };
        match (&result, was_failing) {
            (Err(error), false) => tracing::error!(
                error = format!("{error:#}"),
                "the store cannot take writes or the audit log failed; health is NOT_SERVING"
            ),
            (Ok(()), true) => tracing::info!("the store takes writes again; health is SERVING"),
            _ => {}
        }
        was_failing = result.is_err();
        health.store_answered(result.is_ok()).await;
    }
}

#[cfg(test)]
mod tests {
    use tonic_health::{
        pb::{HealthCheckRequest, health_check_response, health_server::Health as _},
        server::HealthService,
    };

    use super::*;

    async fn status(service: &HealthService) -> health_check_response::ServingStatus {
        let request = tonic::Request::new(HealthCheckRequest {
            service: String::new(),
        });
        service.check(request).await.unwrap().into_inner().status()
    }

    #[tokio::test]
    async fn a_failing_store_turns_health_off_and_back_but_never_undoes_a_shutdown() {
        use health_check_response::ServingStatus::{NotServing, Serving};
        let reporter = HealthReporter::new();
        let service = HealthService::from_health_reporter(reporter.clone());
        let health = Health::start(reporter).await;
        assert_eq!(status(&service).await, Serving);
        health.store_answered(false).await;
        assert_eq!(status(&service).await, NotServing);
        health.store_answered(true).await;
        assert_eq!(status(&service).await, Serving);
        health.stop().await;
        health.store_answered(true).await;
        assert_eq!(status(&service).await, NotServing);
    }
}
