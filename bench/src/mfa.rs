//! Sign-in with a second factor (virtual MFA devices):
//!
//! - VerifyPassword with the right password and a fresh code, each user signing in once, against
//!   the same sign-ins of users without a device, in the same run and at the same concurrency:
//!   what a code adds (the device read, opening the sealed seed, the codes of the window, and
//!   the durable write of the step it was used for).
//! - The median time of one VerifyPassword carrying a code for an unknown user, a user without a
//!   device and a user with one (wrong password each, one caller, taken in rounds): what a
//!   caller timing sign-ins can tell apart.

use std::{
    sync::Arc,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use loginprofiled::{
    grpc::proto::{self, VerifyResult},
    mfa::Keyring,
};
use serde::Serialize;

use crate::{
    Setup,
    imported::{Timing, lockout_off},
    load::{self, Client, PASSWORD, WRONG_PASSWORD},
    service,
};

/// Everything this part of the bench measured.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Figures {
    /// Sign-ins of users without a device, per second.
    pub(crate) without_code_per_s: f64,
    /// Sign-ins with a fresh code of users with a device, per second.
    pub(crate) with_code_per_s: f64,
    /// `with_code_per_s / without_code_per_s`.
    pub(crate) ratio: f64,
    pub(crate) medians: Vec<Timing>,
}

pub(crate) async fn run(
    dir: &std::path::Path,
    setup: &Setup,
    users: usize,
) -> anyhow::Result<Figures> {
    let mut config = lockout_off(dir, setup);
    config.mfa_keys = Some(Arc::new(Keyring::from_keys(vec![rand::random()])));
    let server = service::Running::start(config).await?;
    let callers = setup.shape.concurrency;
    let mut clients =
        load::connect(server.addr, Some(&setup.token), setup.shape.connections).await?;
    eprintln!("mfa: {users} users with a device and {users} without");
    let mut enrolled = Vec::with_capacity(users);
    let mut plain = Vec::with_capacity(users);
    for i in 0..users {
        let client = &mut clients[i % setup.shape.connections.max(1)];
        plain.push(user(client, &format!("plain{i}")).await?);
        let name = user(client, &format!("mfa{i}")).await?;
        let seed = enroll(client, &name).await?;
        enrolled.push((name, Some(seed)));
    }
    let plain: Vec<_> = plain.into_iter().map(|name| (name, None)).collect();
    eprintln!("mfa: sign-ins without a code, then with one");
    let without = sign_in_all(&clients, plain, callers).await?;
    let with = sign_in_all(&clients, enrolled, callers).await?;
    let medians = medians(&mut clients[0]).await?;
    server.stop().await?;
    Ok(Figures {
        without_code_per_s: without,
        with_code_per_s: with,
        ratio: with / without,
        medians,
    })
}

/// Signs every user in once (right password, a fresh code when it has a device) with
/// `callers` callers; returns sign-ins per second.
async fn sign_in_all(
    clients: &[Client],
    users: Vec<(String, Option<String>)>,
    callers: usize,
) -> anyhow::Result<f64> {
    let count = users.len();
    let queue = Arc::new(std::sync::Mutex::new(users));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..callers.max(1) {
        let mut client = clients[i % clients.len()].clone();
        let queue = queue.clone();
        tasks.spawn(async move {
            loop {
                let Some((name, seed)) = queue.lock().expect("not poisoned").pop() else {
                    return anyhow::Ok(());
                };
                // Enable used the codes of the step before and of the step it ran in: the
                // next step's code is fresh and within the window.
                let mfa_code = seed.map(|seed| code_at(&seed, now_secs() + 30));
                let result = verify(&mut client, &name, PASSWORD, mfa_code).await?;
                anyhow::ensure!(result == VerifyResult::Ok, "{name}: {result:?}");
            }
        });
    }
    for task in tasks.join_all().await {
        task?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// The median of 15 VerifyPassword calls with a code and a wrong password for each kind of
/// user, taken in rounds.
async fn medians(client: &mut Client) -> anyhow::Result<Vec<Timing>> {
    let with_device = user(client, "median-mfa").await?;
    let seed = enroll(client, &with_device).await?;
    let kinds = [
        ("unknown user, with a code", "median-nobody".to_owned()),
        (
            "user without a device, with a code",
            user(client, "median-plain").await?,
        ),
        ("user with a device, with a code", with_device),
    ];
    let mut times = vec![Vec::new(); kinds.len()];
    for _ in 0..15 {
        for ((_, name), times) in kinds.iter().zip(&mut times) {
            let code = code_at(&seed, now_secs() + 30);
            let started = Instant::now();
            let result = verify(client, name, WRONG_PASSWORD, Some(code)).await?;
            anyhow::ensure!(
                result == VerifyResult::InvalidCredentials,
                "{name}: {result:?}"
            );
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(kinds
        .into_iter()
        .zip(times)
        .map(|((label, _), mut times)| {
            times.sort_by(f64::total_cmp);
            Timing {
                hash: label.to_owned(),
                ms: times[times.len() / 2],
            }
        })
        .collect())
}

/// Creates the user `name` with the bench's password; returns the name.
async fn user(client: &mut Client, name: &str) -> anyhow::Result<String> {
    client
        .users
        .create_user(proto::CreateUserRequest {
            user_name: name.to_owned(),
            ..Default::default()
        })
        .await?;
    client
        .profiles
        .create_login_profile(proto::CreateLoginProfileRequest {
            user_name: name.to_owned(),
            password: PASSWORD.to_owned(),
            password_reset_required: false,
        })
        .await?;
    Ok(name.to_owned())
}

/// Creates a device for `name` and enables it; returns its seed (base32).
async fn enroll(client: &mut Client, name: &str) -> anyhow::Result<String> {
    let device = client
        .devices
        .create_virtual_mfa_device(proto::CreateVirtualMfaDeviceRequest {
            virtual_mfa_device_name: format!("{name}-phone"),
            ..Default::default()
        })
        .await?
        .into_inner()
        .virtual_mfa_device
        .ok_or_else(|| anyhow::anyhow!("Create returned no device"))?;
    let seed = String::from_utf8(device.base32_string_seed)?;
    let now = now_secs();
    client
        .devices
        .enable_mfa_device(proto::EnableMfaDeviceRequest {
            user_name: name.to_owned(),
            serial_number: device.serial_number,
            authentication_code_1: code_at(&seed, now - 30),
            authentication_code_2: code_at(&seed, now),
        })
        .await?;
    Ok(seed)
}

async fn verify(
    client: &mut Client,
    name: &str,
    password: &str,
    mfa_code: Option<String>,
) -> anyhow::Result<VerifyResult> {
    Ok(client
        .profiles
        .verify_password(proto::VerifyPasswordRequest {
            user_name: name.to_owned(),
            password: password.to_owned(),
            mfa_code,
        })
        .await?
        .into_inner()
        .result())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The code an authenticator app shows for `seed` at `unix_secs` (totp-rs, as the service).
fn code_at(seed: &str, unix_secs: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(seed).expect("the server's seed is base32");
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .expect("a 20-byte seed makes a valid TOTP")
        .generate(unix_secs)
        .to_string()
}

/// The figures as lines of the bench's table.
pub(crate) fn print(figures: &Figures) {
    println!(
        "\nmfa VerifyPassword with a code {:>7.1}/s, without {:>7.1}/s: {:.3}",
        figures.with_code_per_s, figures.without_code_per_s, figures.ratio
    );
    println!("median VerifyPassword with a code (wrong password, one caller):");
    for timing in &figures.medians {
        println!("  {:>9.1} ms  {}", timing.ms, timing.hash);
    }
}
