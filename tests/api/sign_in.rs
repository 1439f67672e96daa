//! VerifyPassword and ChangePassword: expiry, re-hashing, lockout and reuse prevention.

mod change_password;
mod lockout;
mod verify;

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
    helpers::{TestApp, assert_error, assert_policy_violation, spawn_app, spawn_app_with, user},
    login_profiles::{GOOD, OTHER, create, get, verify},
    policy::set_policy,
};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

async fn verify_full(app: &TestApp, name: &str, password: &str) -> VerifyPasswordResponse {
    let request = VerifyPasswordRequest {
        mfa_code: None,
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

/// The refusal of a ChangePassword that must fail.
async fn change_refused(app: &TestApp, name: &str, old: &str, new: &str) -> tonic::Status {
    app.profiles()
        .change_password(change(name, old, new))
        .await
        .expect_err("the change should be refused")
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

fn lockout(threshold: u32) -> LockoutRule {
    LockoutRule {
        threshold,
        base: Duration::from_secs(60),
        max: Duration::from_secs(600),
    }
}
