//! `loginprofiled-bench`: in one run on one machine, measures the raw argon2id rate, a bare
//! tonic server's ceiling and loginprofiled itself under a closed-loop load, then floods a
//! spawned loginprofiled; prints one table and writes the figures as JSON (see [`output`]).
//!
//! Build the service binary too (`cargo build --release` at the workspace root): flood mode
//! spawns the `loginprofiled` beside this binary.

mod ceiling;
mod dataset;
mod flood;
mod imported;
mod load;
mod mfa;
mod output;
mod postgres;
mod raw;
mod report;
mod service;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::Parser;
use loginprofiled::{
    config::LogFormat,
    password::{DirectHasher, HashCost, PoolSize},
};
use metrics_exporter_prometheus::PrometheusHandle;
use tracing_appender::non_blocking::WorkerGuard;

use crate::{
    load::{Op, Shape, Users},
    report::Report,
};

/// Benchmark of loginprofiled against the limits of this machine.
#[derive(Debug, Parser)]
struct Flags {
    /// Seconds each load run lasts.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Callers at once in each load run.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// HTTP/2 connections the callers share.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Seconds each raw argon2 measurement lasts.
    #[arg(long, default_value_t = 5)]
    raw_seconds: u64,
    /// Users with a profile in the small data set.
    #[arg(long, default_value_t = 1_000)]
    small_users: usize,
    /// Users with a profile in the big data set (the issue asks for 1000000).
    #[arg(long, default_value_t = 100_000)]
    big_users: usize,
    /// Hashing threads of the service and of the raw baseline [default: the number of CPUs].
    #[arg(long)]
    hash_concurrency: Option<usize>,
    /// The service's sled page cache, in MiB.
    #[arg(long, default_value_t = 64)]
    store_cache_mib: u64,
    /// CreateLoginProfile calls sent at once in the flood.
    #[arg(long, default_value_t = 2_000)]
    flood_calls: usize,
    /// The hashing queue of the flooded service.
    #[arg(long, default_value_t = 256)]
    flood_queue: usize,
    /// Only run the flood.
    #[arg(long)]
    flood_only: bool,
    /// Skip the flood.
    #[arg(long)]
    no_flood: bool,
    /// Skip the imported hashes (bcrypt and PBKDF2 against their raw rates, sign-in times by
    /// kind of hash, one verification at each bound).
    #[arg(long)]
    no_imported: bool,
    /// Users with an MFA device (and as many without) in the second-factor runs; 0 skips them.
    #[arg(long, default_value_t = 500)]
    mfa_users: usize,
    /// Where to write the JSON figures [default: bench-results.json in the cargo target
    /// directory this binary was built into].
    #[arg(long, alias = "json")]
    output: Option<PathBuf>,
    /// Scratch directory for data sets and logs (removed at the end).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// With --database-url, the service runs on PostgreSQL instead of sled: each data set in a
    /// database made for it on that server and dropped at the end (see postgres.rs).
    #[command(flatten)]
    database: loginprofiled::config::DatabaseArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let json_path = output::resolve(flags.output.clone(), &std::env::current_exe()?)?;
    let work_dir = flags.work_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("loginprofiled-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&work_dir)?;
    let (log_writer, metrics) = init_access_log_and_metrics(&work_dir)?;
    let _ = METRICS.set(metrics.clone());
    let mut report = Report {
        machine: machine(),
        hash_concurrency: flags
            .hash_concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
        ..Report::default()
    };
    let outcome = run(&flags, &work_dir, &mut report).await;
    report.compute_ratios();
    report.print();
    if let Some(figures) = &report.imported {
        imported::print(figures);
    }
    if let Some(figures) = &report.mfa {
        mfa::print(figures);
    }
    report.print_metrics(&metrics.render());
    drop(log_writer);
    report.write_json(&json_path)?;
    println!("\nfigures written to {}", json_path.display());
    let _ = std::fs::remove_dir_all(&work_dir);
    outcome
}

async fn run(flags: &Flags, work_dir: &std::path::Path, report: &mut Report) -> anyhow::Result<()> {
    if !flags.flood_only {
        throughput(flags, work_dir, report).await?;
    }
    if !flags.no_flood {
        eprintln!(
            "flood: {} CreateLoginProfile calls at once",
            flags.flood_calls
        );
        let dir = work_dir.join("flood");
        std::fs::create_dir_all(&dir)?;
        let opts = flood::FloodOpts {
            calls: flags.flood_calls,
            hash_concurrency: report.hash_concurrency,
            hash_queue: flags.flood_queue,
            deadline: Duration::from_secs(30),
        };
        report.flood = Some(flood::run(&dir, opts, None).await?);
        if !flags.no_imported {
            let imported = imported::flood_hash()?;
            eprintln!(
                "flood: {} first sign-ins at once on imported {}",
                flags.flood_calls, imported.label
            );
            let dir = work_dir.join("flood-imported");
            std::fs::create_dir_all(&dir)?;
            // Each first sign-in costs a scrypt and an argon2 computation, about 0.2 s: a full
            // queue takes about 26 s to drain on two threads, so the calls get a longer deadline.
            let opts = flood::FloodOpts {
                deadline: Duration::from_secs(60),
                ..opts
            };
            report.flood_imported = Some(flood::run(&dir, opts, Some(imported)).await?);
        }
    }
    Ok(())
}

/// The raw rate, the ceiling, and the service on the small and the big data set.
async fn throughput(
    flags: &Flags,
    work_dir: &std::path::Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let shape = Shape {
        concurrency: flags.concurrency,
        connections: flags.connections,
        duration: Duration::from_secs(flags.duration),
    };
    report.shape = Some(shape);
    let threads = report.hash_concurrency;
    eprintln!("raw argon2id on {threads} threads");
    let raw_time = Duration::from_secs(flags.raw_seconds);
    let raw = measure_raw(threads, raw_time).await?;
    let creatable = (raw.hash_baseline * flags.duration as f64 * 2.0) as usize + 1_000;
    report.raw = Some(raw);
    let postgres = flags
        .database
        .pg_config()
        .map_err(|problems| anyhow::anyhow!(problems.join("; ")))?;

    if postgres.is_none() {
        eprintln!("bare tonic ceiling");
        let (ceiling_addr, ceiling_stop) = ceiling::start().await?;
        let users = Arc::new(Users::new(flags.small_users, 0));
        let ceiling = load::drive(ceiling_addr, None, Op::Get, users, shape).await?;
        report.runs.push(("ceiling get".to_owned(), ceiling));
        drop(ceiling_stop);
    }

    let (token, entry) = service::admin_token();
    let setup = Setup {
        shape,
        phc: DirectHasher::new(HashCost::default())?.hash(load::PASSWORD)?,
        token,
        tokens: service::tokens(&entry)?,
        pool: PoolSize {
            concurrency: threads,
            queue: 256,
        },
        cache: flags.store_cache_mib * 1024 * 1024,
    };
    if let Some(server) = postgres {
        postgres::throughput(flags, server, &setup, report).await?;
    } else {
        small_runs(flags, &work_dir.join("small"), &setup, creatable, report).await?;
        big_runs(flags, &work_dir.join("big"), &setup, report).await?;
        if !flags.no_imported {
            let dir = work_dir.join("imported");
            let figures = imported::run(&dir, &setup, threads, flags.small_users, raw_time).await?;
            report.imported = Some(figures);
        }
        if flags.mfa_users > 0 {
            let dir = work_dir.join("mfa");
            report.mfa = Some(mfa::run(&dir, &setup, flags.mfa_users).await?);
        }
    }

    // Other work on the machine can slow one measurement; hold the service against the best.
    eprintln!("raw argon2id again");
    let again = measure_raw(threads, raw_time).await?;
    if let Some(raw) = &mut report.raw {
        raw.keep_best(&again);
    }
    Ok(())
}

/// The metrics every in-process server records into.
static METRICS: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();

/// The sum of the hashing pool's computation times in seconds, and their count, so far.
pub(crate) fn argon2_so_far() -> Option<(f64, f64)> {
    let scrape = METRICS.get()?.render();
    let total = |name: &str| report::total(&scrape, name);
    Some((
        total("loginprofiled_hash_seconds_sum"),
        total("loginprofiled_hash_seconds_count"),
    ))
}

/// What every run of the service shares.
struct Setup {
    shape: Shape,
    /// The PHC string of `load::PASSWORD` every bench user has.
    phc: String,
    token: String,
    tokens: Arc<loginprofiled::access::Tokens>,
    pool: PoolSize,
    cache: u64,
}

/// Get, Create, Update and Verify on the small data set.
async fn small_runs(
    flags: &Flags,
    dir: &std::path::Path,
    setup: &Setup,
    creatable: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    eprintln!("loading the small data set");
    let loaded = dataset::load(dir, setup.cache, flags.small_users, creatable, &setup.phc)?;
    report.small = Some(loaded);
    let config = service::config(
        dir.to_owned(),
        setup.tokens.clone(),
        setup.pool,
        setup.cache,
    );
    let server = service::Running::start(config).await?;
    let users = Arc::new(Users::new(flags.small_users, creatable));
    for (name, op) in [
        ("get", Op::Get),
        ("create", Op::Create),
        ("update", Op::Update),
        ("verify", Op::Verify),
        ("create user", Op::CreateUser),
    ] {
        eprintln!("loginprofiled: {name}");
        let token = Some(setup.token.as_str());
        let measured = load::drive(server.addr, token, op, users.clone(), setup.shape).await?;
        report.runs.push((name.to_owned(), measured));
    }
    report.argon2_one_server = argon2_so_far();
    server.stop().await
}

/// Size, start time and Get on the big data set.
async fn big_runs(
    flags: &Flags,
    dir: &std::path::Path,
    setup: &Setup,
    report: &mut Report,
) -> anyhow::Result<()> {
    eprintln!("loading the big data set ({} users)", flags.big_users);
    report.big = Some(dataset::load(
        dir,
        setup.cache,
        flags.big_users,
        0,
        &setup.phc,
    )?);
    let started = std::time::Instant::now();
    let config = service::config(
        dir.to_owned(),
        setup.tokens.clone(),
        setup.pool,
        setup.cache,
    );
    let server = service::Running::start(config).await?;
    let mut clients = load::connect(server.addr, Some(&setup.token), 1).await?;
    load::call(&mut clients[0], Op::Get, &Users::new(flags.big_users, 0))
        .await
        .context("the first Get on the big data set")?;
    report.big_start_seconds = Some(started.elapsed().as_secs_f64());
    eprintln!("loginprofiled: get on the big data set");
    let users = Arc::new(Users::new(flags.big_users, 0));
    let token = Some(setup.token.as_str());
    let measured = load::drive(server.addr, token, Op::Get, users, setup.shape).await?;
    report.runs.push(("get big".to_owned(), measured));
    server.stop().await
}

async fn measure_raw(threads: usize, time: Duration) -> anyhow::Result<raw::RawRates> {
    tokio::task::spawn_blocking(move || raw::measure(HashCost::default(), threads, time)).await?
}

/// Sends the service's access log (and other logs) to a file, as a deployment would.
/// The server's own log set-up (RUST_LOG, default `info`: one access-log line per call),
/// writing to a file in `dir`; and the metrics recorder, so that every call is also measured
/// as with `--metrics-listen`.
fn init_access_log_and_metrics(
    dir: &std::path::Path,
) -> anyhow::Result<(WorkerGuard, PrometheusHandle)> {
    let file = std::fs::File::create(dir.join("access.log"))?;
    let guard = loginprofiled::telemetry::init_to(LogFormat::Text, false, file);
    let metrics = loginprofiled::meter::install()?;
    // What a scrape every few seconds would do: drain the histograms into their buckets.
    let upkeep = metrics.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok((guard, metrics))
}

/// The CPU model, core count and memory of this machine.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1048576.0);
    format!(
        "{model}, {cpus} CPUs, {mem_gib:.1} GiB RAM, {}",
        std::env::consts::OS
    )
}
