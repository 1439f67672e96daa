//! VerifyPassword with a second factor: the window, replay (on one server and across two
//! replicas of one database), lockout through wrong codes, and what is never revealed.

use loginprofiled::{
    domain::LockoutRule,
    grpc::proto::{UpdateUserRequest, VerifyPasswordRequest},
};
use tonic::Code;

use super::*;
use crate::{
    helpers::{TestDb, on_postgres, start_on, test_config, user_with_profile},
    login_profiles::OTHER,
};

#[tokio::test]
async fn the_right_password_without_a_code_asks_for_one_and_counts_nothing() {
    let app = spawn_app_with(|c| {
        with_keys(c);
        c.lockout = LockoutRule {
            threshold: 3,
            ..LockoutRule::default()
        };
    })
    .await;
    let (_, seed) = enrolled(&app, "alice").await;
    for _ in 0..2 {
        assert_eq!(
            verify_with(&app, "alice", OTHER, None).await,
            VerifyResult::InvalidCredentials
        );
    }
    for _ in 0..5 {
        assert_eq!(
            verify_with(&app, "alice", GOOD, None).await,
            VerifyResult::MfaRequired,
        );
    }
    assert_eq!(
        verify_with(&app, "alice", GOOD, Some(String::new())).await,
        VerifyResult::MfaRequired,
        "an empty code is no code"
    );
    // MfaRequired reset nothing: one more failure locks.
    assert_eq!(
        verify_with(&app, "alice", OTHER, None).await,
        VerifyResult::InvalidCredentials
    );
    assert_eq!(
        verify_with(&app, "alice", GOOD, Some(code(&app, &seed, 1))).await,
        VerifyResult::Locked
    );
}

#[tokio::test]
async fn codes_of_the_step_before_now_and_after_are_accepted_and_two_away_are_not() {
    let app = mfa_app().await;
    let (_, seed) = enrolled(&app, "bob").await;
    app.clock.advance(STEP * 5);
    for steps in [-2, 2] {
        assert_eq!(
            verify_with(&app, "bob", GOOD, Some(code(&app, &seed, steps))).await,
            VerifyResult::InvalidCredentials,
            "{steps} steps away"
        );
    }
    // In time order, since a step at or before the last one used is a replay.
    for steps in [-1, 0, 1] {
        assert_eq!(
            verify_with(&app, "bob", GOOD, Some(code(&app, &seed, steps))).await,
            VerifyResult::Ok,
            "{steps} steps away"
        );
    }
}

#[tokio::test]
async fn a_code_is_accepted_once_and_an_earlier_one_after_it_never() {
    let app = mfa_app().await;
    let (_, seed) = enrolled(&app, "carol").await;
    app.clock.advance(STEP * 2);
    let now = code(&app, &seed, 0);
    assert_eq!(
        verify_with(&app, "carol", GOOD, Some(now.clone())).await,
        VerifyResult::Ok
    );
    assert_eq!(
        verify_with(&app, "carol", GOOD, Some(now)).await,
        VerifyResult::InvalidCredentials,
        "replayed"
    );
    assert_eq!(
        verify_with(&app, "carol", GOOD, Some(code(&app, &seed, -1))).await,
        VerifyResult::InvalidCredentials,
        "older than the last one used"
    );
    // The codes Enable took are used too.
    let fresh = mfa_app().await;
    let (_, seed) = enrolled(&fresh, "dan").await;
    assert_eq!(
        verify_with(&fresh, "dan", GOOD, Some(code(&fresh, &seed, 0))).await,
        VerifyResult::InvalidCredentials,
        "Enable's second code"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_code_sent_twice_at_once_signs_in_once() {
    let app = mfa_app().await;
    let (_, seed) = enrolled(&app, "erin").await;
    for round in 0..5 {
        app.clock.advance(STEP * 2);
        let code = code(&app, &seed, 0);
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let mut client = app.profiles();
            let request = VerifyPasswordRequest {
                user_name: "erin".to_owned(),
                password: GOOD.to_owned(),
                mfa_code: Some(code.clone()),
            };
            calls.spawn(async move {
                client
                    .verify_password(request)
                    .await
                    .unwrap()
                    .into_inner()
                    .result()
            });
        }
        let results = calls.join_all().await;
        let ok = results.iter().filter(|r| **r == VerifyResult::Ok).count();
        assert_eq!(ok, 1, "round {round}: {results:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_two_replicas_of_one_database_the_same_code_signs_in_once() {
    if !on_postgres() {
        return;
    }
    let db = Arc::new(TestDb::create());
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path().to_path_buf());
        with_keys(&mut config);
        replicas.push(start_on(config, dir, Some(db.clone())).await);
    }
    let (a, b) = (&replicas[0], &replicas[1]);
    let (_, seed) = enrolled(a, "frank").await;
    for round in 0..10 {
        a.clock.advance(STEP * 2);
        b.clock.advance(STEP * 2);
        let code = code(a, &seed, 0);
        let (on_a, on_b) = tokio::join!(
            verify_with(a, "frank", GOOD, Some(code.clone())),
            verify_with(b, "frank", GOOD, Some(code.clone())),
        );
        let ok = [on_a, on_b]
            .iter()
            .filter(|r| **r == VerifyResult::Ok)
            .count();
        assert_eq!(ok, 1, "round {round}: {on_a:?} {on_b:?}");
    }
}

#[tokio::test]
async fn wrong_codes_count_toward_lockout() {
    let app = spawn_app_with(|c| {
        with_keys(c);
        c.lockout = LockoutRule {
            threshold: 3,
            ..LockoutRule::default()
        };
    })
    .await;
    let (_, seed) = enrolled(&app, "gina").await;
    app.clock.advance(STEP * 2);
    let right = code(&app, &seed, 0);
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..3 {
        assert_eq!(
            verify_with(&app, "gina", GOOD, Some(wrong.to_owned())).await,
            VerifyResult::InvalidCredentials
        );
    }
    assert_eq!(
        verify_with(&app, "gina", GOOD, Some(right)).await,
        VerifyResult::Locked
    );
}

#[tokio::test]
async fn a_code_reveals_nothing_of_who_exists_or_has_a_device() {
    let app = mfa_app().await;
    user_with_profile(&app, "plain", GOOD).await;
    let (_, seed) = enrolled(&app, "guarded").await;
    let code = code(&app, &seed, 1);
    assert_eq!(
        verify_with(&app, "nobody", GOOD, Some(code.clone())).await,
        VerifyResult::InvalidCredentials
    );
    assert_eq!(
        verify_with(&app, "guarded", OTHER, Some(code.clone())).await,
        VerifyResult::InvalidCredentials,
        "a wrong password, whatever the code"
    );
    assert_eq!(
        verify_with(&app, "plain", GOOD, Some(code.clone())).await,
        VerifyResult::Ok,
        "a code for a user without a device is ignored"
    );
    assert_eq!(
        verify_with(&app, "guarded", GOOD, Some(code)).await,
        VerifyResult::Ok,
        "a wrong password consumed no code"
    );
    let err = app
        .profiles()
        .verify_password(VerifyPasswordRequest {
            user_name: "guarded".to_owned(),
            password: GOOD.to_owned(),
            mfa_code: Some("12345".to_owned()),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("'mfaCode'"), "{err:?}");
}

#[tokio::test]
async fn a_renamed_user_keeps_its_device() {
    let app = mfa_app().await;
    let (_, seed) = enrolled(&app, "hal").await;
    app.users()
        .update_user(UpdateUserRequest {
            user_name: "hal".to_owned(),
            new_user_name: Some("hal2".to_owned()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        verify_with(&app, "hal2", GOOD, None).await,
        VerifyResult::MfaRequired
    );
    app.clock.advance(STEP * 2);
    assert_eq!(
        verify_with(&app, "hal2", GOOD, Some(code(&app, &seed, 0))).await,
        VerifyResult::Ok
    );
}
