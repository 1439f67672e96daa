//! Flood mode: thousands of CreateLoginProfile calls at once against a spawned `loginprofiled`
//! (so its peak RSS is its own), with Get calls alongside; every call must get an answer. With
//! an imported hash, the calls are instead each user's first VerifyPassword on that hash (the
//! scheme's verification, then the upgrade to argon2id): migration day.

use std::{
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use loginprofiled::{grpc::proto, password::HashCost};
use serde::Serialize;
use tonic::{Code, Request};

use crate::load::{self, PASSWORD, Tally};

/// How the flood went.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Flooded {
    pub(crate) calls: usize,
    pub(crate) ok: u64,
    pub(crate) throttled: u64,
    pub(crate) deadline_exceeded: u64,
    pub(crate) other_errors: u64,
    /// Calls with no answer 5 s past their deadline.
    pub(crate) unanswered: u64,
    pub(crate) seconds: f64,
    pub(crate) gets: load::Measured,
    pub(crate) peak_rss_mib: f64,
    pub(crate) rss_bound_mib: f64,
    pub(crate) hash_concurrency: usize,
    pub(crate) hash_queue: usize,
    /// What the first call that failed otherwise than by throttling or its deadline answered.
    pub(crate) first_other_error: Option<String>,
    /// The imported hash every user has, when the flood is of first sign-ins.
    pub(crate) imported: Option<String>,
}

/// Options of the flood.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FloodOpts {
    pub(crate) calls: usize,
    pub(crate) hash_concurrency: usize,
    pub(crate) hash_queue: usize,
    pub(crate) deadline: Duration,
}

/// An imported hash to flood first sign-ins of, with its label and the memory one verification
/// of it takes.
#[derive(Debug, Clone)]
pub(crate) struct Imported {
    pub(crate) label: &'static str,
    pub(crate) hash: String,
    pub(crate) memory_mib: f64,
}

/// Spawns the service binary on `dir`, floods it, and kills it.
pub(crate) async fn run(
    dir: &Path,
    opts: FloodOpts,
    imported: Option<Imported>,
) -> anyhow::Result<Flooded> {
    let (token, entry) = crate::service::admin_token();
    let tokens_file = dir.join("tokens.toml");
    std::fs::write(&tokens_file, entry)?;
    let addr = free_port()?;
    let mut child = spawn(dir, &tokens_file, addr, opts)?;
    let result = flood(&child, addr, &token, opts, imported).await;
    if std::env::var_os("LOGINPROFILED_BENCH_KEEP_LOG").is_some() {
        let _ = std::fs::copy(dir.join("flood-server.log"), "/tmp/flood-server.log");
    }
    child.kill()?;
    child.wait()?;
    result
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(probe.local_addr()?)
}

fn spawn(
    dir: &Path,
    tokens_file: &Path,
    addr: SocketAddr,
    opts: FloodOpts,
) -> anyhow::Result<Child> {
    let exe = std::env::current_exe()?
        .parent()
        .context("the bench binary has a directory")?
        .join("loginprofiled");
    let log = std::fs::File::create(dir.join("flood-server.log"))?;
    Command::new(&exe)
        .arg("serve")
        .args(["--listen", &addr.to_string()])
        .args(["--http-listen", "off"])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--tokens-file")
        .arg(tokens_file)
        .args(["--hash-concurrency", &opts.hash_concurrency.to_string()])
        .args(["--hash-queue", &opts.hash_queue.to_string()])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| {
            format!(
                "starting {} (build it first: `cargo build --release` at the workspace root)",
                exe.display()
            )
        })
}

async fn flood(
    child: &Child,
    addr: SocketAddr,
    token: &str,
    opts: FloodOpts,
    imported: Option<Imported>,
) -> anyhow::Result<Flooded> {
    let pid = child.id();
    let connections = opts.calls.div_ceil(200).max(1);
    let clients = wait_ready(addr, token, connections).await?;
    create_users(&clients[0], opts.calls).await?;
    match &imported {
        // Every user gets the imported hash (no hashing: the import only stores it).
        Some(imported) => import_all(&clients[0], &imported.hash, opts.calls).await?,
        // c0..c15 get profiles first, for the Get calls that run alongside the flood.
        None => {
            for i in 0..GET_USERS {
                create_profile(clients[0].clone(), i, opts.deadline).await?;
            }
        }
    }
    let flooding = Arc::new(AtomicBool::new(true));
    let getter = tokio::spawn(get_loop(clients[0].clone(), flooding.clone()));
    let started = Instant::now();
    let calls: Vec<_> = (GET_USERS..opts.calls + GET_USERS)
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            if imported.is_some() {
                tokio::spawn(first_sign_in(client, i, opts.deadline))
            } else {
                tokio::spawn(create_profile(client, i, opts.deadline))
            }
        })
        .collect();
    let mut flooded = Flooded {
        calls: opts.calls,
        hash_concurrency: opts.hash_concurrency,
        hash_queue: opts.hash_queue,
        ..Flooded::default()
    };
    for call in calls {
        // A call the server never answers is cut off 5 s after its deadline and counted.
        let answer = tokio::time::timeout(opts.deadline + Duration::from_secs(5), call).await;
        match answer.map_err(drop).and_then(|joined| joined.map_err(drop)) {
            Ok(Ok(())) => flooded.ok += 1,
            Ok(Err(status)) if load::is_throttling(&status) => flooded.throttled += 1,
            Ok(Err(status)) if status.code() == Code::DeadlineExceeded => {
                flooded.deadline_exceeded += 1;
            }
            Ok(Err(status)) => {
                flooded.other_errors += 1;
                flooded
                    .first_other_error
                    .get_or_insert_with(|| format!("{:?}: {}", status.code(), status.message()));
            }
            Err(_) => flooded.unanswered += 1,
        }
    }
    flooded.seconds = started.elapsed().as_secs_f64();
    flooding.store(false, Ordering::Relaxed);
    flooded.gets = getter.await??;
    flooded.peak_rss_mib = peak_rss_kib(pid)? as f64 / 1024.0;
    // Each hashing thread keeps argon2's memory; an imported scheme's is taken per call.
    let m_mib = f64::from(HashCost::default().memory_kib) / 1024.0;
    let scheme_mib = imported.as_ref().map_or(0.0, |i| i.memory_mib);
    flooded.rss_bound_mib = opts.hash_concurrency as f64 * (m_mib + scheme_mib) + 64.0;
    flooded.imported = imported.map(|i| i.label.to_owned());
    Ok(flooded)
}

/// Users that get a profile before the flood, for the Get calls during it.
const GET_USERS: usize = 16;

async fn create_profile(
    mut client: load::Client,
    i: usize,
    deadline: Duration,
) -> Result<(), tonic::Status> {
    let mut request = Request::new(proto::CreateLoginProfileRequest {
        user_name: format!("c{i}"),
        password: PASSWORD.to_owned(),
        password_reset_required: false,
    });
    request.set_timeout(deadline);
    client
        .profiles
        .create_login_profile(request)
        .await
        .map(drop)
}

/// A user's first sign-in with the right password: it verifies the imported hash and upgrades it.
async fn first_sign_in(
    mut client: load::Client,
    i: usize,
    deadline: Duration,
) -> Result<(), tonic::Status> {
    let mut request = Request::new(proto::VerifyPasswordRequest {
        mfa_code: None,
        user_name: format!("c{i}"),
        password: PASSWORD.to_owned(),
    });
    request.set_timeout(deadline);
    let reply = client.profiles.verify_password(request).await?;
    match reply.into_inner().result() {
        proto::VerifyResult::Ok => Ok(()),
        other => Err(tonic::Status::internal(format!(
            "verify answered {other:?}"
        ))),
    }
}

/// Imports `hash` for users c0..count+GET_USERS.
async fn import_all(client: &load::Client, hash: &str, count: usize) -> anyhow::Result<()> {
    for_each_user(count, |user_name| {
        let mut profiles = client.profiles.clone();
        let request = proto::ImportLoginProfileRequest {
            user_name,
            password_hash: hash.to_owned(),
            password_reset_required: false,
        };
        async move { profiles.import_login_profile(request).await }
    })
    .await
}

/// Gets profiles over and over while the flood lasts, at most 200 a second.
async fn get_loop(
    mut client: load::Client,
    flooding: Arc<AtomicBool>,
) -> anyhow::Result<load::Measured> {
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut i = 0;
    while flooding.load(Ordering::Relaxed) {
        let sent = Instant::now();
        let outcome = client
            .profiles
            .get_login_profile(proto::GetLoginProfileRequest {
                user_name: format!("c{}", i % GET_USERS),
            })
            .await
            .map(drop);
        tally.record(sent.elapsed(), outcome);
        i += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(tally.finish(started.elapsed()))
}

/// Connects once the server answers health checks (it needs a moment to start).
async fn wait_ready(
    addr: SocketAddr,
    token: &str,
    connections: usize,
) -> anyhow::Result<Vec<load::Client>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match load::connect(addr, Some(token), connections).await {
            Ok(clients) => return Ok(clients),
            Err(e) if Instant::now() > deadline => {
                return Err(e.context("the flooded server did not start"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Creates users c0..count+GET_USERS (no hashing involved).
async fn create_users(client: &load::Client, count: usize) -> anyhow::Result<()> {
    for_each_user(count, |user_name| {
        let mut users = client.users.clone();
        let request = proto::CreateUserRequest {
            user_name,
            ..Default::default()
        };
        async move { users.create_user(request).await }
    })
    .await
}

/// Runs `call` for every user name c0..count+GET_USERS, 64 calls at a time.
async fn for_each_user<F, C, T>(count: usize, call: F) -> anyhow::Result<()>
where
    F: Fn(String) -> C,
    C: Future<Output = Result<T, tonic::Status>> + Send + 'static,
    T: Send + 'static,
{
    let names: Vec<usize> = (0..count + GET_USERS).collect();
    for chunk in names.chunks(64) {
        let calls: Vec<_> = chunk
            .iter()
            .map(|i| tokio::spawn(call(format!("c{i}"))))
            .collect();
        for call in calls {
            call.await??;
        }
    }
    Ok(())
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .context("reading VmHWM")
}
