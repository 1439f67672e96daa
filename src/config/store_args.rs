//! Which store to open: the flags `serve`, `export` and `import` share, and the commands that
//! only move or migrate a store.

use std::path::PathBuf;

use clap::Args;

use super::{ConfigErrors, DatabaseArgs, database};
use crate::store::StoreConfig;

/// Store-selection flags, flattened into every command that opens a store: the embedded store
/// in `--data-dir`, or PostgreSQL at `--database-url` (never both).
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded store (one process at a time) [default: ./data]. Not together
    /// with --database-url.
    #[arg(long, env = "LOGINPROFILED_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Memory for sled's page cache, in MiB, at least 1 (sled's own default of 1 GiB would grow
    /// with data).
    #[arg(long, env = "LOGINPROFILED_STORE_CACHE_MIB", default_value_t = 64)]
    pub store_cache_mib: u64,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl StoreArgs {
    /// The store these flags select, or every problem with them.
    pub fn store_config(&self) -> Result<StoreConfig, ConfigErrors> {
        let mut problems = Vec::new();
        if self.store_cache_mib == 0 {
            problems.push("--store-cache-mib must be at least 1".to_owned());
        }
        match database::choose(self.data_dir.clone(), &self.database) {
            Ok(_) if !problems.is_empty() => Err(ConfigErrors(problems)),
            Ok((_, Some(pg))) => Ok(StoreConfig::Postgres(pg)),
            Ok((data_dir, None)) => Ok(StoreConfig::Sled {
                data_dir,
                cache_bytes: self.store_cache_mib.saturating_mul(1024 * 1024),
            }),
            Err(more) => {
                problems.extend(more);
                Err(ConfigErrors(problems))
            }
        }
    }
}

/// Flags of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Write to this new file (made with mode 0600; an existing file is not overwritten)
    /// instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Flags of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Read this file instead of stdin.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Also accept an export from before exports carried a checksum (format version 1, no
    /// sha256 on its "end" line), with a warning: a byte changed in it since export cannot be
    /// detected.
    #[arg(long)]
    pub accept_export_without_checksum: bool,
}

/// Flags of `migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}
