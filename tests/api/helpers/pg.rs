//! The PostgreSQL side of the harness: with `LOGINPROFILED_TEST_STORE=postgres` every test gets
//! a database of its own (`lp_<random hex>`) on `LOGINPROFILED_TEST_DATABASE_URL`, dropped when
//! the test is done with it.

use std::time::Duration;

use loginprofiled::store::{DatabaseUrl, PgConfig};
use sqlx::{Connection as _, PgConnection};

/// The schema the tables are in, as `serve` makes it by default.
pub const SCHEMA: &str = "loginprofiled";

/// Where test databases are made when `LOGINPROFILED_TEST_DATABASE_URL` is not set.
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// True when the suite runs on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("LOGINPROFILED_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// True (after saying why) when the calling test is about the embedded store only and the suite
/// runs on PostgreSQL: the caller returns at once.
pub fn sled_only(why: &str) -> bool {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: {why}");
    }
    on_postgres()
}

/// The URL test databases are made on.
pub fn admin_url() -> String {
    std::env::var("LOGINPROFILED_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// Whether PostgreSQL answers at the test URL. When it does not and
/// `LOGINPROFILED_TEST_DATABASE_URL` is set (as CI sets it), that is a failure (panics); when it
/// is not set, the PostgreSQL tests are skipped, saying so loudly.
pub fn answers_or_required() -> bool {
    let url = admin_url();
    let answered = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let connecting = PgConnection::connect(&url);
                match tokio::time::timeout(Duration::from_secs(5), connecting).await {
                    Ok(Ok(conn)) => {
                        let _ = conn.close().await;
                        Ok(())
                    }
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("no answer within 5 s".to_owned()),
                }
            })
    })
    .join()
    .unwrap();
    match answered {
        Ok(()) => true,
        Err(why) if std::env::var_os("LOGINPROFILED_TEST_DATABASE_URL").is_some() => {
            panic!("PostgreSQL at LOGINPROFILED_TEST_DATABASE_URL does not answer: {why}")
        }
        Err(why) => {
            eprintln!(
                "\n*** SKIPPED: the PostgreSQL tests: nothing answers at {DEFAULT_URL} ({why}); \
                 set LOGINPROFILED_TEST_DATABASE_URL to run them ***\n"
            );
            false
        }
    }
}

/// A database made for one test, dropped when the last handle goes.
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Makes a fresh database. Panics (never skips) when PostgreSQL does not answer.
    pub fn create() -> Self {
        let name = format!("lp_{}", uuid::Uuid::new_v4().simple());
        let url = with_database(&admin_url(), &name);
        admin(&format!("CREATE DATABASE {name}"));
        Self { name, url }
    }

    /// The store configuration of this database, with short timeouts.
    pub fn config(&self) -> PgConfig {
        Self::config_for_url(&self.url)
    }

    /// The store configuration the tests use, for the database at `url`.
    pub fn config_for_url(url: &str) -> PgConfig {
        PgConfig {
            url: DatabaseUrl::parse(url).unwrap(),
            max_connections: 8,
            connect_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(5),
            schema: SCHEMA.to_owned(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        admin(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let mut url = url::Url::parse(url).expect("LOGINPROFILED_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Runs one statement on the admin database, on a thread and runtime of its own (so that it
/// works from async tests and from `Drop` alike).
pub fn admin(sql: &str) {
    let sql = sql.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let mut conn = PgConnection::connect(&admin_url())
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL at LOGINPROFILED_TEST_DATABASE_URL does not answer \
                         (the suite runs on it because LOGINPROFILED_TEST_STORE=postgres): {e}"
                        )
                    });
                sqlx::query(&sql).execute(&mut conn).await.unwrap();
                let _ = conn.close().await;
            })
    })
    .join()
    .unwrap();
}
