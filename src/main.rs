//! The `loginprofiled` binary: parse the command line, then serve, check, export, import or
//! print a token.

use std::{process::ExitCode, sync::Arc};

use clap::Parser as _;
use loginprofiled::{
    access::new_token,
    config::{
        BlocklistCommand, CheckArgs, Cli, Command, ExportArgs, ImportArgs, LogFormat, MfaCommand,
        MigrateArgs, RotateKeysArgs, StoreArgs, TokenCommand,
    },
    domain, screening, server,
    store::{self, SledStore, Store, StoreConfig},
    telemetry, transfer,
};

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Token(TokenCommand::New { name, scopes }) => {
            let (token, entry) = new_token(&name, &scopes);
            println!(
                "# The token (shown once; give it to the caller as `authorization: Bearer <token>`):"
            );
            println!("{token}\n");
            println!("# Add this entry to the tokens file:");
            print!("{entry}");
            ExitCode::SUCCESS
        }
        Command::Check(args) => check(&args),
        Command::Export(args) => export(&args),
        Command::Import(args) => import(&args),
        Command::Migrate(args) => migrate(&args),
        Command::Blocklist(command) => blocklist(&command),
        Command::Mfa(MfaCommand::GenerateKey) => {
            println!("{}", loginprofiled::mfa::Keyring::generate_key_line());
            ExitCode::SUCCESS
        }
        Command::Mfa(MfaCommand::RotateKeys(args)) => rotate_keys(&args),
        Command::Serve(args) => {
            let config = match args.validate() {
                Ok(config) => config,
                Err(errors) => {
                    eprint!("loginprofiled: {errors}");
                    return ExitCode::from(2);
                }
            };
            // Held to the end: dropping it writes out the lines still queued.
            let _log_writer = telemetry::init(config.log_format);
            // The one rustls crypto provider, before anything could want one.
            loginprofiled::tls::install_crypto_provider();
            let runtime =
                tokio::runtime::Runtime::new().expect("starting the tokio runtime should not fail");
            match runtime.block_on(server::serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(
                        error = format!("{error:#}"),
                        "loginprofiled stopped on an error"
                    );
                    eprintln!("loginprofiled: {error:#}");
                    // A refusal the operator must fix, like a configuration error.
                    if error.downcast_ref::<server::Refused>().is_some() {
                        ExitCode::from(2)
                    } else {
                        ExitCode::FAILURE
                    }
                }
            }
        }
    }
}

/// `check`: the report on stdout; exit 0 when `serve` would start on the store.
fn check(args: &CheckArgs) -> ExitCode {
    let scratch = args.scratch_dir.as_deref();
    let checked = if args.accept_loss {
        SledStore::accept_loss(&args.data_dir, scratch)
    } else {
        SledStore::check_dir(&args.data_dir, scratch)
    };
    match checked {
        Ok(report) => {
            print!("{report}");
            if report.healthy() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("loginprofiled check: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `export`: the lines on stdout or in `--output`, a summary on stderr.
fn export(args: &ExportArgs) -> ExitCode {
    finish(
        "export",
        on_runtime(async {
            let open = || {
                let config = args.store.store_config().map_err(anyhow::Error::msg)?;
                store::open_existing(&config)
            };
            let counts = transfer::export_to(args.output.as_deref(), open).await?;
            Ok(format!("exported {counts}"))
        }),
    )
}

/// `import`: reads and checks the whole input, then writes it into the empty store.
fn import(args: &ImportArgs) -> ExitCode {
    finish(
        "import",
        on_runtime(async {
            // Checked whole before the store is even opened: a bad file changes nothing.
            let trailer = if args.accept_export_without_checksum {
                transfer::Trailer::MayLackChecksum
            } else {
                transfer::Trailer::Checked
            };
            let snapshot = transfer::read_from(args.input.as_deref(), trailer)?;
            let store = open(&args.store)?;
            let counts = transfer::import(&*store, snapshot).await?;
            Ok(format!("imported {counts}"))
        }),
    )
}

/// `mfa rotate-keys`: every seed sealed under the key file's first key.
fn rotate_keys(args: &RotateKeysArgs) -> ExitCode {
    finish(
        "mfa rotate-keys",
        on_runtime(async {
            let keys = loginprofiled::mfa::Keyring::load(&args.mfa_key_file)?;
            keys.warn_if_exposed();
            let config = args.store.store_config().map_err(anyhow::Error::msg)?;
            let store = store::open_existing(&config)?;
            let unopenable = domain::devices_without_key(&*store, Some(&keys))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            anyhow::ensure!(
                unopenable.is_empty(),
                "{} MFA device seed(s) (the first: {}) are sealed under keys {} does not hold; \
                 nothing was changed",
                unopenable.len(),
                unopenable[0],
                args.mfa_key_file.display()
            );
            let resealed = domain::reseal_mfa_seeds(&*store, &keys)
                .await
                .map_err(|e| match e.fault() {
                    Some(cause) => anyhow::anyhow!("{e}: {cause:#}"),
                    None => anyhow::anyhow!("{e}"),
                })?;
            store.flush().await?;
            Ok(format!(
                "{resealed} MFA seed(s) re-encrypted under key {}",
                keys.primary_id()
            ))
        }),
    )
}

fn open(args: &StoreArgs) -> anyhow::Result<Arc<dyn Store>> {
    let config = args.store_config().map_err(anyhow::Error::msg)?;
    store::open(&config)
}

fn on_runtime(job: impl Future<Output = anyhow::Result<String>>) -> anyhow::Result<String> {
    // Held until the job is done: dropping it writes out the lines still queued.
    let _log_writer = telemetry::init(LogFormat::Text);
    // A database URL may ask for TLS.
    loginprofiled::tls::install_crypto_provider();
    tokio::runtime::Runtime::new()
        .expect("starting the tokio runtime should not fail")
        .block_on(job)
}

/// Says how a command ended on stderr (stdout may carry the export).
fn finish(command: &str, outcome: anyhow::Result<String>) -> ExitCode {
    match outcome {
        Ok(summary) => {
            eprintln!("loginprofiled {command}: {summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("loginprofiled {command}: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `blocklist build` (summary on stderr) and `blocklist check` (exit 0 listed, 1 not, 2 error).
fn blocklist(command: &BlocklistCommand) -> ExitCode {
    match command {
        BlocklistCommand::Build(args) => {
            finish("blocklist build", screening::command::build_file(args))
        }
        BlocklistCommand::Check(args) => match screening::command::check(args) {
            Ok((listed, answer)) => {
                println!("{answer}");
                ExitCode::from(if listed { 0 } else { 1 })
            }
            Err(error) => {
                eprintln!("loginprofiled blocklist check: {error:#}");
                ExitCode::from(2)
            }
        },
    }
}

/// `migrate`: applies the pending migrations; exit 2 for a bad configuration, 1 on failure.
fn migrate(args: &MigrateArgs) -> ExitCode {
    let pg = match args.database.pg_config() {
        Ok(Some(pg)) => pg,
        Ok(None) => {
            eprintln!(
                "loginprofiled migrate: --database-url (or LOGINPROFILED_DATABASE_URL) is required"
            );
            return ExitCode::from(2);
        }
        Err(problems) => {
            eprint!(
                "loginprofiled migrate: {}",
                loginprofiled::config::ConfigErrors(problems)
            );
            return ExitCode::from(2);
        }
    };
    loginprofiled::tls::install_crypto_provider();
    let runtime =
        tokio::runtime::Runtime::new().expect("starting the tokio runtime should not fail");
    match runtime.block_on(store::migrate(&StoreConfig::Postgres(pg.clone()))) {
        Ok(()) => {
            println!(
                "the schema of {} is at version {}",
                pg.url,
                store::newest_schema_version()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("loginprofiled migrate: {error:#}");
            ExitCode::FAILURE
        }
    }
}
