//! Which store to open: the flags `serve`, `export` and `import` share.

use std::path::PathBuf;

use clap::Args;

use crate::store::StoreConfig;

/// Store-selection flags, flattened into every command that opens a store.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded store.
    #[arg(long, env = "LOGINPROFILED_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Memory for sled's page cache, in MiB (sled's own default of 1 GiB would grow with data).
    #[arg(long, env = "LOGINPROFILED_STORE_CACHE_MIB", default_value_t = 64)]
    pub store_cache_mib: u64,
}

impl StoreArgs {
    /// The store these flags select.
    pub fn store_config(&self) -> Result<StoreConfig, String> {
        if self.store_cache_mib == 0 {
            return Err("--store-cache-mib must be at least 1".to_owned());
        }
        Ok(StoreConfig::Sled {
            data_dir: self.data_dir.clone(),
            cache_bytes: self.store_cache_mib.saturating_mul(1024 * 1024),
        })
    }
}
