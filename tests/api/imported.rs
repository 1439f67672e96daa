//! ImportLoginProfile: hashes made by other systems (the examples in `password::FORMATS` were
//! made by passlib, bcrypt, argon2-cffi, Django and hashlib) sign in, upgrade to argon2id once
//! at the first sign-in, and stay upgraded across a restart; what cannot be verified safely is
//! refused and never echoed.

use loginprofiled::{
    access::Scope,
    grpc::proto::{
        GetLoginProfileRequest, ImportLoginProfileRequest, UpdateAccountPasswordPolicyRequest,
        VerifyResult,
    },
    password::{EXAMPLE_PASSWORD, FORMATS, Scheme},
    store::ProfileLookup,
};
use tonic::Code;

use crate::{
    helpers::{
        TEST_COST, TestApp, assert_error, reason, spawn_app, spawn_app_with, tokens_with, user,
    },
    login_profiles::verify,
    policy::set_policy,
};

fn import(name: &str, hash: &str) -> ImportLoginProfileRequest {
    ImportLoginProfileRequest {
        user_name: name.to_owned(),
        password_hash: hash.to_owned(),
        password_reset_required: false,
    }
}

/// The hash the store holds for `name`.
async fn stored_hash(app: &TestApp, name: &str) -> String {
    match app
        .service
        .store()
        .profile(&name.to_ascii_lowercase())
        .await
        .unwrap()
    {
        ProfileLookup::Found(_, profile) => profile.password_hash,
        _ => panic!("{name} has no login profile"),
    }
}

/// A policy the example password meets (IAM's default asks for three kinds of character).
async fn lenient_policy(app: &TestApp) {
    let request = UpdateAccountPasswordPolicyRequest {
        minimum_password_length: Some(8),
        ..Default::default()
    };
    set_policy(app, request).await;
}

#[tokio::test]
async fn every_format_signs_in_and_upgrades_to_argon2id_once_and_for_good() {
    let app = spawn_app().await;
    lenient_policy(&app).await;
    let names: Vec<String> = (0..FORMATS.len()).map(|i| format!("Imported{i}")).collect();
    for (name, format) in names.iter().zip(FORMATS) {
        user(&app, name).await;
        let profile = app
            .profiles()
            .import_login_profile(import(name, format.example))
            .await
            .unwrap()
            .into_inner()
            .login_profile
            .unwrap();
        assert_eq!(&profile.user_name, name);
        assert!(!profile.password_reset_required);
    }
    let before = app.service.survey_hashes().await.unwrap();
    for scheme in Scheme::ALL {
        let formats = FORMATS.iter().filter(|f| f.scheme == scheme).count() as u64;
        assert_eq!(before[scheme.name()], formats, "{scheme:?}");
    }

    let own_prefix = format!(
        "$argon2id$v=19$m={},t={},p={}$",
        TEST_COST.memory_kib, TEST_COST.iterations, TEST_COST.parallelism
    );
    for (name, format) in names.iter().zip(FORMATS) {
        let wrong = verify(&app, name, "correct horse battery stapler").await;
        assert_eq!(
            wrong,
            VerifyResult::InvalidCredentials,
            "{}",
            format.example
        );
        // A failed sign-in proves nothing: the imported hash stays.
        assert_eq!(stored_hash(&app, name).await, format.example);
        let right = verify(&app, name, EXAMPLE_PASSWORD).await;
        assert_eq!(right, VerifyResult::Ok, "{}", format.example);
        let upgraded = stored_hash(&app, name).await;
        assert!(
            upgraded.starts_with(&own_prefix),
            "{} -> {upgraded}",
            format.example
        );
        assert_eq!(verify(&app, name, EXAMPLE_PASSWORD).await, VerifyResult::Ok);
        // Upgraded once: a second sign-in leaves the new hash as it is.
        assert_eq!(stored_hash(&app, name).await, upgraded);
    }
    let after = app.service.survey_hashes().await.unwrap();
    assert_eq!(after["argon2id"], FORMATS.len() as u64);
    assert!(
        after
            .iter()
            .all(|(scheme, count)| *scheme == "argon2id" || *count == 0)
    );

    let app = app.restart().await;
    for name in &names {
        assert_eq!(verify(&app, name, EXAMPLE_PASSWORD).await, VerifyResult::Ok);
        assert_eq!(
            verify(&app, name, "Wrong-Passw0rd").await,
            VerifyResult::InvalidCredentials
        );
    }
}

#[tokio::test]
async fn change_password_proves_the_old_password_on_an_imported_hash_and_replaces_it() {
    let app = spawn_app().await;
    user(&app, "Changer").await;
    let scrypt = FORMATS.iter().find(|f| f.scheme == Scheme::Scrypt).unwrap();
    app.profiles()
        .import_login_profile(import("Changer", scrypt.example))
        .await
        .unwrap();
    let change = |old: &str| loginprofiled::grpc::proto::ChangePasswordRequest {
        user_name: "Changer".into(),
        old_password: old.into(),
        new_password: "N3w-Passw0rd!".into(),
    };
    let wrong = app
        .profiles()
        .change_password(change("not the old one"))
        .await
        .unwrap_err();
    assert_eq!(reason(&wrong), "InvalidCredentials", "{wrong:?}");
    assert_eq!(stored_hash(&app, "Changer").await, scrypt.example);
    app.profiles()
        .change_password(change(EXAMPLE_PASSWORD))
        .await
        .unwrap();
    assert!(stored_hash(&app, "Changer").await.starts_with("$argon2id$"));
    assert_eq!(
        verify(&app, "Changer", "N3w-Passw0rd!").await,
        VerifyResult::Ok
    );
    assert_eq!(
        verify(&app, "Changer", EXAMPLE_PASSWORD).await,
        VerifyResult::InvalidCredentials
    );
}

#[tokio::test]
async fn a_weak_imported_password_signs_in_once_and_is_marked_reset_required() {
    let app = spawn_app().await;
    user(&app, "Weak").await;
    // The example password has one kind of character: IAM's default policy asks for three.
    let bcrypt = FORMATS.iter().find(|f| f.scheme == Scheme::Bcrypt).unwrap();
    app.profiles()
        .import_login_profile(import("Weak", bcrypt.example))
        .await
        .unwrap();
    let signed_in = |app: &TestApp| {
        let mut profiles = app.profiles();
        async move {
            profiles
                .verify_password(loginprofiled::grpc::proto::VerifyPasswordRequest {
                    mfa_code: None,
                    user_name: "Weak".into(),
                    password: EXAMPLE_PASSWORD.into(),
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let first = signed_in(&app).await;
    assert_eq!(first.result(), VerifyResult::Ok);
    assert!(first.password_reset_required, "the answer says so");
    let profile = app
        .profiles()
        .get_login_profile(GetLoginProfileRequest {
            user_name: "Weak".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .login_profile
        .unwrap();
    assert!(profile.password_reset_required, "the profile is marked");
    let app = app.restart().await;
    assert!(signed_in(&app).await.password_reset_required);
}

#[tokio::test]
async fn unusable_hashes_are_refused_with_iam_errors_and_never_echoed() {
    let app = spawn_app().await;
    user(&app, "Ann").await;
    let unsupported = "Member must be a password hash in a supported format";
    let out_of_bounds = "Member must be a password hash whose cost is within the supported bounds";
    let cases = [
        (
            "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            out_of_bounds,
        ),
        (
            "$argon2id$v=19$m=19456,t=4294967295,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            out_of_bounds,
        ),
        (
            "$argon2id$v=19$m=1,t=0,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            out_of_bounds,
        ),
        (
            "$2b$15$9nj6uLlK/ZtrL1dkiDTpgehrki6FLPBXytmFLe2RuP2fWR3pA/uwK",
            out_of_bounds,
        ),
        (
            "pbkdf2_sha256$20000000$c2FsdA$A7V6eog2+70y5bslUKpn3dH38NnvjzFvGzosydTltow=",
            out_of_bounds,
        ),
        (
            "$scrypt$ln=20,r=8,p=1$BuB8jxHCOCckBKA0ZmxNyQ$AwD52NF36fMi59BunipJ8nfznCA+9JIsNpToIvSZr3o",
            out_of_bounds,
        ),
        (
            "$6$rounds=999999999$BSI.MFiAuDUFAv9P$WPpYG7HGS6HSvYE1gsqLd8KqDlOhwkkwKn5cRoWX9fGB698.Xw3MEiBrp38FHvw1whcW./gcs/LzawTR9TX0s0",
            out_of_bounds,
        ),
        ("Secret-Plain-Password-1", unsupported),
        ("$argon2id$c2VjcmV0LWxvb2tpbmc", unsupported),
        ("{SSHA}c2VjcmV0LWxvb2tpbmc=", unsupported),
    ];
    for (hash, constraint) in cases {
        let status = app
            .profiles()
            .import_login_profile(import("Ann", hash))
            .await
            .unwrap_err();
        let message = format!(
            "1 validation error detected: Value at 'passwordHash' failed to satisfy constraint: {constraint}"
        );
        assert_error(&status, Code::InvalidArgument, "ValidationError", &message);
        assert!(!format!("{status:?}").contains(hash), "{status:?}");
    }
    let missing = app
        .profiles()
        .get_login_profile(GetLoginProfileRequest {
            user_name: "Ann".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "nothing was created");

    let good = FORMATS[0].example;
    let status = app
        .profiles()
        .import_login_profile(import("Nobody", good))
        .await
        .unwrap_err();
    assert_error(
        &status,
        Code::NotFound,
        "NoSuchEntity",
        "The user with name Nobody cannot be found.",
    );
    app.profiles()
        .import_login_profile(import("Ann", good))
        .await
        .unwrap();
    let status = app
        .profiles()
        .import_login_profile(import("Ann", good))
        .await
        .unwrap_err();
    assert_error(
        &status,
        Code::AlreadyExists,
        "EntityAlreadyExists",
        "Login Profile for user Ann already exists.",
    );
}

#[tokio::test]
async fn only_the_admin_scope_may_import() {
    let (tokens, secrets) =
        tokens_with(&[("ops", &[Scope::Admin]), ("frontend", &[Scope::Signin])]);
    let app = spawn_app_with(|c| c.tokens = Some(tokens)).await;
    let app = app.with_token(Some(secrets[0].clone()));
    user(&app, "Ann").await;
    let app = app.with_token(Some(secrets[1].clone()));
    let status = app
        .profiles()
        .import_login_profile(import("Ann", FORMATS[0].example))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
}
