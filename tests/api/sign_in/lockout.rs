//! Brute-force lockout of VerifyPassword.

use super::*;

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
