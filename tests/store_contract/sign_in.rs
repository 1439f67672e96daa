//! The store steps of a sign-in: settling an attempt from an expected state (stamping the last
//! use with a success), and the profile read with the policy.

use loginprofiled::store::{InFlightAttempt, LockoutRecord, ProfileLookup};

use crate::{
    Backend,
    races::race,
    records::{failures, policy, profile, user},
};

/// `state` with attempt `id` in flight.
fn with_attempt(state: LockoutRecord, id: u64) -> LockoutRecord {
    LockoutRecord {
        in_flight: vec![InFlightAttempt {
            id,
            lease_until_ms: i64::MAX - 1,
        }],
        ..state
    }
}

pub async fn settle_attempt_applies_to_the_stored_state_whatever_was_expected<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    // u64::MAX does not fit a double: the stored id must compare exactly.
    let admitted = with_attempt(failures(2, 5), u64::MAX);
    store
        .update_lockout("ann", &|_| admitted.clone())
        .await
        .unwrap();
    let count = |s: &LockoutRecord| failures(s.consecutive_failures + 1, 9);

    // Expected right.
    let (before, after) = store
        .settle_attempt("ann", &admitted, None, &count)
        .await
        .unwrap();
    assert_eq!((before, after.clone()), (admitted.clone(), failures(3, 9)));
    assert_eq!(store.lockout("ann").await.unwrap(), after);

    // Expected wrong (the state moved on): the update still applies to what is stored.
    let (before, after) = store
        .settle_attempt("ann", &admitted, None, &count)
        .await
        .unwrap();
    assert_eq!((before, after), (failures(3, 9), failures(4, 9)));

    // A state expected where there is none, and none expected where there is one.
    let (before, _) = store
        .settle_attempt("bob", &admitted, None, &count)
        .await
        .unwrap();
    assert_eq!(before, LockoutRecord::default());
    assert_eq!(store.lockout("bob").await.unwrap(), failures(1, 9));
    let (before, _) = store
        .settle_attempt("bob", &LockoutRecord::default(), None, &count)
        .await
        .unwrap();
    assert_eq!(before, failures(1, 9));

    // Settling to the default state removes it, expected or not.
    for expected in [failures(4, 9), admitted] {
        store
            .settle_attempt("ann", &expected, None, &|_| LockoutRecord::default())
            .await
            .unwrap();
        assert_eq!(
            store.lockout("ann").await.unwrap(),
            LockoutRecord::default()
        );
    }
}

pub async fn a_successful_settlement_records_the_last_use<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    let admitted = with_attempt(LockoutRecord::default(), 7);
    let cases = [
        // The common path: the admission's state is there, and goes.
        (admitted.clone(), admitted.clone(), 100),
        // Expected wrong: the stored state differs.
        (failures(1, 1), admitted.clone(), 200),
        // Nothing stored and nothing to store.
        (LockoutRecord::default(), LockoutRecord::default(), 300),
        (admitted.clone(), LockoutRecord::default(), 400),
    ];
    for (stored, expected, at_ms) in cases {
        store
            .update_lockout("ann", &|_| stored.clone())
            .await
            .unwrap();
        store
            .settle_attempt("ann", &expected, Some(at_ms), &|_| LockoutRecord::default())
            .await
            .unwrap();
        let ann = store.user("ann").await.unwrap().unwrap();
        assert_eq!(ann.password_last_used_ms, Some(at_ms), "stored {stored:?}");
        assert_eq!(
            store.lockout("ann").await.unwrap(),
            LockoutRecord::default()
        );
    }
    // Without a success nothing is stamped; for an unknown name nothing is created.
    store
        .settle_attempt("ann", &admitted, None, &|_| LockoutRecord::default())
        .await
        .unwrap();
    let ann = store.user("ann").await.unwrap().unwrap();
    assert_eq!(ann.password_last_used_ms, Some(400));
    store
        .settle_attempt("ghost", &admitted, Some(1), &|_| LockoutRecord::default())
        .await
        .unwrap();
    assert_eq!(store.user("ghost").await.unwrap(), None);
}

pub async fn concurrent_settlements_from_one_expected_state_lose_no_increment<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    let admitted = with_attempt(LockoutRecord::default(), 1);
    store
        .update_lockout("ann", &|_| admitted.clone())
        .await
        .unwrap();
    // All expect the admission's state; one can find it, the others must not count on it.
    race(50, |_| {
        let (store, admitted) = (store.clone(), admitted.clone());
        async move {
            store
                .settle_attempt("ann", &admitted, None, &|s| LockoutRecord {
                    consecutive_failures: s.consecutive_failures + 1,
                    ..s.clone()
                })
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(store.lockout("ann").await.unwrap().consecutive_failures, 50);
}

pub async fn profile_and_policy_outcomes<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    assert_eq!(
        store.profile_and_policy("ann").await.unwrap(),
        (ProfileLookup::NoUser, None)
    );
    let ann = user("Ann", "/");
    store.insert_user("ann", ann.clone()).await.unwrap();
    store.put_policy(policy(11)).await.unwrap();
    assert_eq!(
        store.profile_and_policy("ann").await.unwrap(),
        (ProfileLookup::NoProfile(ann.clone()), Some(policy(11)))
    );
    store.insert_profile("ann", profile("a", 3)).await.unwrap();
    store.delete_policy().await.unwrap();
    assert_eq!(
        store.profile_and_policy("ann").await.unwrap(),
        (ProfileLookup::Found(ann, profile("a", 3)), None)
    );
    assert_eq!(
        store.profile_and_policy("bob").await.unwrap(),
        (ProfileLookup::NoUser, None)
    );
}
