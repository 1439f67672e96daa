//! `screening-bench`: the figures of password screening (docs/screening.md), in one run.
//!
//! Writes a Pwned Passwords file of `--entries` SHA-1s of random strings into `--dir`, compiles
//! it with the `loginprofiled` binary beside this one (build it first: `cargo build --release`),
//! then measures in this process: the compiled list's load time and bytes per entry, the
//! screening check's latency (built-in list plus the compiled one), the false-positive rate of
//! random strong passwords, and CreateLoginProfile with screening on and off at the production
//! argon2 cost. The build's own figures (lines/s, peak RSS) are what `blocklist build` prints
//! and `/usr/bin/time -v` shows; docs/screening.md has the commands.

use std::{
    io::{BufWriter, Write as _},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use clap::Parser;
use loginprofiled::{
    config::{Limits, ListenAddr, LogFormat, ServeConfig},
    domain::{CreateLoginProfile, CreateUser, LockoutRule, Service, SystemClock},
    password::{HashCost, PoolSize},
    screening::{CompiledList, Screening},
    server::App,
};
use rand::{Rng as _, distr::Alphanumeric};
use sha1::{Digest as _, Sha1};

#[derive(Debug, Parser)]
struct Flags {
    /// Entries of the generated list.
    #[arg(long, default_value_t = 10_000_000)]
    entries: u64,
    /// Where the generated and compiled lists go (reused when already there).
    #[arg(long, default_value = "/tmp/screening-bench")]
    dir: PathBuf,
    /// Screening checks timed.
    #[arg(long, default_value_t = 1_000_000)]
    checks: usize,
    /// Random strong passwords checked for false positives.
    #[arg(long, default_value_t = 1_000_000)]
    false_positive_trials: usize,
    /// CreateLoginProfile calls timed with screening on, and as many with it off.
    #[arg(long, default_value_t = 100)]
    creates: usize,
}

fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    std::fs::create_dir_all(&flags.dir)?;
    let pwned = flags.dir.join(format!("pwned-{}.txt", flags.entries));
    let compiled = flags.dir.join(format!("pwned-{}.blf", flags.entries));
    if !pwned.exists() {
        generate(&pwned, flags.entries)?;
    }
    if !compiled.exists() {
        compile(&pwned, &compiled)?;
    }

    let started = Instant::now();
    let list = CompiledList::read_file(&compiled)?;
    let load = started.elapsed();
    println!(
        "load: {:.1} ms for {} entries; {:.2} bytes an entry ({:.1} MiB)",
        load.as_secs_f64() * 1e3,
        list.entries(),
        list.memory_bytes() as f64 / list.entries() as f64,
        list.memory_bytes() as f64 / (1 << 20) as f64
    );
    drop(list);

    let screening =
        Screening::load(std::slice::from_ref(&compiled)).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let passwords: Vec<String> = (0..flags.checks.max(1)).map(|_| strong()).collect();
    let mut nanos: Vec<u64> = passwords
        .iter()
        .map(|p| {
            let started = Instant::now();
            std::hint::black_box(screening.listed(std::hint::black_box(p)));
            started.elapsed().as_nanos() as u64
        })
        .collect();
    nanos.sort_unstable();
    let at = |q: f64| nanos[((nanos.len() - 1) as f64 * q) as usize] as f64 / 1e3;
    println!(
        "check (built-in + {} entries): p50 {:.2} µs, p99 {:.2} µs, max {:.1} µs over {} checks",
        flags.entries,
        at(0.5),
        at(0.99),
        at(1.0),
        nanos.len()
    );

    let false_positives = (0..flags.false_positive_trials)
        .filter(|_| screening.listed(&strong()))
        .count();
    println!(
        "false positives of the built-in list and the generated one: {false_positives} of {} random strong passwords ({:.2e}; 1/65536 = {:.2e} per list)",
        flags.false_positive_trials,
        false_positives as f64 / flags.false_positive_trials as f64,
        1.0 / 65536.0
    );

    let false_positives_one_list = {
        let list = CompiledList::read_file(&compiled)?;
        (0..flags.false_positive_trials)
            .filter(|_| list.contains(&strong()))
            .count()
    };
    println!(
        "false positives of the {}-entry list alone: {false_positives_one_list} of {} ({:.2e})",
        flags.entries,
        flags.false_positive_trials,
        false_positives_one_list as f64 / flags.false_positive_trials as f64
    );

    let builtin = loginprofiled::screening::builtin();
    let false_positives_builtin = (0..flags.false_positive_trials)
        .filter(|_| builtin.contains(&strong()))
        .count();
    println!(
        "false positives of the built-in list alone: {false_positives_builtin} of {} ({:.2e})",
        flags.false_positive_trials,
        false_positives_builtin as f64 / flags.false_positive_trials as f64
    );

    let runtime = tokio::runtime::Runtime::new()?;
    let (on, off) = runtime.block_on(creates(flags.creates, &flags.dir))?;
    println!(
        "CreateLoginProfile at the production argon2 cost, one at a time: {:.1}/s screening on, {:.1}/s off: {:.3}x",
        flags.creates as f64 / on.as_secs_f64(),
        flags.creates as f64 / off.as_secs_f64(),
        off.as_secs_f64() / on.as_secs_f64()
    );
    Ok(())
}

/// A random password that meets IAM's default policy.
fn strong() -> String {
    let body: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect();
    format!("{body}-aZ9")
}

/// Writes `entries` Pwned Passwords lines (upper-case SHA-1 of a random string, a count).
fn generate(path: &Path, entries: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = rand::rng();
    for _ in 0..entries {
        let secret: [u8; 16] = rng.random();
        let digest = Sha1::digest(secret);
        writeln!(
            out,
            "{}:{}",
            hex::encode_upper(digest),
            rng.random_range(1..1000)
        )?;
    }
    out.flush()?;
    println!(
        "generated {entries} lines in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs `loginprofiled blocklist build` from beside this binary.
fn compile(input: &Path, output: &Path) -> anyhow::Result<()> {
    let binary = std::env::current_exe()?
        .parent()
        .context("the bench binary has a directory")?
        .join("loginprofiled");
    let status = std::process::Command::new(&binary)
        .args(["blocklist", "build", "--input"])
        .arg(input)
        .arg("--output")
        .arg(output)
        .status()
        .with_context(|| format!("running {}", binary.display()))?;
    anyhow::ensure!(status.success(), "blocklist build failed");
    Ok(())
}

/// The time `count` creates take on a server with screening on and on one with it off, called
/// in turn (so that whatever else runs on the machine weighs on both alike).
async fn creates(count: usize, dir: &Path) -> anyhow::Result<(Duration, Duration)> {
    let on = open(Screening::builtin(), dir).await?;
    let off = open(Screening::off(), dir).await?;
    let (mut on_total, mut off_total) = (Duration::ZERO, Duration::ZERO);
    for i in 0..count {
        let name = format!("user{i}");
        on_total += create(&on.0, &name).await?;
        off_total += create(&off.0, &name).await?;
    }
    Ok((on_total, off_total))
}

/// The time one CreateLoginProfile takes, for a new user `name`.
async fn create(service: &Service, name: &str) -> anyhow::Result<Duration> {
    service
        .create_user(CreateUser::parse(name, "", Vec::new())?)
        .await?;
    let request = CreateLoginProfile::parse(name, strong(), false)?;
    let started = Instant::now();
    service.create_login_profile(request).await?;
    Ok(started.elapsed())
}

/// A service on a scratch data directory (kept as long as the service).
async fn open(screening: Screening, dir: &Path) -> anyhow::Result<(Service, tempfile::TempDir)> {
    let data = tempfile::tempdir_in(dir)?;
    let config = ServeConfig {
        listen: ListenAddr::Tcp("127.0.0.1:0".parse()?),
        http_listen: None,
        data_dir: data.path().to_owned(),
        database: None,
        tokens: None,
        insecure_no_auth: false,
        account_id: "123456789012".to_owned(),
        log_format: LogFormat::Text,
        hash_cost: HashCost::default(),
        pool: PoolSize {
            concurrency: 2,
            queue: 16,
        },
        drain_delay: Duration::ZERO,
        grace_period: Duration::from_secs(10),
        lockout: LockoutRule::default(),
        limits: Limits::default(),
        tls: None,
        health_listen: None,
        metrics_listen: None,
        audit_log: None,
        screening,
        mfa_keys: None,
        mfa_key_file: None,
        mfa_issuer: "loginprofiled".to_owned(),
    };
    let app =
        tokio::task::spawn_blocking(move || App::open(config, Arc::new(SystemClock))).await??;
    Ok((app.service, data))
}
