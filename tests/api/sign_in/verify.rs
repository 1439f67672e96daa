//! VerifyPassword: indistinguishable failures, flags, expiry and re-hashing.

use super::*;

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
            mfa_code: None,
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
    let app = spawn_app().await;
    with_profile(&app, "alice", GOOD, false).await;
    let app = app.restart_with(|c| c.hash_cost.memory_kib = 512).await;

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
