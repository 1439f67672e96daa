//! MFA's flags: `serve --mfa-key-file/--mfa-issuer` (checked here) and the `mfa` subcommands.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Problems, StoreArgs};
use crate::mfa::{self, Keyring};

/// The flags of virtual MFA devices, flattened into `serve`.
#[derive(Debug, Clone, Args)]
pub struct MfaArgs {
    /// The keys that encrypt MFA seeds at rest: one a line, standard base64 of 32 random bytes
    /// (`loginprofiled mfa generate-key`), `#` comments allowed; the first key encrypts, every
    /// key decrypts (rotation). Mode 0600 expected. Re-read within 10 s of a change; a file
    /// that cannot open every stored seed is logged and not used. Without it, creating,
    /// enabling and resyncing devices fail, and a store that holds devices is refused.
    #[arg(long, env = "LOGINPROFILED_MFA_KEY_FILE", value_name = "FILE")]
    pub mfa_key_file: Option<PathBuf>,
    /// The issuer an authenticator app shows for the devices (in the otpauth URI).
    #[arg(
        long,
        env = "LOGINPROFILED_MFA_ISSUER",
        default_value = "loginprofiled"
    )]
    pub mfa_issuer: String,
}

impl MfaArgs {
    /// The key file read now (a file that cannot be read or holds a bad line is a problem) and
    /// the issuer.
    pub(super) fn validate(&self, problems: &mut Problems) -> Option<(Option<Keyring>, String)> {
        let keys = match &self.mfa_key_file {
            Some(path) => {
                problems.keep(Keyring::load(path).map(Some).map_err(|e| format!("{e:#}")))
            }
            None => Some(None),
        };
        let issuer = problems.keep(
            mfa::validate_issuer(&self.mfa_issuer)
                .map(|()| self.mfa_issuer.clone())
                .map_err(|e| format!("--mfa-issuer: {e}")),
        );
        Some((keys?, issuer?))
    }
}

#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Prints a new key for the MFA key file: 32 random bytes in standard base64. Put it first
    /// in the file to have new seeds sealed under it.
    GenerateKey,
    /// Re-encrypts every MFA seed that is not sealed under the key file's first key, and
    /// reports how many. On PostgreSQL it runs beside serving replicas; the embedded store
    /// must be stopped (a serving process re-encrypts by itself when its key file changes).
    RotateKeys(RotateKeysArgs),
}

/// Flags of `mfa rotate-keys`.
#[derive(Debug, Args)]
pub struct RotateKeysArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The key file; its first key seals, every key opens.
    #[arg(long, env = "LOGINPROFILED_MFA_KEY_FILE", value_name = "FILE")]
    pub mfa_key_file: PathBuf,
}
