//! Virtual MFA devices over gRPC: their life, the errors IAM gives, and sign-in with a code
//! (window, replay, lockout, resync), on the manual clock, with codes made by totp-rs from the
//! seed the server showed (the client tests make them with pyotp and oathtool).

mod devices;
mod keys;
mod sign_in;

use std::{sync::Arc, time::Duration};

use loginprofiled::{
    config::ServeConfig,
    domain::Clock as _,
    grpc::proto::{
        CreateVirtualMfaDeviceRequest, EnableMfaDeviceRequest, VerifyPasswordRequest, VerifyResult,
        VirtualMfaDevice,
    },
    mfa::Keyring,
};

use crate::{
    helpers::{TestApp, spawn_app_with, user_with_profile},
    login_profiles::GOOD,
};

const STEP: Duration = Duration::from_secs(30);

/// A key for tests (one key file in all of them, unless a test is about keys).
fn keys(byte: u8) -> Arc<Keyring> {
    Arc::new(Keyring::from_keys(vec![[byte; 32]]))
}

fn with_keys(config: &mut ServeConfig) {
    config.mfa_keys = Some(keys(7));
}

async fn mfa_app() -> TestApp {
    spawn_app_with(with_keys).await
}

/// The code an authenticator app shows for `seed` (base32) at `unix_secs`.
fn code_at(seed: &str, unix_secs: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(seed).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(unix_secs)
        .to_string()
}

/// The server's time in seconds, shifted by `steps` steps.
fn now_secs(app: &TestApp, steps: i64) -> u64 {
    let now = app.clock.now_ms() / 1000;
    u64::try_from(now + steps * 30).unwrap()
}

/// The code of the server's current step shifted by `steps`.
fn code(app: &TestApp, seed: &str, steps: i64) -> String {
    code_at(seed, now_secs(app, steps))
}

/// Creates a device and returns it as Create shows it (seed and QR code included).
async fn create_device(app: &TestApp, name: &str) -> VirtualMfaDevice {
    app.devices()
        .create_virtual_mfa_device(CreateVirtualMfaDeviceRequest {
            virtual_mfa_device_name: name.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .virtual_mfa_device
        .unwrap()
}

fn seed_of(device: &VirtualMfaDevice) -> String {
    String::from_utf8(device.base32_string_seed.clone()).unwrap()
}

fn enable_request(
    user: &str,
    serial: &str,
    first: String,
    second: String,
) -> EnableMfaDeviceRequest {
    EnableMfaDeviceRequest {
        user_name: user.to_owned(),
        serial_number: serial.to_owned(),
        authentication_code_1: first,
        authentication_code_2: second,
    }
}

/// A user with a login profile and an enabled device; returns the device's serial and seed.
/// The codes used to enable it are those of the previous and the current step.
async fn enrolled(app: &TestApp, name: &str) -> (String, String) {
    user_with_profile(app, name, GOOD).await;
    let device = create_device(app, &format!("{name}-phone")).await;
    let seed = seed_of(&device);
    app.devices()
        .enable_mfa_device(enable_request(
            name,
            &device.serial_number,
            code(app, &seed, -1),
            code(app, &seed, 0),
        ))
        .await
        .unwrap();
    (device.serial_number, seed)
}

async fn verify_with(
    app: &TestApp,
    name: &str,
    password: &str,
    code: Option<String>,
) -> VerifyResult {
    app.profiles()
        .verify_password(VerifyPasswordRequest {
            user_name: name.to_owned(),
            password: password.to_owned(),
            mfa_code: code,
        })
        .await
        .unwrap()
        .into_inner()
        .result()
}
