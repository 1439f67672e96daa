//! PostgreSQL only: the schema's migrations, start-up errors, an unreachable database, and
//! replicas sharing one database. These run when `LOGINPROFILED_TEST_STORE=postgres` (as CI
//! does) and fail loudly when PostgreSQL does not answer; otherwise they say they are skipped.

use std::{
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::{TestDb, on_postgres, with_database};

mod cluster;
mod faults;
mod hostile_hash;
mod outage;
mod processes;
mod replicas;
mod schema;
mod stopped;

/// True (after saying why) when the suite is not running on PostgreSQL.
fn not_on_postgres() -> bool {
    if !on_postgres() {
        eprintln!("skipped: set LOGINPROFILED_TEST_STORE=postgres to run the PostgreSQL tests");
    }
    !on_postgres()
}

/// Runs the binary with `args` to its end (bounded: 30 s), with no database URL in its
/// environment but the one given.
fn run(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_loginprofiled"))
        .args(args)
        .env_remove("LOGINPROFILED_DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_bounded(child, Duration::from_secs(30));
    (output, started.elapsed())
}

fn wait_bounded(mut child: std::process::Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the binary did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn serve_args(url: &str) -> Vec<String> {
    [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "off",
        "--database-connect-timeout",
        "2s",
        "--database-url",
        url,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn migrate_applies_the_schema_once_and_exits_0() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    for _ in 0..2 {
        let (output, _) = run(&["migrate", "--database-url", &db.url]);
        assert!(output.status.success(), "{}", stderr(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let newest = loginprofiled::store::newest_schema_version();
        assert!(
            stdout.contains(&format!("is at version {newest}")),
            "{stdout}"
        );
    }
}

#[test]
fn a_url_asking_for_tls_is_served_over_tls() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    // With sslmode=require a server that cannot speak TLS is refused, so success means rustls
    // negotiated it.
    let url = format!("{}?sslmode=require", db.url);
    let (output, _) = run(&["migrate", "--database-url", &url]);
    assert!(output.status.success(), "{}", stderr(&output));
    let (output, _) = run(&[
        "migrate",
        "--database-url",
        &format!("{}?sslmode=verify-full", db.url),
    ]);
    // The test server's certificate is self-signed: checking it against the web roots fails.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

#[test]
fn several_processes_migrating_one_database_at_once_all_succeed() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_loginprofiled"))
                .args(["migrate", "--database-url", &db.url])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = wait_bounded(child, Duration::from_secs(30));
        assert!(output.status.success(), "{}", stderr(&output));
    }
}

#[test]
fn a_schema_newer_than_the_binary_is_refused_with_exit_1() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    let (output, _) = run(&["migrate", "--database-url", &db.url]);
    assert!(output.status.success(), "{}", stderr(&output));
    // What a newer binary's migration leaves behind.
    on_database(
        &db,
        "INSERT INTO loginprofiled._sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', true, '\\x00', 0)",
    );
    for args in [
        serve_args(&db.url),
        vec!["migrate".into(), "--database-url".into(), db.url.clone()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (output, _) = run(&args);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("schema is at version 9999, newer than this binary knows"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn start_up_errors_are_clear_quick_and_never_show_the_password() {
    if not_on_postgres() {
        return;
    }
    let secret = "s3cret-pw";
    // Nothing listens on the port: refused within the connect timeout.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let cases = [
        (
            format!("postgres://app:{secret}@127.0.0.1:notaport/db"),
            2,
            "--database-url",
        ),
        (
            format!("postgres://app:{secret}@127.0.0.1:{port}/db"),
            1,
            "Connection refused",
        ),
        (
            with_database(
                &crate::helpers::admin_url().replace("postgres@", &format!("nobody_lp:{secret}@")),
                "test",
            ),
            1,
            "nobody_lp",
        ),
    ];
    for (url, code, says) in cases {
        let args = serve_args(&url);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (output, took) = run(&args);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(code), "{text}");
        assert!(text.contains(says), "{text}");
        assert!(!text.contains(secret), "the password leaked: {text}");
        assert!(took < Duration::from_secs(10), "took {took:?}: {text}");
    }
}

/// Runs one statement on the test's database.
fn on_database(db: &TestDb, sql: &str) {
    let url = db.url.clone();
    let sql = sql.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                use sqlx::Connection as _;
                let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::query(&sql).execute(&mut conn).await.unwrap();
            })
    })
    .join()
    .unwrap();
}
