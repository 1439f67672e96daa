//! Brute-force lockout: only settled failures lock a name; attempts in flight only throttle.
//!
//! Each attempt takes two atomic steps on the stored [`LockoutRecord`], each one
//! read-modify-write of that record (so the state is shared by every replica of a shared store):
//!
//! 1. Admit: a locked name is refused (Locked); a name whose settled failures plus attempts in
//!    flight reach the threshold is refused with Throttling, before any hashing; otherwise the
//!    attempt is recorded as in flight. After a lock ends, one attempt at a time is admitted
//!    (its failure locks again, for twice as long). So parallel guesses can never have more than
//!    `threshold` hashes checked before the lock, yet an attempt that did not fail never locks.
//! 2. Settle: the attempt leaves the in-flight list; a failure is counted (and may lock), a
//!    success resets the count; an attempt that ended without a verdict (an error, a caller
//!    that went away mid-hash) only leaves the list.
//!
//! An attempt is settled by [`Attempt::settle`] or, when its future is dropped first, by its
//! `Drop` on a spawned task. An in-flight entry whose process crashed before settling stops
//! counting when its lease ends ([`ATTEMPT_LEASE`]); settling it later finds nothing to remove
//! (entries are removed by their random id, never by decrementing a count), so an expired
//! attempt can neither underflow the count nor be released twice.

use std::{sync::Arc, time::Duration};

use crate::domain::{Clock, IamError};
use crate::store::{InFlightAttempt, LockoutRecord, Store};

/// How long an admitted attempt counts as in flight when it is never settled (its process
/// died). It must outlast a real attempt (a profile read, a wait in the hashing queue and one
/// argon2 verification, normally well under a second, seconds when the pool is saturated) so
/// that a slow attempt keeps its place; and it bounds how long a crash mid-burst can throttle a
/// name (never lock it). An attempt that outlives its lease frees its place early, letting at
/// most one more guess be checked alongside it.
pub const ATTEMPT_LEASE: Duration = Duration::from_secs(60);

/// Retry-After for an attempt refused because enough attempts are in flight: they settle in
/// about one hash's time.
const IN_FLIGHT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// When repeated failures lock a user name, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRule {
    /// Consecutive failures that lock the name; 0 turns lockout off.
    pub threshold: u32,
    /// The first lock's length; each further failure doubles it.
    pub base: Duration,
    /// The longest lock.
    pub max: Duration,
}

impl Default for LockoutRule {
    fn default() -> Self {
        Self {
            threshold: 10,
            base: Duration::from_secs(1),
            max: Duration::from_secs(15 * 60),
        }
    }
}

/// What the admission step decides for a state at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Admit,
    Locked { until_ms: i64 },
    Throttled,
}

/// How an admitted attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Settlement {
    Failure,
    Success,
    /// No verdict (an error, or the caller went away): the attempt only stops counting.
    Abandoned,
}

impl LockoutRule {
    /// A pure function of the stored state, so the caller can tell from the `before` state the
    /// store returns what the applied update decided.
    fn decide(&self, state: &LockoutRecord, now_ms: i64) -> Decision {
        if state.locked_until_ms > now_ms {
            return Decision::Locked {
                until_ms: state.locked_until_ms,
            };
        }
        // Attempts that may be in flight at once: what is left below the threshold; and once a
        // lock has ended (the failures are at or past the threshold) one, whose failure locks
        // again for twice as long.
        let room = self
            .threshold
            .saturating_sub(state.consecutive_failures)
            .max(1);
        if live(state, now_ms).count() >= room as usize {
            Decision::Throttled
        } else {
            Decision::Admit
        }
    }

    /// The state after the admission step for `attempt`.
    fn admit(&self, state: &LockoutRecord, attempt: InFlightAttempt, now_ms: i64) -> LockoutRecord {
        let mut next = without_expired(state, now_ms);
        if self.decide(state, now_ms) == Decision::Admit {
            next.in_flight.push(attempt);
        }
        next
    }

    /// The state after attempt `id` settled as `how`.
    fn settle(
        &self,
        state: &LockoutRecord,
        id: u64,
        how: Settlement,
        now_ms: i64,
    ) -> LockoutRecord {
        let mut next = without_expired(state, now_ms);
        next.in_flight.retain(|a| a.id != id);
        match how {
            Settlement::Failure => self.count_failure(next, now_ms),
            Settlement::Success => LockoutRecord {
                in_flight: next.in_flight,
                ..LockoutRecord::default()
            },
            Settlement::Abandoned => next,
        }
    }

    /// The state after one more failure at `now_ms`: locked once failures reach the threshold.
    fn count_failure(&self, state: LockoutRecord, now_ms: i64) -> LockoutRecord {
        let failures = state.consecutive_failures.saturating_add(1);
        let locked_until_ms = match failures.checked_sub(self.threshold) {
            Some(beyond) => {
                let doubling = 2u32.checked_pow(beyond.min(31)).unwrap_or(u32::MAX);
                let lock = self.base.saturating_mul(doubling).min(self.max);
                now_ms.saturating_add(to_ms_duration(lock))
            }
            None => 0,
        };
        LockoutRecord {
            consecutive_failures: failures,
            locked_until_ms,
            last_failure_ms: now_ms,
            in_flight: state.in_flight,
        }
    }
}

fn live(state: &LockoutRecord, now_ms: i64) -> impl Iterator<Item = &InFlightAttempt> {
    state
        .in_flight
        .iter()
        .filter(move |a| a.lease_until_ms > now_ms)
}

fn without_expired(state: &LockoutRecord, now_ms: i64) -> LockoutRecord {
    LockoutRecord {
        in_flight: live(state, now_ms).copied().collect(),
        ..state.clone()
    }
}

pub(super) fn to_ms_duration(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whether an attempt may go ahead. A throttled attempt is an error (Throttling).
pub(super) enum Admission {
    Admitted(Attempt),
    Locked(Duration),
}

/// Admits an attempt on `key`, or refuses it (Locked, or Err Throttling) without hashing.
pub(super) async fn admit(
    store: &Arc<dyn Store>,
    clock: &Arc<dyn Clock>,
    rule: LockoutRule,
    key: &str,
) -> Result<Admission, IamError> {
    let attempt_of = |lease| Attempt {
        store: Arc::clone(store),
        key: key.to_owned(),
        lease,
    };
    if rule.threshold == 0 {
        return Ok(Admission::Admitted(attempt_of(None)));
    }
    let now_ms = clock.now_ms();
    let attempt = InFlightAttempt {
        id: rand::random(),
        lease_until_ms: now_ms.saturating_add(to_ms_duration(ATTEMPT_LEASE)),
    };
    let (before, after) = store
        .update_lockout(key, &|state| rule.admit(state, attempt, now_ms))
        .await?;
    match rule.decide(&before, now_ms) {
        Decision::Admit => Ok(Admission::Admitted(attempt_of(Some(Lease {
            clock: Arc::clone(clock),
            rule,
            id: attempt.id,
            admitted: after,
        })))),
        Decision::Locked { until_ms } => Ok(Admission::Locked(Duration::from_millis(
            (until_ms - now_ms).unsigned_abs(),
        ))),
        Decision::Throttled => Err(IamError::Throttling {
            retry_after: IN_FLIGHT_RETRY_AFTER,
        }),
    }
}

/// An admitted attempt: counts against the threshold until settled. Dropped unsettled (an
/// error, or the caller's future dropped mid-hash), it settles as abandoned on a spawned task.
#[must_use = "an attempt must be settled with its outcome"]
pub(super) struct Attempt {
    store: Arc<dyn Store>,
    key: String,
    /// None when lockout is off.
    lease: Option<Lease>,
}

struct Lease {
    clock: Arc<dyn Clock>,
    rule: LockoutRule,
    id: u64,
    /// The state the admission left: what settling most likely finds.
    admitted: LockoutRecord,
}

impl Lease {
    async fn settle(
        &self,
        store: &dyn Store,
        key: &str,
        how: Settlement,
        signed_in_at_ms: Option<i64>,
    ) -> Result<(), IamError> {
        let now_ms = self.clock.now_ms();
        let (rule, id) = (self.rule, self.id);
        let (before, after) = store
            .settle_attempt(key, &self.admitted, signed_in_at_ms, &|state| {
                rule.settle(state, id, how, now_ms)
            })
            .await?;
        if after.locked_until_ms > now_ms && after.locked_until_ms != before.locked_until_ms {
            crate::meter::lockout();
        }
        Ok(())
    }
}

impl Attempt {
    pub(super) async fn settle(self, how: Settlement) -> Result<(), IamError> {
        self.settle_and_stamp(how, None).await
    }

    /// Settles a successful sign-in and records it as the user's last use, in one store step.
    pub(super) async fn signed_in(self, at_ms: i64) -> Result<(), IamError> {
        self.settle_and_stamp(Settlement::Success, Some(at_ms))
            .await
    }

    async fn settle_and_stamp(
        mut self,
        how: Settlement,
        signed_in_at_ms: Option<i64>,
    ) -> Result<(), IamError> {
        match &self.lease {
            Some(lease) => {
                lease
                    .settle(&*self.store, &self.key, how, signed_in_at_ms)
                    .await?
            }
            None => {
                if let Some(at_ms) = signed_in_at_ms {
                    self.store.touch_user(&self.key, at_ms).await?;
                }
            }
        }
        // Only now: if this future is dropped during the update, `Drop` releases the attempt
        // (idempotent, by id) and never counts a failure twice.
        self.lease = None;
        Ok(())
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take() else {
            return;
        };
        // Without a runtime (shutting down) the lease ends the attempt instead.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, key) = (Arc::clone(&self.store), std::mem::take(&mut self.key));
            runtime.spawn(async move {
                if let Err(e) = lease.settle(&*store, &key, Settlement::Abandoned, None).await {
                    tracing::warn!(error = %e, "could not release an abandoned sign-in attempt; its lease will");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests;
