//! Configuration: command-line flags, each also read from a `LOGINPROFILED_*` variable, turned
//! into a typed [`ServeConfig`] once at start. Every problem is reported, not just the first.

use std::{fmt, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{
    access::{Scope, Tokens},
    domain::{Echo, LockoutRule},
    mfa::Keyring,
    password::{HashCost, PoolSize},
    screening::Screening,
    store::PgConfig,
    tls::Tls,
};

mod bounds;
mod database;
mod listen;
mod mfa_args;
mod screening_args;
mod store_args;
mod transport;

pub use database::{DEFAULT_DATA_DIR, DatabaseArgs, SecretArg};
pub use listen::ListenAddr;
use listen::parse_http_listen;
pub use mfa_args::{MfaArgs, MfaCommand, RotateKeysArgs};
pub use screening_args::{BlocklistCommand, BuildArgs, CheckListArgs, Switch};
pub use store_args::{ExportArgs, ImportArgs, MigrateArgs, StoreArgs};

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "loginprofiled",
    version,
    about = "IAM-style login profiles over gRPC"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the service.
    Serve(Box<ServeArgs>),
    /// Manages caller tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Reads every record of a stopped store and reports what is wrong, changing nothing.
    ///
    /// It opens a copy of the data directory, since sled's recovery writes to what it opens.
    /// Exits 0 when `serve` would start on the store, 1 otherwise.
    Check(CheckArgs),
    /// Writes every user, login profile (hashes verbatim) and the password policy as JSON
    /// lines, to stdout or a new file.
    ///
    /// Run it on a stopped store, or one no server writes to meanwhile.
    Export(ExportArgs),
    /// Reads what `export` wrote into an empty store: all of it, or nothing.
    ///
    /// The whole input is read and checked before anything is written.
    Import(ImportArgs),
    /// Applies the pending PostgreSQL schema migrations and exits (e.g. as a Kubernetes Job
    /// before a rollout). `serve` applies them too.
    Migrate(MigrateArgs),
    /// Compiles password blocklists, and checks a password against them, without a server.
    #[command(subcommand)]
    Blocklist(BlocklistCommand),
    /// Makes keys for MFA seeds, and re-encrypts the stored seeds under a new one.
    #[command(subcommand)]
    Mfa(MfaCommand),
}

/// Flags of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Directory of the embedded store.
    #[arg(long, env = "LOGINPROFILED_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Where the copy that is opened goes [default: the system's temporary directory].
    #[arg(long)]
    pub scratch_dir: Option<PathBuf>,
    /// When every record still reads, make the store servable with what it holds: the
    /// acknowledged writes it lacks are given up for good. This changes the store.
    #[arg(long)]
    pub accept_loss: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Prints a fresh random token once, and the tokens-file entry that admits it.
    New {
        /// The token's name, as the access log shows it.
        #[arg(long)]
        name: String,
        /// A scope to grant; repeat for several.
        #[arg(long = "scope", required = true, value_enum)]
        scopes: Vec<Scope>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Flags of `serve`, as given.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to serve gRPC: HOST:PORT, or unix:/path/to.sock. Without --tokens-file only a
    /// loopback address or a Unix socket is served (see --insecure-no-auth).
    #[arg(long, env = "LOGINPROFILED_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: String,
    /// Where to serve the IAM Query API over HTTP: HOST:PORT, or `off`. The same loopback rule
    /// as --listen.
    #[arg(
        long,
        env = "LOGINPROFILED_HTTP_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub http_listen: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// TOML file of caller tokens; without one, only local callers are served.
    #[arg(long, env = "LOGINPROFILED_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,
    /// Serve a non-loopback address without any caller authentication.
    #[arg(long, env = "LOGINPROFILED_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// The 12-digit account id in ARNs and messages.
    #[arg(long, env = "LOGINPROFILED_ACCOUNT_ID", default_value = "123456789012")]
    pub account_id: String,
    /// Log lines as text (coloured only on a terminal) or JSON; the level comes from RUST_LOG
    /// (default info; sled never below info, since its debug output prints stored records).
    #[arg(
        long,
        env = "LOGINPROFILED_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// argon2id memory per hash, in KiB: 8 x lanes to 262144 (the bound every stored hash is
    /// held to). A change applies to new hashes at once, and to stored ones at each user's next
    /// successful sign-in.
    #[arg(
        long,
        env = "LOGINPROFILED_ARGON2_MEMORY_KIB",
        default_value_t = 19_456
    )]
    pub argon2_memory_kib: u32,
    /// argon2id passes over the memory per hash, 1 to 16.
    #[arg(long, env = "LOGINPROFILED_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    /// argon2id lanes per hash, 1 to 16.
    #[arg(long, env = "LOGINPROFILED_ARGON2_PARALLELISM", default_value_t = 1)]
    pub argon2_parallelism: u32,
    /// Hashes computed at once, 1 to 1024; each thread holds one argon2 buffer [default: the
    /// number of CPUs].
    #[arg(long, env = "LOGINPROFILED_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,
    /// Calls that may wait for a hashing thread (0: none wait), at most 100000; more fail at
    /// once with Throttling.
    #[arg(long, env = "LOGINPROFILED_HASH_QUEUE", default_value_t = 256)]
    pub hash_queue: usize,
    /// After SIGTERM, keep serving this long (health already NOT_SERVING) before draining.
    #[arg(long, env = "LOGINPROFILED_DRAIN_DELAY", default_value = "0s")]
    pub drain_delay: String,
    /// How long in-flight calls may take to finish once draining starts.
    #[arg(long, env = "LOGINPROFILED_GRACE_PERIOD", default_value = "10s")]
    pub grace_period: String,
    /// Consecutive failed verifications that lock a user name; 0 turns lockout off.
    #[arg(long, env = "LOGINPROFILED_LOCKOUT_THRESHOLD", default_value_t = 10)]
    pub lockout_threshold: u32,
    /// The first lock's length; each further failure doubles it. Longer than 0s unless lockout
    /// is off.
    #[arg(long, env = "LOGINPROFILED_LOCKOUT_BASE", default_value = "1s")]
    pub lockout_base: String,
    /// The longest lock.
    #[arg(long, env = "LOGINPROFILED_LOCKOUT_MAX", default_value = "15m")]
    pub lockout_max: String,
    /// Open client connections per listener (gRPC, Query API), at least 1; further ones wait in
    /// the listen backlog until one closes.
    #[arg(long, env = "LOGINPROFILED_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Concurrent HTTP/2 streams (calls) per gRPC connection, at least 1.
    #[arg(
        long,
        env = "LOGINPROFILED_MAX_CONCURRENT_STREAMS",
        default_value_t = 256
    )]
    pub max_concurrent_streams: u32,
    /// Largest gRPC request message accepted, in bytes, at least 1 (passwords are at most 128
    /// characters).
    #[arg(long, env = "LOGINPROFILED_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    pub max_message_bytes: usize,
    /// PEM certificate (chain, leaf first) to serve TLS with on --listen (TCP) and
    /// --http-listen; needs --tls-key. Re-read when it changes.
    #[arg(long, env = "LOGINPROFILED_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1); re-read with it.
    #[arg(long, env = "LOGINPROFILED_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificate(s): clients must present a certificate signed by one (mutual TLS);
    /// needs --tls-cert. Re-read when it changes.
    #[arg(long, env = "LOGINPROFILED_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,
    /// Also serve plaintext gRPC health (grpc.health.v1.Health only) on HOST:PORT, for probes
    /// that cannot speak TLS [default: off].
    #[arg(long, env = "LOGINPROFILED_HEALTH_LISTEN")]
    pub health_listen: Option<String>,

    /// Serve Prometheus metrics (`GET /metrics`, plain HTTP) on HOST:PORT [default: off].
    #[arg(long, env = "LOGINPROFILED_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,

    /// Also append the audit trail (one JSON line per change and sign-in) to FILE (created with
    /// mode 0600), written before each reply. It is always logged on the `audit` target.
    #[arg(long, env = "LOGINPROFILED_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,

    /// Refuse new passwords that are on a blocklist or based on the user name or account ID
    /// (`on`), or accept exactly what IAM accepts (`off`). A right password found on a list at
    /// sign-in marks the profile PasswordResetRequired.
    #[arg(
        long,
        env = "LOGINPROFILED_PASSWORD_SCREENING",
        value_enum,
        default_value = "on"
    )]
    pub password_screening: Switch,

    /// A blocklist besides the built-in one: compiled (`blocklist build`), Pwned Passwords
    /// SHA-1 (`HASH[:COUNT]` lines) or plain text (one password a line, any case), told apart by
    /// content. Repeat for several (comma-separated in the variable). Reloaded within 10 s of a
    /// change.
    #[arg(
        long = "password-blocklist",
        value_name = "FILE",
        env = "LOGINPROFILED_PASSWORD_BLOCKLIST",
        value_delimiter = ','
    )]
    pub password_blocklist: Vec<PathBuf>,

    #[command(flatten)]
    pub mfa: MfaArgs,
}

/// The validated configuration of `serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: ListenAddr,
    /// The Query API's address; None when `--http-listen off`.
    pub http_listen: Option<SocketAddr>,
    /// The embedded store's directory (unused when `database` is set).
    pub data_dir: PathBuf,
    /// PostgreSQL instead of the embedded store.
    pub database: Option<PgConfig>,
    /// None: every caller is admitted.
    pub tokens: Option<Arc<Tokens>>,
    pub insecure_no_auth: bool,
    pub account_id: String,
    pub log_format: LogFormat,
    pub hash_cost: HashCost,
    pub pool: PoolSize,
    pub drain_delay: Duration,
    pub grace_period: Duration,
    pub lockout: LockoutRule,
    pub limits: Limits,
    /// TLS on the TCP listeners; None: plaintext.
    pub tls: Option<Tls>,
    /// The plaintext health-only gRPC address, if any.
    pub health_listen: Option<SocketAddr>,
    /// Where Prometheus metrics are served, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// The audit trail's file, if any.
    pub audit_log: Option<PathBuf>,
    /// The password blocklists in force (off: none).
    pub screening: Screening,
    /// The keys of MFA seeds; None without `--mfa-key-file`.
    pub mfa_keys: Option<Arc<Keyring>>,
    /// Where the keys came from, for messages.
    pub mfa_key_file: Option<PathBuf>,
    pub mfa_issuer: String,
}

/// Bounds on what callers can make the server hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// sled page cache, in bytes.
    pub store_cache_bytes: u64,
    pub max_connections: usize,
    pub max_concurrent_streams: u32,
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            store_cache_bytes: 64 * 1024 * 1024,
            max_connections: 1024,
            max_concurrent_streams: 256,
            max_message_bytes: 64 * 1024,
        }
    }
}

/// Every problem found in the configuration.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl ServeArgs {
    /// Checks everything before anything binds or opens.
    pub fn validate(self) -> Result<ServeConfig, ConfigErrors> {
        let mut problems = Problems::default();

        let listen = problems.keep(ListenAddr::parse(&self.listen));
        let http_listen = problems.keep(parse_http_listen(&self.http_listen));
        let store = problems.keep_all(database::choose(
            self.store.data_dir.clone(),
            &self.store.database,
        ));
        let tokens = match &self.tokens_file {
            Some(path) => problems.keep(Tokens::load(path).map(Some).map_err(|e| format!("{e:#}"))),
            None => Some(None),
        };
        let account_id = problems.keep(
            (self.account_id.len() == 12 && self.account_id.bytes().all(|b| b.is_ascii_digit()))
                .then(|| self.account_id.clone())
                .ok_or_else(|| {
                    format!("--account-id {} must be 12 digits", Echo(&self.account_id))
                }),
        );
        let hash_cost = HashCost {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        };
        problems.keep(
            hash_cost
                .params()
                .map(drop)
                .map_err(|e| format!("argon2 parameters: {e}")),
        );
        let pool = problems.keep_all(self.pool());
        let limits = problems.keep_all(self.limits());
        let tls = self.tls(&mut problems);
        let health_listen = problems.keep(self.health_listen_addr());
        let metrics_listen = problems.keep(self.metrics_listen_addr());
        let drain_delay = problems.keep(duration("--drain-delay", &self.drain_delay));
        let grace_period = problems.keep(duration("--grace-period", &self.grace_period));
        let lockout_base = problems.keep(duration("--lockout-base", &self.lockout_base));
        let lockout_max = problems.keep(duration("--lockout-max", &self.lockout_max));
        let screening = problems.keep_all(self.screening());
        let mfa = self.mfa.validate(&mut problems);
        let lockout = match (lockout_base, lockout_max) {
            (Some(base), Some(max)) => problems.keep_all(self.lockout(base, max)),
            _ => None,
        };
        if let (Some(listen), Some(None)) = (&listen, &tokens)
            && !listen.is_local()
            && !self.insecure_no_auth
        {
            {
                problems.0.push(format!(
                    "--listen {listen} is not a loopback address and no --tokens-file is given; \
                     give one, or --insecure-no-auth to serve every caller unauthenticated"
                ));
            }
        }
        if let (Some(Some(http)), Some(None)) = (&http_listen, &tokens)
            && !http.ip().is_loopback()
            && !self.insecure_no_auth
        {
            problems.0.push(format!(
                "--http-listen {http} is not a loopback address and no --tokens-file is given; \
                 give one, or --insecure-no-auth to serve every caller unauthenticated"
            ));
        }

        match (
            (listen, http_listen),
            tokens,
            account_id,
            pool,
            limits,
            (drain_delay, grace_period),
            lockout,
            (tls, health_listen, metrics_listen),
            (store, screening, mfa),
        ) {
            (
                (Some(listen), Some(http_listen)),
                Some(tokens),
                Some(account_id),
                Some(pool),
                Some(limits),
                (Some(drain_delay), Some(grace_period)),
                Some(lockout),
                (Some(tls), Some(health_listen), Some(metrics_listen)),
                (Some((data_dir, database)), Some(screening), Some((mfa_keys, mfa_issuer))),
            ) if problems.0.is_empty() => Ok(ServeConfig {
                listen,
                http_listen,
                data_dir,
                database,
                tokens: tokens.map(Arc::new),
                insecure_no_auth: self.insecure_no_auth,
                account_id,
                log_format: self.log_format,
                hash_cost,
                pool,
                drain_delay,
                grace_period,
                lockout,
                limits,
                tls,
                health_listen,
                metrics_listen,
                audit_log: self.audit_log,
                screening,
                mfa_keys: mfa_keys.map(Arc::new),
                mfa_key_file: self.mfa.mfa_key_file,
                mfa_issuer,
            }),
            _ => Err(ConfigErrors(problems.0)),
        }
    }
}

/// Problems found so far; keeps the value of each check that passed.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn keep<T>(&mut self, result: Result<T, String>) -> Option<T> {
        result.map_err(|problem| self.0.push(problem)).ok()
    }

    fn keep_all<T>(&mut self, result: Result<T, Vec<String>>) -> Option<T> {
        result.map_err(|problems| self.0.extend(problems)).ok()
    }
}

fn duration(flag: &str, raw: &str) -> Result<Duration, String> {
    humantime::parse_duration(raw)
        .map_err(|e| format!("{flag} {}: {e} (e.g. 500ms, 10s, 15m)", Echo(raw)))
}

#[cfg(test)]
mod tests;
