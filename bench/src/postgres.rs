//! `--database-url`: the same measurements on PostgreSQL. Each data set lives in a fresh
//! database `lp_bench_<random>` on that server, loaded with `Store::import` and dropped at the
//! end; the ceiling is the store's own profile SELECT on a pool with the service's settings, at
//! the bench's concurrency, without gRPC; and a second in-process replica on the same database
//! shows what another server adds.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::Context as _;
use loginprofiled::store::{
    DatabaseUrl, Import, PgConfig, PgStore, ProfileRecord, Snapshot, SnapshotUser, Store as _,
    UserRecord,
};
use rand::Rng as _;
use sqlx::Connection as _;
use tonic::Status;

use crate::{
    Flags, Setup,
    dataset::Loaded,
    load::{self, Measured, Op, Shape, Tally, Users},
    report::Report,
    service,
};

/// A database made for one data set, dropped by [`Scratch::drop_database`].
struct Scratch {
    /// The server URL the bench was given (it names a database to connect to for admin).
    server: DatabaseUrl,
    name: String,
    config: PgConfig,
}

impl Scratch {
    async fn create(server_config: &PgConfig) -> anyhow::Result<Self> {
        let server = server_config.url.clone();
        let name = format!("lp_bench_{:016x}", rand::rng().random::<u64>());
        let mut admin = sqlx::PgConnection::connect(server.expose())
            .await
            .with_context(|| format!("connecting to {server}"))?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .with_context(|| format!("creating database {name}"))?;
        admin.close().await?;
        let mut url = url::Url::parse(server.expose())?;
        url.set_path(&format!("/{name}"));
        let url = DatabaseUrl::parse(url.as_str()).map_err(anyhow::Error::msg)?;
        eprintln!("created database {name}");
        Ok(Self {
            server,
            name,
            config: PgConfig {
                url,
                ..server_config.clone()
            },
        })
    }

    async fn bytes(&self) -> anyhow::Result<u64> {
        let mut conn = sqlx::PgConnection::connect(self.config.url.expose()).await?;
        let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&mut conn)
            .await?;
        conn.close().await?;
        Ok(u64::try_from(bytes)?)
    }

    async fn drop_database(self) -> anyhow::Result<()> {
        let mut admin = sqlx::PgConnection::connect(self.server.expose()).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .with_context(|| format!("dropping database {}", self.name))?;
        admin.close().await?;
        eprintln!("dropped database {}", self.name);
        Ok(())
    }
}

/// Runs `body` on a fresh database and drops it afterwards, whatever `body` returned.
async fn with_scratch<T>(
    server: &PgConfig,
    body: impl AsyncFnOnce(&Scratch) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let scratch = Scratch::create(server).await?;
    let outcome = body(&scratch).await;
    let dropped = scratch.drop_database().await;
    let value = outcome?;
    dropped?;
    Ok(value)
}

/// Raw argon2, the PG ceiling, and the service on PostgreSQL with the small and the big data set.
pub(crate) async fn throughput(
    flags: &Flags,
    server: PgConfig,
    setup: &Setup,
    report: &mut Report,
) -> anyhow::Result<()> {
    let creatable = report.raw.as_ref().map_or(1_000, |r| {
        (r.hash_baseline * setup.shape.duration.as_secs_f64() * 2.0) as usize + 1_000
    });
    with_scratch(&server, async |db| {
        small_runs(flags, db, setup, creatable, report).await
    })
    .await?;
    with_scratch(&server, async |db| big_runs(flags, db, setup, report).await).await
}

async fn small_runs(
    flags: &Flags,
    db: &Scratch,
    setup: &Setup,
    creatable: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    eprintln!("PostgreSQL: loading the small data set");
    report.small = Some(load(db, flags.small_users, creatable, &setup.phc).await?);

    eprintln!("PostgreSQL: ceiling (the profile SELECT on the pool, no gRPC)");
    let ceiling = ceiling(&db.config, flags.small_users, setup.shape).await?;
    report.runs.push(("pg ceiling".to_owned(), ceiling));

    let mut config = service::config(
        std::env::temp_dir(),
        setup.tokens.clone(),
        setup.pool,
        setup.cache,
    );
    config.database = Some(db.config.clone());
    let first = service::Running::start(config.clone()).await?;
    let users = Arc::new(Users::new(flags.small_users, creatable));
    let token = Some(setup.token.as_str());
    for (name, op) in [
        ("pg get", Op::Get),
        ("pg create", Op::Create),
        ("pg verify", Op::Verify),
    ] {
        eprintln!("loginprofiled on PostgreSQL: {name}");
        let measured = load::drive(first.addr, token, op, users.clone(), setup.shape).await?;
        report.runs.push((name.to_owned(), measured));
    }

    report.argon2_one_server = crate::argon2_so_far();
    // A second replica, the load split evenly across both.
    let second = service::Running::start(config).await?;
    let addrs = [first.addr, second.addr];
    for (name, op) in [("pg get 2 srv", Op::Get), ("pg verify 2 srv", Op::Verify)] {
        eprintln!("two loginprofileds on PostgreSQL: {name}");
        let measured = drive_split(&addrs, token, op, users.clone(), setup.shape).await?;
        report.runs.push((name.to_owned(), measured));
    }
    second.stop().await?;
    first.stop().await
}

async fn big_runs(
    flags: &Flags,
    db: &Scratch,
    setup: &Setup,
    report: &mut Report,
) -> anyhow::Result<()> {
    eprintln!(
        "PostgreSQL: loading the big data set ({} users)",
        flags.big_users
    );
    report.big = Some(load(db, flags.big_users, 0, &setup.phc).await?);
    let started = Instant::now();
    let mut config = service::config(
        std::env::temp_dir(),
        setup.tokens.clone(),
        setup.pool,
        setup.cache,
    );
    config.database = Some(db.config.clone());
    let server = service::Running::start(config).await?;
    let users = Arc::new(Users::new(flags.big_users, 0));
    let mut clients = load::connect(server.addr, Some(&setup.token), 1).await?;
    load::call(&mut clients[0], Op::Get, &users)
        .await
        .context("the first Get on the big data set")?;
    report.big_start_seconds = Some(started.elapsed().as_secs_f64());
    eprintln!("loginprofiled on PostgreSQL: get on the big data set");
    let token = Some(setup.token.as_str());
    let measured = load::drive(server.addr, token, Op::Get, users, setup.shape).await?;
    report.runs.push(("pg get big".to_owned(), measured));
    server.stop().await
}

/// Imports users `u0..profiles` with a profile hashed as `phc` and `c0..creatable` without one,
/// in one `Store::import`.
async fn load(
    db: &Scratch,
    profiles: usize,
    creatable: usize,
    phc: &str,
) -> anyhow::Result<Loaded> {
    let now_ms = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;
    let entry = |name: String, profile: Option<ProfileRecord>| SnapshotUser {
        key: name.clone(),
        user: UserRecord {
            user_id: format!("AIDABENCH{:012}", name.len()),
            user_name: name,
            path: "/".to_owned(),
            create_date_ms: now_ms,
            password_last_used_ms: None,
            tags: Vec::new(),
        },
        profile,
    };
    let profile = ProfileRecord {
        password_hash: phc.to_owned(),
        create_date_ms: now_ms,
        password_reset_required: false,
        password_set_ms: now_ms,
        previous_hashes: Vec::new(),
        version: 0,
    };
    let users = (0..profiles)
        .map(|i| entry(format!("u{i}"), Some(profile.clone())))
        .chain((0..creatable).map(|i| entry(format!("c{i}"), None)))
        .collect();
    let started = Instant::now();
    let store = open(&db.config).await?;
    let imported = store
        .import(Snapshot {
            users,
            devices: Vec::new(),
            policy: None,
        })
        .await?;
    anyhow::ensure!(
        imported == Import::Imported,
        "the new database was not empty"
    );
    let load_seconds = started.elapsed().as_secs_f64();
    drop(store);
    let bytes_on_disk = db.bytes().await?;
    Ok(Loaded {
        profiles,
        users_without_profile: creatable,
        load_seconds,
        bytes_on_disk,
        bytes_per_profile: bytes_on_disk as f64 / (profiles + creatable).max(1) as f64,
    })
}

async fn open(config: &PgConfig) -> anyhow::Result<PgStore> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || PgStore::open(&config)).await?
}

/// The profile lookup Get runs, straight on a pool made as the service makes it, from as many
/// callers as the load runs have, for as long.
async fn ceiling(config: &PgConfig, profiles: usize, shape: Shape) -> anyhow::Result<Measured> {
    let store = open(config).await?;
    let started = Instant::now();
    let until = started + shape.duration;
    let callers: Vec<_> = (0..shape.concurrency)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                while Instant::now() < until {
                    let key = format!("u{}", rand::rng().random_range(0..profiles));
                    let sent = Instant::now();
                    let outcome = match store.profile_lookup_only(&key).await {
                        Ok(true) => Ok(()),
                        Ok(false) => Err(Status::not_found("no row")),
                        Err(e) => Err(Status::internal(e.to_string())),
                    };
                    tally.record(sent.elapsed(), outcome);
                }
                tally
            })
        })
        .collect();
    let mut tally = Tally::default();
    for caller in callers {
        tally.merge(caller.await?);
    }
    Ok(tally.finish(started.elapsed()))
}

/// Like [`load::drive`], with the connections (and so the callers) spread over `addrs`.
async fn drive_split(
    addrs: &[SocketAddr],
    token: Option<&str>,
    op: Op,
    users: Arc<Users>,
    shape: Shape,
) -> anyhow::Result<Measured> {
    let mut clients = Vec::new();
    let per_server = shape.connections.div_ceil(addrs.len()).max(1);
    for addr in addrs {
        clients.push(load::connect(*addr, token, per_server).await?);
    }
    // Interleaved, so that callers alternate between the servers.
    let clients: Vec<_> = (0..per_server)
        .flat_map(|i| clients.iter().map(move |c| c[i].clone()))
        .collect();
    load::drive_over(&clients, op, users, shape).await
}
