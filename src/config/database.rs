//! Where the data lives: the embedded store in `--data-dir`, or PostgreSQL at `--database-url`
//! (never both). The URL may carry a password: it is held so that `Debug` never shows it, and no
//! problem reported about it repeats it.

use std::{fmt, path::PathBuf};

use clap::Args;

use super::duration;
use crate::{
    domain::Echo,
    store::{DatabaseUrl, PgConfig},
};

/// The embedded store's directory when neither flag is given.
pub const DEFAULT_DATA_DIR: &str = "./data";

/// A flag's raw value that must never be printed (a URL with a password).
#[derive(Clone)]
pub struct SecretArg(String);

impl From<String> for SecretArg {
    fn from(raw: String) -> Self {
        Self(raw)
    }
}

impl fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretArg(..)")
    }
}

/// The PostgreSQL flags, shared by `serve` and `migrate`.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Keep the data in PostgreSQL, shared by every replica: postgres://USER:PASSWORD@HOST:PORT/DB
    /// (add ?sslmode=require or verify-full for TLS). Not together with --data-dir.
    #[arg(long, env = "LOGINPROFILED_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretArg>,
    /// Connections to PostgreSQL this process may hold, 1 to 10000.
    #[arg(
        long,
        env = "LOGINPROFILED_DATABASE_MAX_CONNECTIONS",
        default_value_t = 16
    )]
    pub database_max_connections: u32,
    /// How long making a database connection, or waiting for a free one, may take before the
    /// call fails as unavailable.
    #[arg(
        long,
        env = "LOGINPROFILED_DATABASE_CONNECT_TIMEOUT",
        default_value = "3s"
    )]
    pub database_connect_timeout: String,
    /// The longest a database statement may run (PostgreSQL's statement_timeout, set on each
    /// connection).
    #[arg(
        long,
        env = "LOGINPROFILED_DATABASE_STATEMENT_TIMEOUT",
        default_value = "5s"
    )]
    pub database_statement_timeout: String,
    /// The PostgreSQL schema that holds loginprofiled's tables (and its migration record),
    /// created at the first start or migrate: a lower-case name of letters, digits and _.
    #[arg(
        long,
        env = "LOGINPROFILED_DATABASE_SCHEMA",
        default_value = "loginprofiled"
    )]
    pub database_schema: String,
}

impl DatabaseArgs {
    /// The PostgreSQL configuration, None without `--database-url`.
    pub fn pg_config(&self) -> Result<Option<PgConfig>, Vec<String>> {
        let mut problems = Vec::new();
        let url = match &self.database_url {
            None => None,
            Some(raw) => DatabaseUrl::parse(&raw.0)
                .map_err(|reason| problems.push(format!("--database-url: {reason}")))
                .ok(),
        };
        if !(1..=10_000).contains(&self.database_max_connections) {
            problems.push(format!(
                "--database-max-connections {} must be between 1 and 10000",
                self.database_max_connections
            ));
        }
        let mut timeout = |flag: &str, raw: &str| match duration(flag, raw) {
            Ok(d) if d.is_zero() => {
                problems.push(format!("{flag} must be longer than 0s"));
                None
            }
            Ok(d) => Some(d),
            Err(problem) => {
                problems.push(problem);
                None
            }
        };
        let connect_timeout = timeout("--database-connect-timeout", &self.database_connect_timeout);
        let statement_timeout = timeout(
            "--database-statement-timeout",
            &self.database_statement_timeout,
        );
        if !is_plain_identifier(&self.database_schema) {
            problems.push(format!(
                "--database-schema {} must be 1 to 63 of a-z, 0-9 and _, not starting with a \
                 digit or pg_",
                Echo(&self.database_schema)
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(match (url, connect_timeout, statement_timeout) {
            (Some(url), Some(connect_timeout), Some(statement_timeout)) => Some(PgConfig {
                url,
                max_connections: self.database_max_connections,
                connect_timeout,
                statement_timeout,
                schema: self.database_schema.clone(),
            }),
            _ => None,
        })
    }
}

/// A PostgreSQL identifier that needs no quoting and is not reserved for the system.
fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
        && !name.starts_with("pg_")
}

/// The store's place: PostgreSQL, or the data directory (given or default); both is a problem.
pub(super) fn choose(
    data_dir: Option<PathBuf>,
    database: &DatabaseArgs,
) -> Result<(PathBuf, Option<PgConfig>), Vec<String>> {
    let pg = database.pg_config();
    if database.database_url.is_some() && data_dir.is_some() {
        let mut problems = vec![
            "--database-url and --data-dir are both given: the data lives either in PostgreSQL \
             or in the embedded store; give one"
                .to_owned(),
        ];
        problems.extend(pg.err().unwrap_or_default());
        return Err(problems);
    }
    let data_dir = data_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    Ok((data_dir, pg?))
}
