//! At sign-in: a right password now on a list is answered OK with password_reset_required, and
//! the profile is marked durably, once, with an audit event; an imported hash's password is
//! screened at its upgrade.

use loginprofiled::{
    grpc::proto::{ImportLoginProfileRequest, VerifyPasswordRequest, VerifyResult},
    screening::Screening,
};
use sha2::Sha256;

use super::STRONG;
use crate::{
    helpers::{TestApp, spawn_app, spawn_app_with, user, user_with_profile},
    login_profiles::login_profile,
};

/// VerifyPassword's result and password_reset_required.
async fn sign_in(app: &TestApp, name: &str, password: &str) -> (VerifyResult, bool) {
    let request = VerifyPasswordRequest {
        mfa_code: None,
        user_name: name.to_owned(),
        password: password.to_owned(),
    };
    let reply = app
        .profiles()
        .verify_password(request)
        .await
        .unwrap()
        .into_inner();
    (reply.result(), reply.password_reset_required)
}

#[tokio::test]
async fn a_password_listed_since_it_was_set_is_marked_at_sign_in_once_and_durably() {
    let app = spawn_app().await;
    user_with_profile(&app, "Ann", STRONG).await;
    assert_eq!(
        sign_in(&app, "Ann", STRONG).await,
        (VerifyResult::Ok, false)
    );

    let list = app.data_dir.path().join("breached.txt");
    std::fs::write(&list, format!("{STRONG}\n")).unwrap();
    let audit = app.data_dir.path().join("audit.jsonl");
    let configure = |c: &mut loginprofiled::config::ServeConfig| {
        c.screening = Screening::load(std::slice::from_ref(&list)).unwrap();
        c.audit_log = Some(audit.clone());
    };
    let app = app.restart_with(configure).await;
    assert_eq!(sign_in(&app, "Ann", STRONG).await, (VerifyResult::Ok, true));
    assert!(login_profile(&app, "Ann").await.password_reset_required);
    assert_eq!(sign_in(&app, "Ann", STRONG).await, (VerifyResult::Ok, true));
    let app = app.restart_with(configure).await;
    assert!(
        login_profile(&app, "Ann").await.password_reset_required,
        "kept across a restart"
    );
    let trail = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(
        trail.matches("\"password_compromised\"").count(),
        1,
        "{trail}"
    );
    assert!(!trail.contains(STRONG));
}

#[tokio::test]
async fn with_screening_off_a_common_password_signs_in_unmarked() {
    let app = spawn_app_with(|c| c.screening = Screening::off()).await;
    user_with_profile(&app, "Ann", "Password1").await;
    assert_eq!(
        sign_in(&app, "Ann", "Password1").await,
        (VerifyResult::Ok, false)
    );
    let app = app.restart().await;
    // Screening on again (the default): the next sign-in marks it.
    assert_eq!(
        sign_in(&app, "Ann", "Password1").await,
        (VerifyResult::Ok, true)
    );
}

/// A Django PBKDF2-SHA256 hash of `password`, as another system would have stored it.
fn django_hash(password: &str) -> String {
    use base64::Engine as _;
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), b"saltsalt", 1000, &mut out);
    let hash = base64::engine::general_purpose::STANDARD.encode(out);
    format!("pbkdf2_sha256$1000$saltsalt${hash}")
}

#[tokio::test]
async fn an_imported_password_based_on_the_user_name_is_marked_at_its_upgrade() {
    let app = spawn_app().await;
    for (name, password) in [("Weak", "Weak-2024!"), ("Fine", STRONG)] {
        user(&app, name).await;
        let request = ImportLoginProfileRequest {
            user_name: name.to_owned(),
            password_hash: django_hash(password),
            password_reset_required: false,
        };
        app.profiles().import_login_profile(request).await.unwrap();
    }
    assert_eq!(
        sign_in(&app, "Weak", "Weak-2024!").await,
        (VerifyResult::Ok, true)
    );
    assert!(login_profile(&app, "Weak").await.password_reset_required);
    assert_eq!(
        sign_in(&app, "Fine", STRONG).await,
        (VerifyResult::Ok, false)
    );
}
