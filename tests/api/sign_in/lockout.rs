//! Brute-force lockout of VerifyPassword.

use loginprofiled::{
    domain::{ATTEMPT_LEASE, Clock as _},
    grpc::proto::login_profile_service_client::LoginProfileServiceClient,
    password::PoolSize,
    store::{InFlightAttempt, LockoutRecord},
};
use tonic_types::StatusExt as _;

use super::*;
use crate::{helpers::Authed, query_api::send};

type ProfilesClient = LoginProfileServiceClient<Authed>;

#[tokio::test]
async fn consecutive_failures_lock_with_doubling_and_a_success_resets() {
    let app = spawn_app_with(|c| c.lockout = lockout(3)).await;
    with_profile(&app, "alice", GOOD, false).await;
    for _ in 0..3 {
        assert_eq!(
            verify(&app, "alice", "Wr0ng!Password").await,
            VerifyResult::InvalidCredentials
        );
    }
    let locked = verify_full(&app, "alice", GOOD).await;
    assert_eq!(
        locked.result(),
        VerifyResult::Locked,
        "even the right password"
    );
    assert_eq!(locked.retry_after.unwrap().seconds, 60);

    app.clock.advance(Duration::from_secs(61));
    assert_eq!(
        verify(&app, "alice", "Wr0ng!Password").await,
        VerifyResult::InvalidCredentials
    );
    assert_eq!(
        verify_full(&app, "alice", GOOD)
            .await
            .retry_after
            .unwrap()
            .seconds,
        120,
        "the lock doubles"
    );

    app.clock.advance(Duration::from_secs(121));
    assert_eq!(verify(&app, "alice", GOOD).await, VerifyResult::Ok);
    assert_eq!(
        verify(&app, "alice", "Wr0ng!Password").await,
        VerifyResult::InvalidCredentials
    );
    assert_eq!(
        verify(&app, "alice", GOOD).await,
        VerifyResult::Ok,
        "the count was reset"
    );
}

#[tokio::test]
async fn locks_never_exceed_the_maximum() {
    let app = spawn_app_with(|c| c.lockout = lockout(1)).await;
    with_profile(&app, "alice", GOOD, false).await;
    for _ in 0..8 {
        assert_eq!(
            verify(&app, "alice", "Wr0ng!Password").await,
            VerifyResult::InvalidCredentials
        );
        let locked = verify_full(&app, "alice", GOOD).await;
        assert!(locked.retry_after.unwrap().seconds <= 600);
        app.clock.advance(Duration::from_secs(601));
    }
    assert_eq!(verify(&app, "alice", GOOD).await, VerifyResult::Ok);
}

#[tokio::test]
async fn unknown_names_are_locked_the_same_way() {
    let app = spawn_app_with(|c| c.lockout = lockout(2)).await;
    for _ in 0..2 {
        assert_eq!(
            verify(&app, "ghost", GOOD).await,
            VerifyResult::InvalidCredentials
        );
    }
    assert_eq!(verify(&app, "ghost", GOOD).await, VerifyResult::Locked);
}

/// VerifyPassword answered with a verdict, or refused with a status.
async fn verify_or_status(
    mut client: ProfilesClient,
    name: String,
    password: String,
) -> Result<VerifyResult, tonic::Status> {
    let request = VerifyPasswordRequest {
        mfa_code: None,
        user_name: name,
        password,
    };
    client
        .verify_password(request)
        .await
        .map(|response| response.into_inner().result())
}

/// Asserts a refusal is Throttling with RetryInfo, as the hashing queue's load shedding is.
#[track_caller]
fn assert_throttled(status: &tonic::Status) {
    assert_error(
        status,
        Code::ResourceExhausted,
        "Throttling",
        "Rate exceeded",
    );
    let retry = status.get_error_details().retry_info().cloned();
    assert_eq!(
        retry.and_then(|r| r.retry_delay),
        Some(Duration::from_secs(1)),
        "RetryInfo: {status:?}"
    );
}

/// Records `n` admitted, never settled attempts on `name`, as a process that died (or another
/// replica busy hashing) leaves them in the store.
async fn in_flight_elsewhere(app: &TestApp, name: &str, n: u64) {
    let lease_until_ms = to_ms(app.clock.now() + ATTEMPT_LEASE);
    app.service
        .store()
        .update_lockout(name, &|state| LockoutRecord {
            in_flight: (0..n)
                .map(|id| InFlightAttempt { id, lease_until_ms })
                .collect(),
            ..state.clone()
        })
        .await
        .unwrap();
}

fn to_ms(time: std::time::SystemTime) -> i64 {
    let since = time.duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_right_passwords_is_never_locked_out() {
    let app = spawn_app_with(|c| c.lockout = LockoutRule::default()).await;
    with_profile(&app, "alice", GOOD, false).await;
    let calls: Vec<_> = (0..32)
        .map(|_| {
            tokio::spawn(verify_or_status(
                app.profiles(),
                "alice".into(),
                GOOD.into(),
            ))
        })
        .collect();
    let (mut ok, mut throttled) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            Ok(VerifyResult::Ok) => ok += 1,
            Ok(other) => panic!("only OK or Throttling, not {other:?}"),
            Err(status) => {
                assert_throttled(&status);
                throttled += 1;
            }
        }
    }
    assert_eq!(ok + throttled, 32);
    assert!(
        ok >= LockoutRule::default().threshold,
        "attempts are refused only while a threshold's worth is in flight: {ok} OK"
    );
    assert_eq!(
        app.service.store().lockout("alice").await.unwrap(),
        LockoutRecord::default(),
        "no failure counted and nothing left in flight"
    );
    assert_eq!(verify(&app, "alice", GOOD).await, VerifyResult::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_guesses_cannot_get_past_the_threshold() {
    let app = spawn_app_with(|c| c.lockout = lockout(5)).await;
    with_profile(&app, "alice", GOOD, false).await;
    let before = verifications(&app);
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let guess = format!("Guess!{i:04}x");
            tokio::spawn(verify_or_status(app.profiles(), "alice".into(), guess))
        })
        .collect();
    let (mut wrong, mut refused) = (0, 0);
    for guess in guesses {
        match guess.await.unwrap() {
            Ok(VerifyResult::InvalidCredentials) => wrong += 1,
            Ok(VerifyResult::Locked) => refused += 1,
            Err(status) => {
                assert_throttled(&status);
                refused += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((wrong, refused), (5, 35));
    assert_eq!(
        verifications(&app) - before,
        5,
        "only the admitted guesses were hashed"
    );
    assert_eq!(verify(&app, "alice", GOOD).await, VerifyResult::Locked);
}

#[tokio::test]
async fn attempts_in_flight_when_the_process_died_stop_counting_when_their_lease_ends() {
    let app = spawn_app_with(|c| c.lockout = lockout(3)).await;
    with_profile(&app, "alice", GOOD, false).await;
    in_flight_elsewhere(&app, "alice", 3).await;
    app.service.store().flush().await.unwrap();
    let app = app.restart_with(|c| c.lockout = lockout(3)).await;

    let before = verifications(&app);
    let refused = verify_or_status(app.profiles(), "alice".into(), GOOD.into())
        .await
        .expect_err("the dead burst still counts within its lease");
    assert_throttled(&refused);
    assert_eq!(
        verifications(&app),
        before,
        "no hash for a throttled attempt"
    );

    app.clock.advance(ATTEMPT_LEASE + Duration::from_secs(1));
    for _ in 0..2 {
        assert_eq!(
            verify(&app, "alice", "Wr0ng!Password").await,
            VerifyResult::InvalidCredentials
        );
    }
    assert_eq!(
        verify(&app, "alice", GOOD).await,
        VerifyResult::Ok,
        "two failures, below the threshold: the phantom attempts neither lock nor throttle"
    );
    assert_eq!(
        app.service.store().lockout("alice").await.unwrap(),
        LockoutRecord::default(),
        "expired attempts are dropped from the record"
    );
}

#[tokio::test]
async fn the_query_api_answers_a_full_in_flight_count_with_throttling_and_retry_after() {
    let app = spawn_app_with(|c| c.lockout = lockout(2)).await;
    with_profile(&app, "Bob", GOOD, false).await;
    in_flight_elsewhere(&app, "bob", 2).await;
    let before = verifications(&app);
    let body = format!(
        "Action=ChangePassword&UserName=Bob&OldPassword={}&NewPassword=Another%2Bone%2B42%21",
        urlencoding(GOOD)
    );
    let refused = send(app.http_addr, "POST", "/", body.as_bytes()).await;
    assert_eq!(refused.status, 400, "{refused:?}");
    assert!(
        refused.body.contains("<Code>Throttling</Code>"),
        "{refused:?}"
    );
    assert_eq!(refused.header("retry-after"), Some("1"), "{refused:?}");
    assert_eq!(
        verifications(&app),
        before,
        "no hash for a throttled attempt"
    );

    app.clock.advance(ATTEMPT_LEASE);
    let changed = send(app.http_addr, "POST", "/", body.as_bytes()).await;
    assert_eq!(changed.status, 200, "{changed:?}");
}

fn urlencoding(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_caller_that_goes_away_mid_hash_leaves_no_attempt_in_flight() {
    let app = spawn_app_with(|c| {
        c.lockout = lockout(1);
        c.pool = PoolSize {
            concurrency: 1,
            queue: 16,
        };
        c.hash_cost.memory_kib = 64 * 1024;
        c.hash_cost.iterations = 8;
    })
    .await;
    with_profile(&app, "alice", GOOD, false).await;
    user(&app, "slow").await;
    let started = || app.service.hasher().stats().started.load(Ordering::SeqCst);
    let started_before = started();
    let mut client = app.profiles();
    let slow = tokio::spawn(async move {
        client
            .create_login_profile(create("slow", GOOD, false))
            .await
    });
    // Wait (bounded) until the slow call holds the only hashing thread.
    for _ in 0..500 {
        if started() > started_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        started() - started_before,
        1,
        "the slow call is being hashed"
    );

    let mut late = tonic::Request::new(VerifyPasswordRequest {
        mfa_code: None,
        user_name: "alice".into(),
        password: GOOD.into(),
    });
    late.metadata_mut()
        .insert("grpc-timeout", "50m".parse().unwrap());
    let err = app.profiles().verify_password(late).await.unwrap_err();
    assert!(
        matches!(err.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{err:?}"
    );
    slow.await.unwrap().expect("the slow call completes");

    // The abandoned attempt is released on a spawned task: wait for it, bounded.
    for _ in 0..500 {
        let state = app.service.store().lockout("alice").await.unwrap();
        if state.in_flight.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        app.service.store().lockout("alice").await.unwrap(),
        LockoutRecord::default(),
        "released, and no failure counted for an attempt without a verdict"
    );
    assert_eq!(
        verify(&app, "alice", GOOD).await,
        VerifyResult::Ok,
        "a leaked attempt would throttle a threshold of 1"
    );
}

#[tokio::test]
async fn locks_survive_a_restart_and_lockout_can_be_turned_off() {
    let app = spawn_app_with(|c| c.lockout = lockout(2)).await;
    with_profile(&app, "alice", GOOD, false).await;
    for _ in 0..2 {
        verify(&app, "alice", "Wr0ng!Password").await;
    }
    let app = app.restart_with(|c| c.lockout = lockout(2)).await;
    assert_eq!(verify(&app, "alice", GOOD).await, VerifyResult::Locked);

    let off = spawn_app_with(|c| c.lockout = lockout(0)).await;
    with_profile(&off, "bob", GOOD, false).await;
    for _ in 0..20 {
        assert_eq!(
            verify(&off, "bob", "Wr0ng!Password").await,
            VerifyResult::InvalidCredentials
        );
    }
    assert_eq!(verify(&off, "bob", GOOD).await, VerifyResult::Ok);
}

#[tokio::test]
async fn failure_counts_of_idle_names_are_forgotten_but_locks_are_kept() {
    let app = spawn_app_with(|c| c.lockout = lockout(2)).await;
    verify(&app, "ghost", GOOD).await;
    for _ in 0..2 {
        verify(&app, "locked", GOOD).await;
    }
    app.clock.advance(Duration::from_secs(590));
    assert_eq!(
        app.service.forget_stale_failures().await.unwrap(),
        0,
        "within the window"
    );
    app.clock.advance(Duration::from_secs(11));
    // "ghost" has one stale failure; "locked" was locked for 60 s, long over, and is stale too.
    assert_eq!(app.service.forget_stale_failures().await.unwrap(), 2);
    assert_eq!(
        app.service.store().lockout("ghost").await.unwrap(),
        Default::default()
    );

    for _ in 0..2 {
        verify(&app, "again", GOOD).await;
    }
    assert_eq!(
        app.service.forget_stale_failures().await.unwrap(),
        0,
        "a current lock is kept"
    );
    assert_eq!(verify(&app, "again", GOOD).await, VerifyResult::Locked);
}

#[tokio::test]
async fn attempts_in_flight_are_not_forgotten_before_their_lease_ends() {
    let app = spawn_app_with(|c| c.lockout = lockout(1)).await;
    with_profile(&app, "alice", GOOD, false).await;
    in_flight_elsewhere(&app, "alice", 1).await;
    assert_eq!(app.service.forget_stale_failures().await.unwrap(), 0);
    let refused = verify_or_status(app.profiles(), "alice".into(), GOOD.into())
        .await
        .expect_err("the attempt in flight still counts");
    assert_throttled(&refused);

    app.clock.advance(ATTEMPT_LEASE);
    assert_eq!(app.service.forget_stale_failures().await.unwrap(), 1);
}
