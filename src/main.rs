//! The `loginprofiled` binary: parse the command line, then serve or print a token.

use std::process::ExitCode;

use clap::Parser as _;
use loginprofiled::{
    access::new_token,
    config::{CheckArgs, Cli, Command, TokenCommand},
    server,
    store::SledStore,
    telemetry,
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
                    ExitCode::FAILURE
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
