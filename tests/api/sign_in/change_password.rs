//! ChangePassword: order of checks, lockout, reuse prevention and hard expiry.

use super::*;

#[tokio::test]
async fn change_password_checks_in_the_designed_order() {
    let app = spawn_app_with(|c| c.lockout = lockout(10)).await;
    let err = change_refused(&app, "bad name", GOOD, "").await;
    assert_eq!(
        (err.code(), crate::helpers::reason(&err).as_str()),
        (Code::InvalidArgument, "ValidationError"),
        "input shape comes first: {err:?}"
    );
    user(&app, "noprofile").await;
    for name in ["ghost", "noprofile"] {
        let err = change_refused(&app, name, GOOD, OTHER).await;
        assert_error(
            &err,
            Code::PermissionDenied,
            "InvalidCredentials",
            "The old password is incorrect.",
        );
    }

    with_profile(&app, "alice", GOOD, true).await;
    let err = change_refused(&app, "alice", "Wr0ng!Password", "x").await;
    assert_error(
        &err,
        Code::PermissionDenied,
        "InvalidCredentials",
        "The old password is incorrect.",
    );
    let err = change_refused(&app, "alice", GOOD, "weak").await;
    assert_policy_violation(&err, "Password should have a minimum length of 8");
    let err = change_refused(&app, "alice", GOOD, GOOD).await;
    assert_policy_violation(
        &err,
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

/// Alice with a profile, a user without one, and the ChangePassword failure each stands for:
/// a wrong old password, an unknown user, no profile.
async fn three_failures(app: &TestApp) -> [(&'static str, &'static str); 3] {
    with_profile(app, "alice", GOOD, false).await;
    user(app, "noprofile").await;
    [
        ("alice", "Wr0ng!Password"),
        ("ghost", GOOD),
        ("noprofile", GOOD),
    ]
}

#[tokio::test]
async fn an_unknown_user_a_missing_profile_and_a_wrong_old_password_get_one_answer() {
    let app = spawn_app().await;
    let failures = three_failures(&app).await;
    let mut answers = Vec::new();
    for (name, old) in failures {
        let err = change_refused(&app, name, old, OTHER).await;
        answers.push((err.code(), err.message().to_owned(), err.details().to_vec()));
    }
    assert_eq!(answers[0], answers[1], "wrong old password vs unknown user");
    assert_eq!(answers[0], answers[2], "wrong old password vs no profile");
    assert_eq!(answers[0].1, "The old password is incorrect.");
}

#[tokio::test]
async fn each_of_the_three_failures_costs_one_real_argon2_verification() {
    let app = spawn_app().await;
    let failures = three_failures(&app).await;
    for (name, old) in failures {
        let before = verifications(&app);
        let err = change_refused(&app, name, old, OTHER).await;
        assert_eq!(err.code(), Code::PermissionDenied);
        assert_eq!(
            verifications(&app) - before,
            1,
            "one argon2 verification for {name}"
        );
    }
}

#[tokio::test]
async fn every_failed_change_counts_toward_the_lockout_unknown_names_too() {
    let app = spawn_app_with(|c| c.lockout = lockout(2)).await;
    let failures = three_failures(&app).await;
    for (name, old) in failures {
        for _ in 0..2 {
            let err = change_refused(&app, name, old, OTHER).await;
            assert_eq!(crate::helpers::reason(&err), "InvalidCredentials", "{name}");
        }
        assert_eq!(
            verify(&app, name, GOOD).await,
            VerifyResult::Locked,
            "{name}"
        );
        let before = verifications(&app);
        let err = change_refused(&app, name, GOOD, OTHER).await;
        assert_error(
            &err,
            Code::PermissionDenied,
            "AccessDenied",
            &format!("Too many failed password attempts for user {name}; try again in 60 seconds."),
        );
        assert_eq!(verifications(&app), before, "a locked name costs no hash");
    }
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
        let err = change_refused(&app, "alice", c, reused).await;
        assert_policy_violation(&err, "Password should not be one of your last 3 passwords");
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
    let err = change_refused(&app, "alice", GOOD, OTHER).await;
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
