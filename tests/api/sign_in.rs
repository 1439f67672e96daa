//! VerifyPassword and ChangePassword: expiry, re-hashing, lockout and reuse prevention.

use std::{sync::atomic::Ordering, time::Duration};

use loginprofiled::{
    domain::LockoutRule,
    grpc::proto::{
        ChangePasswordRequest, GetUserRequest, UpdateAccountPasswordPolicyRequest,
        UpdateLoginProfileRequest, VerifyPasswordRequest, VerifyPasswordResponse, VerifyResult,
    },
    store::ProfileLookup,
};
use tonic::Code;

use crate::{
    helpers::{TestApp, assert_error, spawn_app, spawn_app_with, start, test_config},
    login_profiles::{GOOD, OTHER, create, get, user, verify},
    policy::set_policy,
};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

async fn verify_full(app: &TestApp, name: &str, password: &str) -> VerifyPasswordResponse {
    let request = VerifyPasswordRequest {
        user_name: name.to_owned(),
        password: password.to_owned(),
    };
    app.profiles()
        .verify_password(request)
        .await
        .unwrap()
        .into_inner()
}

fn change(name: &str, old: &str, new: &str) -> ChangePasswordRequest {
    ChangePasswordRequest {
        user_name: name.into(),
        old_password: old.into(),
        new_password: new.into(),
    }
}

async fn with_profile(app: &TestApp, name: &str, password: &str, reset: bool) {
    user(app, name).await;
    app.profiles()
        .create_login_profile(create(name, password, reset))
        .await
        .unwrap();
}

fn verifications(app: &TestApp) -> u64 {
    app.service
        .hasher()
        .stats()
        .verifications
        .load(Ordering::SeqCst)
}

#[tokio::test]
async fn wrong_password_unknown_user_and_missing_profile_look_the_same() {
    let app = spawn_app().await;
    with_profile(&app, "alice", GOOD, false).await;
    user(&app, "noprofile").await;
    for (name, password) in [
        ("alice", "Wr0ng!Password"),
        ("ghost", GOOD),
        ("noprofile", GOOD),
    ] {
        let reply = verify_full(&app, name, password).await;
        assert_eq!(
            reply,
            VerifyPasswordResponse {
                result: VerifyResult::InvalidCredentials.into(),
                ..Default::default()
            }
        );
    }
    let err = app
        .profiles()
        .verify_password(VerifyPasswordRequest {
            user_name: "bad name".into(),
            password: GOOD.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn the_unknown_user_path_does_the_same_hashing_work_as_a_wrong_password() {
    let app = spawn_app().await;
    with_profile(&app, "alice", GOOD, false).await;
    user(&app, "noprofile").await;
    for (name, password) in [
        ("alice", "Wr0ng!Password"),
        ("ghost", GOOD),
        ("noprofile", GOOD),
        ("alice", GOOD),
    ] {
        let before = verifications(&app);
        verify(&app, name, password).await;
        assert_eq!(
            verifications(&app) - before,
            1,
            "one argon2 verification for {name}"
        );
    }
}

#[tokio::test]
async fn success_reports_the_flags_and_records_the_last_use() {
    let app = spawn_app().await;
    with_profile(&app, "alice", GOOD, true).await;
    let get_user = || GetUserRequest {
        user_name: "alice".into(),
    };
    let before = app
        .users()
        .get_user(get_user())
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(before.password_last_used.is_none());

    let reply = verify_full(&app, "alice", GOOD).await;
    assert_eq!(reply.result(), VerifyResult::Ok);
    assert!(reply.password_reset_required && !reply.password_expired);
    assert!(
        reply.password_expires_at.is_none(),
        "no max_password_age, no expiry"
    );
    let after = app
        .users()
        .get_user(get_user())
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(after.password_last_used.is_some());
}

#[tokio::test]
async fn passwords_expire_after_max_password_age_but_still_verify() {
    let app = spawn_app().await;
    with_profile(&app, "alice", GOOD, false).await;
    set_policy(
        &app,
        UpdateAccountPasswordPolicyRequest {
            max_password_age: Some(30),
            ..Default::default()
        },
    )
    .await;
    let fresh = verify_full(&app, "alice", GOOD).await;
    assert!(!fresh.password_expired);
    let expires_at = fresh.password_expires_at.unwrap();
    let created = app
        .profiles()
        .get_login_profile(get("alice"))
        .await
        .unwrap()
        .into_inner();
    let created = created.login_profile.unwrap().create_date.unwrap();
    assert_eq!(expires_at.seconds - created.seconds, 30 * 86_400);

    app.clock.advance(DAY * 31);
    let stale = verify_full(&app, "alice", GOOD).await;
    assert_eq!(stale.result(), VerifyResult::Ok);
    assert!(stale.password_expired);
}

#[tokio::test]
async fn a_hash_with_old_parameters_is_replaced_on_the_next_success() {
    let mut app = spawn_app().await;
    with_profile(&app, "alice", GOOD, false).await;
    app.stop().await.unwrap();
    let crate::helpers::TestApp {
        data_dir, service, ..
    } = app;
    drop(service);
    let mut config = test_config(data_dir.path().to_path_buf());
    config.hash_cost.memory_kib = 512;
    let app = start(config, data_dir).await;

    let stored = |app: &TestApp| {
        let service = app.service.clone();
        async move {
            match service.store().profile("alice").await.unwrap() {
                ProfileLookup::Found(_, profile) => profile.password_hash,
                other => panic!("{other:?}"),
            }
        }
    };
    assert!(stored(&app).await.contains("m=256,"));
    assert_eq!(verify(&app, "alice", GOOD).await, VerifyResult::Ok);
    assert!(stored(&app).await.contains("m=512,"));
    assert_eq!(verify(&app, "alice", GOOD).await, VerifyResult::Ok);
}

fn lockout(threshold: u32) -> LockoutRule {
    LockoutRule {
        threshold,
        base: Duration::from_secs(60),
        max: Duration::from_secs(600),
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_guesses_cannot_get_past_the_threshold() {
    let app = spawn_app_with(|c| c.lockout = lockout(5)).await;
    with_profile(&app, "alice", GOOD, false).await;
    let before = verifications(&app);
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let mut client = app.profiles();
            tokio::spawn(async move {
                let request = VerifyPasswordRequest {
                    user_name: "alice".into(),
                    password: format!("Guess!{i:04}x"),
                };
                client
                    .verify_password(request)
                    .await
                    .unwrap()
                    .into_inner()
                    .result()
            })
        })
        .collect();
    let mut locked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            VerifyResult::Locked => locked += 1,
            VerifyResult::InvalidCredentials => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(locked, 35);
    assert_eq!(
        verifications(&app) - before,
        5,
        "only the admitted guesses were hashed"
    );
}

#[tokio::test]
async fn locks_survive_a_restart_and_lockout_can_be_turned_off() {
    let app = spawn_app_with(|c| c.lockout = lockout(2)).await;
    with_profile(&app, "alice", GOOD, false).await;
    for _ in 0..2 {
        verify(&app, "alice", "Wr0ng!Password").await;
    }
    let mut app = app;
    app.stop().await.unwrap();
    let crate::helpers::TestApp {
        data_dir, service, ..
    } = app;
    drop(service);
    let mut config = test_config(data_dir.path().to_path_buf());
    config.lockout = lockout(2);
    let app = start(config, data_dir).await;
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
async fn change_password_checks_in_the_designed_order() {
    let app = spawn_app_with(|c| c.lockout = lockout(2)).await;
    let err = app
        .profiles()
        .change_password(change("ghost", GOOD, OTHER))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::NotFound,
        "NoSuchEntity",
        "The user with name ghost cannot be found.",
    );
    user(&app, "noprofile").await;
    let err = app
        .profiles()
        .change_password(change("noprofile", GOOD, OTHER))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::NotFound,
        "NoSuchEntity",
        "Login Profile for User noprofile cannot be found.",
    );

    with_profile(&app, "alice", GOOD, true).await;
    let err = app
        .profiles()
        .change_password(change("alice", "Wr0ng!Password", "x"))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::PermissionDenied,
        "InvalidCredentials",
        "The old password is incorrect.",
    );
    let err = app
        .profiles()
        .change_password(change("alice", GOOD, "weak"))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "PasswordPolicyViolation",
        "Password should have a minimum length of 8",
    );
    let err = app
        .profiles()
        .change_password(change("alice", GOOD, GOOD))
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::InvalidArgument,
        "PasswordPolicyViolation",
        "Password should not be the same as the current password",
    );

    app.profiles()
        .change_password(change("alice", GOOD, OTHER))
        .await
        .unwrap();
    let profile = app
        .profiles()
        .get_login_profile(get("alice"))
        .await
        .unwrap()
        .into_inner();
    assert!(
        !profile.login_profile.unwrap().password_reset_required,
        "a change clears the reset flag"
    );
    assert_eq!(verify(&app, "alice", OTHER).await, VerifyResult::Ok);
    assert_eq!(
        verify(&app, "alice", GOOD).await,
        VerifyResult::InvalidCredentials
    );
}

#[tokio::test]
async fn a_wrong_old_password_counts_toward_the_lockout() {
    let app = spawn_app_with(|c| c.lockout = lockout(2)).await;
    with_profile(&app, "alice", GOOD, false).await;
    for _ in 0..2 {
        let err = app
            .profiles()
            .change_password(change("alice", "Wr0ng!Password", OTHER))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    assert_eq!(verify(&app, "alice", GOOD).await, VerifyResult::Locked);
    let err = app
        .profiles()
        .change_password(change("alice", GOOD, OTHER))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), crate::helpers::reason(&err).as_str()),
        (Code::PermissionDenied, "AccessDenied")
    );
}

#[tokio::test]
async fn reuse_prevention_refuses_the_last_n_passwords_including_admin_resets() {
    let app = spawn_app().await;
    set_policy(
        &app,
        UpdateAccountPasswordPolicyRequest {
            password_reuse_prevention: Some(3),
            ..Default::default()
        },
    )
    .await;
    let [a, b, c, d] = [
        "Passw0rd!Aaaa",
        "Passw0rd!Bbbb",
        "Passw0rd!Cccc",
        "Passw0rd!Dddd",
    ];
    with_profile(&app, "alice", a, false).await;
    let reset = UpdateLoginProfileRequest {
        user_name: "alice".into(),
        password: Some(b.into()),
        password_reset_required: None,
    };
    app.profiles().update_login_profile(reset).await.unwrap();
    app.profiles()
        .change_password(change("alice", b, c))
        .await
        .unwrap();

    for reused in [a, b] {
        let err = app
            .profiles()
            .change_password(change("alice", c, reused))
            .await
            .unwrap_err();
        assert_error(
            &err,
            Code::InvalidArgument,
            "PasswordPolicyViolation",
            "Password should not be one of your last 3 passwords",
        );
    }
    app.profiles()
        .change_password(change("alice", c, d))
        .await
        .unwrap();
    // Now the last three are d, c, b: a is free again.
    app.profiles()
        .change_password(change("alice", d, a))
        .await
        .unwrap();
}

#[tokio::test]
async fn hard_expiry_refuses_a_self_service_change_of_an_expired_password() {
    let app = spawn_app().await;
    with_profile(&app, "alice", GOOD, false).await;
    with_profile(&app, "bob", GOOD, false).await;
    let policy = |hard| UpdateAccountPasswordPolicyRequest {
        max_password_age: Some(1),
        hard_expiry: Some(hard),
        ..Default::default()
    };
    set_policy(&app, policy(true)).await;
    app.clock.advance(DAY * 2);
    let err = app
        .profiles()
        .change_password(change("alice", GOOD, OTHER))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), crate::helpers::reason(&err).as_str()),
        (Code::PermissionDenied, "AccessDenied")
    );

    set_policy(&app, policy(false)).await;
    app.profiles()
        .change_password(change("bob", GOOD, OTHER))
        .await
        .unwrap();
    let reply = verify_full(&app, "bob", OTHER).await;
    assert!(
        !reply.password_expired,
        "a changed password starts a new age"
    );
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
