//! The `loginprofiled` binary: parse the command line, then serve or print a token.

use std::process::ExitCode;

use clap::Parser as _;
use loginprofiled::{
    access::new_token,
    config::{Cli, Command, TokenCommand},
    server, telemetry,
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
        Command::Serve(args) => {
            let config = match args.validate() {
                Ok(config) => config,
                Err(errors) => {
                    eprint!("loginprofiled: {errors}");
                    return ExitCode::from(2);
                }
            };
            telemetry::init(config.log_format);
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
