//! Imported hashes (ImportLoginProfile, or `import`'s profile lines):
//!
//! - VerifyPassword on users whose hashes came from bcrypt (cost 10) and PBKDF2-SHA256 (600,000
//!   iterations, OWASP's figure) against the same scheme's raw verify rate on as many threads, in
//!   the same run. The calls carry a wrong password, so the hash stays imported: a right one
//!   upgrades it to argon2id at once, after which it is argon2id that is measured.
//! - The median time of one VerifyPassword (wrong password, one caller) per scheme at the costs
//!   the systems that make them use, beside an unknown user's: what a caller timing sign-ins
//!   can tell apart until each imported user has signed in once.
//! - One verification at each scheme's cost bound: the longest a hostile hash can hold a
//!   hashing thread.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD as B64};
use loginprofiled::{
    domain::LockoutRule,
    grpc::proto::{self, VerifyResult},
    password::{DirectHasher, HashCost},
};
use serde::Serialize;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::{
    Setup, dataset,
    load::{self, Measured, Op, PASSWORD, Users, WRONG_PASSWORD},
    raw, service,
};

const SALT: &[u8] = b"sixteen byte slt";

/// One scheme's service rate against its raw rate.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Throughput {
    pub(crate) scheme: String,
    pub(crate) raw_verify_per_s: f64,
    pub(crate) service: Measured,
    pub(crate) ratio: f64,
}

/// The time one verification of a kind of hash takes.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Timing {
    pub(crate) hash: String,
    pub(crate) ms: f64,
}

/// Everything this part of the bench measured.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Figures {
    pub(crate) throughput: Vec<Throughput>,
    /// Median of one VerifyPassword, by the kind of hash the user has.
    pub(crate) medians: Vec<Timing>,
    /// One verification at each scheme's bound, on one thread outside the service.
    pub(crate) at_bound: Vec<Timing>,
}

fn pbkdf2_sha256_phc(password: &str, iterations: u32) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), SALT, iterations, &mut out);
    format!(
        "$pbkdf2-sha256$i={iterations},l=32${}${}",
        B64.encode(SALT),
        B64.encode(out)
    )
}

fn django_pbkdf2(password: &str, iterations: u32) -> String {
    let salt = "benchsaltbenchsaltbenc";
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    let hash = base64::engine::general_purpose::STANDARD.encode(out);
    format!("pbkdf2_sha256${iterations}${salt}${hash}")
}

fn scrypt_phc(password: &str, log_n: u8, r: u32, p: u32) -> anyhow::Result<String> {
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = [0u8; 32];
    scrypt::scrypt(password.as_bytes(), SALT, &params, &mut out)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!(
        "$scrypt$ln={log_n},r={r},p={p}${}${}",
        B64.encode(SALT),
        B64.encode(out)
    ))
}

fn sha512_crypt(password: &str, rounds: usize) -> anyhow::Result<String> {
    let salt = "benchsaltbenchsa";
    let params = sha_crypt::Sha512Params::new(rounds).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let hash = sha_crypt::sha512_crypt_b64(password.as_bytes(), salt.as_bytes(), &params)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(format!("$6$rounds={rounds}${salt}${hash}"))
}

/// pwhash deprecates making md5-crypt hashes (rightly, for new passwords); old stores hold them.
#[allow(deprecated)]
fn md5_crypt(password: &str) -> anyhow::Result<String> {
    Ok(pwhash::md5_crypt::hash_with("$1$benchslt$", password)?)
}

fn argon2_phc(password: &str, m: u32, t: u32, p: u32) -> anyhow::Result<String> {
    let params = argon2::Params::new(m, t, p, Some(32)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password.as_bytes(), SALT, &mut out)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!(
        "$argon2id$v=19$m={m},t={t},p={p}${}${}",
        B64.encode(SALT),
        B64.encode(out)
    ))
}

/// The hashes of [`PASSWORD`] whose sign-in times are compared, as the systems that make them
/// do by default.
fn typical() -> anyhow::Result<Vec<(&'static str, String)>> {
    Ok(vec![
        (
            "bcrypt, cost 10 (Rails, Devise)",
            bcrypt::hash(PASSWORD, 10)?,
        ),
        ("bcrypt, cost 12 (Laravel)", bcrypt::hash(PASSWORD, 12)?),
        (
            "PBKDF2-SHA256, 600,000 (OWASP)",
            pbkdf2_sha256_phc(PASSWORD, 600_000),
        ),
        (
            "PBKDF2-SHA256, 1,000,000 (Django 5.2)",
            django_pbkdf2(PASSWORD, 1_000_000),
        ),
        (
            "scrypt, N=2^16 r=8 p=1 (passlib)",
            scrypt_phc(PASSWORD, 16, 8, 1)?,
        ),
        (
            "sha512-crypt, 5,000 rounds (glibc)",
            sha512_crypt(PASSWORD, 5_000)?,
        ),
        (
            "sha512-crypt, 656,000 rounds (passlib)",
            sha512_crypt(PASSWORD, 656_000)?,
        ),
        ("md5-crypt", md5_crypt(PASSWORD)?),
    ])
}

/// A hash at each scheme's bound (the costliest one `import` accepts).
fn at_bounds() -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut pbkdf2_sha1 = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(PASSWORD.as_bytes(), SALT, 1, &mut pbkdf2_sha1);
    Ok(vec![
        (
            "argon2id m=262,144 KiB t=16 p=16",
            argon2_phc(PASSWORD, 262_144, 1, 16)?.replace(",t=1,", ",t=16,"),
        ),
        (
            "bcrypt cost 14",
            bcrypt::hash(PASSWORD, 4)?.replacen("$04$", "$14$", 1),
        ),
        (
            // Four SHA-1 blocks of output: the most PBKDF2 work the bounds let through.
            "PBKDF2-SHA1 10,000,000 iterations, 64-byte output",
            format!(
                "$pbkdf2-sha1$i=10000000,l=64${}${}",
                B64.encode(SALT),
                B64.encode(pbkdf2_sha1)
            ),
        ),
        (
            "scrypt N=2^17 r=8 p=10",
            scrypt_phc(PASSWORD, 10, 8, 1)?.replace("ln=10,r=8,p=1", "ln=17,r=8,p=10"),
        ),
        (
            "sha512-crypt 10,000,000 rounds",
            sha512_crypt(PASSWORD, 1_000)?.replace("rounds=1000$", "rounds=10000000$"),
        ),
    ])
}

/// The hash the imported flood gives every user: scrypt at passlib's default (N=2^16, r=8: 64 MiB
/// a verification), the most memory a hash made by a usual configuration asks for.
pub(crate) fn flood_hash() -> anyhow::Result<crate::flood::Imported> {
    Ok(crate::flood::Imported {
        label: "scrypt N=2^16 r=8 p=1",
        hash: scrypt_phc(PASSWORD, 16, 8, 1)?,
        memory_mib: 64.0,
    })
}

/// Every measurement of this part; `dir` is scratch space.
pub(crate) async fn run(
    dir: &std::path::Path,
    setup: &Setup,
    threads: usize,
    users: usize,
    raw_time: Duration,
) -> anyhow::Result<Figures> {
    let mut figures = Figures::default();
    let bcrypt = bcrypt::hash(PASSWORD, 10)?;
    let mut expected = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(PASSWORD.as_bytes(), SALT, 600_000, &mut expected);
    let schemes = [
        ("bcrypt cost 10", bcrypt.clone(), Raw::Bcrypt(bcrypt)),
        (
            "PBKDF2-SHA256 600,000",
            pbkdf2_sha256_phc(PASSWORD, 600_000),
            Raw::Pbkdf2Sha256 {
                iterations: 600_000,
                expected,
            },
        ),
    ];
    for (i, (scheme, hash, raw)) in schemes.into_iter().enumerate() {
        eprintln!("imported {scheme}: raw verify on {threads} threads");
        let raw_verify_per_s = raw_rate(raw, threads, raw_time).await?;
        eprintln!("imported {scheme}: VerifyPassword (wrong password)");
        let service = verify_wrong(&dir.join(format!("rate{i}")), setup, users, &hash).await?;
        figures.throughput.push(Throughput {
            scheme: scheme.to_owned(),
            raw_verify_per_s,
            ratio: service.rps / raw_verify_per_s,
            service,
        });
    }
    eprintln!("imported: median sign-in time by kind of hash");
    figures.medians = medians(&dir.join("medians"), setup).await?;
    eprintln!("imported: one verification at each bound");
    figures.at_bound = tokio::task::spawn_blocking(|| -> anyhow::Result<Vec<Timing>> {
        let mut hasher = DirectHasher::new(HashCost::default())?;
        at_bounds()?
            .into_iter()
            .map(|(label, hash)| {
                let started = Instant::now();
                let matched = hasher.verify(WRONG_PASSWORD, &hash)?;
                anyhow::ensure!(!matched, "{label}: a wrong password matched");
                Ok(Timing {
                    hash: label.to_owned(),
                    ms: started.elapsed().as_secs_f64() * 1e3,
                })
            })
            .collect()
    })
    .await??;
    Ok(figures)
}

/// What the raw baseline verifies: the scheme's own crate, with nothing of the service around.
#[derive(Clone)]
enum Raw {
    Bcrypt(String),
    Pbkdf2Sha256 { iterations: u32, expected: [u8; 32] },
}

impl Raw {
    fn verify_wrong(&self) -> anyhow::Result<bool> {
        Ok(match self {
            Raw::Bcrypt(hash) => bcrypt::verify(WRONG_PASSWORD, hash)?,
            Raw::Pbkdf2Sha256 {
                iterations,
                expected,
            } => {
                let mut out = [0u8; 32];
                let password = WRONG_PASSWORD.as_bytes();
                pbkdf2::pbkdf2_hmac::<Sha256>(password, SALT, *iterations, &mut out);
                bool::from(out.ct_eq(expected))
            }
        })
    }
}

/// The raw baseline verifying a wrong password on `threads` threads.
async fn raw_rate(raw: Raw, threads: usize, time: Duration) -> anyhow::Result<f64> {
    tokio::task::spawn_blocking(move || {
        raw::rate(threads, time, || {
            let raw = raw.clone();
            Ok(move || {
                anyhow::ensure!(!raw.verify_wrong()?, "a wrong password matched");
                Ok(())
            })
        })
    })
    .await?
}

/// The bench's service configuration on `dir` with lockout off: these runs send wrong passwords
/// on purpose.
pub(crate) fn lockout_off(
    dir: &std::path::Path,
    setup: &Setup,
) -> loginprofiled::config::ServeConfig {
    let mut config = service::config(
        dir.to_owned(),
        setup.tokens.clone(),
        setup.pool,
        setup.cache,
    );
    config.lockout = LockoutRule {
        threshold: 0,
        ..LockoutRule::default()
    };
    config
}

/// VerifyPassword with a wrong password, lockout off, on `users` users who all have `hash`.
async fn verify_wrong(
    dir: &std::path::Path,
    setup: &Setup,
    users: usize,
    hash: &str,
) -> anyhow::Result<Measured> {
    dataset::load(dir, setup.cache, users, 0, hash)?;
    let server = service::Running::start(lockout_off(dir, setup)).await?;
    let users = Arc::new(Users::new(users, 0));
    let token = Some(setup.token.as_str());
    let measured = load::drive(server.addr, token, Op::VerifyWrong, users, setup.shape).await;
    server.stop().await?;
    measured
}

/// The median of 15 VerifyPassword calls (wrong password, lockout off, one caller) for a user of
/// each kind, an unknown user and a native argon2id user first, taken in rounds.
async fn medians(dir: &std::path::Path, setup: &Setup) -> anyhow::Result<Vec<Timing>> {
    let server = service::Running::start(lockout_off(dir, setup)).await?;
    let mut client = load::connect(server.addr, Some(&setup.token), 1)
        .await?
        .remove(0);
    let mut kinds = vec![("unknown user".to_owned(), None)];
    kinds.push((
        "argon2id m=19456 t=2 p=1 (this service's own)".to_owned(),
        Some(setup.phc.clone()),
    ));
    for (label, hash) in typical()? {
        kinds.push((label.to_owned(), Some(hash)));
    }
    let mut names = Vec::new();
    for (i, (_, hash)) in kinds.iter().enumerate() {
        let name = format!("m{i}");
        if let Some(hash) = hash {
            client
                .users
                .create_user(proto::CreateUserRequest {
                    user_name: name.clone(),
                    ..Default::default()
                })
                .await?;
            client
                .profiles
                .import_login_profile(proto::ImportLoginProfileRequest {
                    user_name: name.clone(),
                    password_hash: hash.clone(),
                    password_reset_required: false,
                })
                .await?;
        }
        names.push(name);
    }
    // Round robin, one call of each kind per round, so that whatever else the machine does
    // weighs on every kind alike.
    let mut times = vec![Vec::new(); kinds.len()];
    for _ in 0..15 {
        for (name, times) in names.iter().zip(&mut times) {
            let started = Instant::now();
            let reply = client
                .profiles
                .verify_password(proto::VerifyPasswordRequest {
                    mfa_code: None,
                    user_name: name.clone(),
                    password: WRONG_PASSWORD.to_owned(),
                })
                .await?;
            anyhow::ensure!(reply.into_inner().result() == VerifyResult::InvalidCredentials);
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let medians = kinds
        .into_iter()
        .zip(times)
        .map(|((label, _), mut times)| {
            times.sort_by(f64::total_cmp);
            Timing {
                hash: label,
                ms: times[times.len() / 2],
            }
        })
        .collect();
    server.stop().await?;
    Ok(medians)
}

/// The figures as lines of the bench's table.
pub(crate) fn print(figures: &Figures) {
    println!();
    for run in &figures.throughput {
        let verdict = if run.ratio >= 0.90 { "met" } else { "MISSED" };
        println!(
            "imported {:<22} VerifyPassword {:>7.1}/s, raw {:>7.1}/s: {:.3}  (target >= 0.90: {verdict})",
            run.scheme, run.service.rps, run.raw_verify_per_s, run.ratio
        );
    }
    println!("\nmedian VerifyPassword (wrong password, one caller), by the kind of hash:");
    for timing in &figures.medians {
        println!("  {:>9.1} ms  {}", timing.ms, timing.hash);
    }
    println!("\none verification at each bound (one thread, outside the service):");
    for timing in &figures.at_bound {
        println!("  {:>9.1} ms  {}", timing.ms, timing.hash);
    }
}
