use super::*;

const NOW: i64 = 1_000_000;

fn rule() -> LockoutRule {
    LockoutRule {
        threshold: 3,
        ..LockoutRule::default()
    }
}

fn attempt(id: u64) -> InFlightAttempt {
    InFlightAttempt {
        id,
        lease_until_ms: NOW + to_ms_duration(ATTEMPT_LEASE),
    }
}

#[test]
fn attempts_in_flight_throttle_but_never_lock() {
    let rule = rule();
    let mut state = LockoutRecord::default();
    for id in 0..3 {
        assert_eq!(rule.decide(&state, NOW), Decision::Admit);
        state = rule.admit(&state, attempt(id), NOW);
    }
    assert_eq!(rule.decide(&state, NOW), Decision::Throttled);
    assert_eq!(
        rule.admit(&state, attempt(9), NOW),
        state,
        "nothing recorded"
    );
    for id in 0..3 {
        state = rule.settle(&state, id, Settlement::Success, NOW);
    }
    assert_eq!(state, LockoutRecord::default());
}

#[test]
fn settled_failures_lock_at_the_threshold() {
    let rule = rule();
    let mut state = LockoutRecord::default();
    for id in 0..3 {
        state = rule.admit(&state, attempt(id), NOW);
    }
    for id in 0..3 {
        state = rule.settle(&state, id, Settlement::Failure, NOW);
    }
    assert_eq!(state.consecutive_failures, 3);
    assert!(state.in_flight.is_empty());
    assert_eq!(
        rule.decide(&state, NOW),
        Decision::Locked {
            until_ms: NOW + 1000
        }
    );
}

#[test]
fn expired_attempts_stop_counting_and_settle_without_underflow() {
    let rule = rule();
    let mut state = LockoutRecord::default();
    for id in 0..3 {
        state = rule.admit(&state, attempt(id), NOW);
    }
    let later = NOW + to_ms_duration(ATTEMPT_LEASE);
    assert_eq!(rule.decide(&state, later), Decision::Admit, "leases ended");
    let fresh = InFlightAttempt {
        id: 7,
        lease_until_ms: later + to_ms_duration(ATTEMPT_LEASE),
    };
    state = rule.admit(&state, fresh, later);
    assert_eq!(state.in_flight.len(), 1, "expired entries are dropped");
    let settled = rule.settle(&state, 0, Settlement::Abandoned, later);
    assert_eq!(
        settled, state,
        "an expired attempt has nothing left to release"
    );
    let settled = rule.settle(&state, 0, Settlement::Failure, later);
    assert_eq!(
        settled.in_flight, state.in_flight,
        "the live attempt still counts"
    );
    assert_eq!(settled.consecutive_failures, 1);
}

#[test]
fn after_a_lock_ends_one_attempt_at_a_time_is_admitted() {
    let rule = rule();
    let mut state = LockoutRecord::default();
    for _ in 0..3 {
        state = rule.count_failure(state, NOW);
    }
    let after_lock = NOW + 1000;
    assert_eq!(rule.decide(&state, after_lock), Decision::Admit);
    state = rule.admit(&state, attempt(1), after_lock);
    assert_eq!(rule.decide(&state, after_lock), Decision::Throttled);
    state = rule.settle(&state, 1, Settlement::Failure, after_lock);
    assert_eq!(
        rule.decide(&state, after_lock),
        Decision::Locked {
            until_ms: after_lock + 2000
        },
        "locked again, for twice as long"
    );
}

#[test]
fn a_success_keeps_other_attempts_in_flight() {
    let rule = rule();
    let mut state = rule.count_failure(LockoutRecord::default(), NOW);
    state = rule.admit(&state, attempt(1), NOW);
    state = rule.admit(&state, attempt(2), NOW);
    state = rule.settle(&state, 1, Settlement::Success, NOW);
    assert_eq!(state.consecutive_failures, 0);
    assert_eq!(state.in_flight, vec![attempt(2)]);
}
