//! ChangePassword: order of checks, lockout, reuse prevention and hard expiry.

use super::*;

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
