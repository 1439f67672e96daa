//! Opening a data directory safely (the format marker, a corrupt or held store) and bulk
//! loading prepared data sets.

use std::{
    path::Path,
    sync::{Arc, atomic::AtomicBool},
};

use anyhow::Context as _;
use prost::Message;

use super::SledStore;
use crate::store::{ProfileRecord, StoreResult, UserRecord};

const FORMAT_KEY: &[u8] = b"format";
const FORMAT_VERSION: &[u8] = b"loginprofiled/1";

impl SledStore {
    /// Opens (or creates) the store in `dir` with a page cache of `cache_bytes`. Fails when
    /// another process holds the directory, or when it holds data this version cannot read.
    pub fn open(dir: &Path, cache_bytes: u64) -> anyhow::Result<Self> {
        // sled starts empty on a log it cannot read at all; a database file with content but
        // no format marker after opening is such a case, and must not pass as a fresh store.
        let had_data = std::fs::metadata(dir.join("db")).is_ok_and(|m| m.len() > 0);
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(200))
            .open()
            .map_err(|e| open_error(dir, e))?;
        if had_data && db.get(FORMAT_KEY)?.is_none() {
            anyhow::bail!(
                "the store in {} has a database file but no readable loginprofiled data; \
                 it may be corrupt (refusing to start rather than serve an empty store)",
                dir.display()
            );
        }
        Self::from_db(db)
    }

    /// A store that lives in memory only, for tests and benchmarks that need no durability.
    pub fn temporary() -> anyhow::Result<Self> {
        Self::from_db(sled::Config::new().temporary(true).open()?)
    }

    /// Writes users and their profiles in large batches, then flushes once: for loading data
    /// sets made elsewhere (profiles carry precomputed PHC strings). Existing keys are
    /// overwritten; the caller supplies consistent records.
    pub fn bulk_load(
        &self,
        records: impl IntoIterator<Item = (String, UserRecord, Option<ProfileRecord>)>,
    ) -> StoreResult<usize> {
        const BATCH: usize = 10_000;
        let mut loaded = 0;
        let mut users = sled::Batch::default();
        let mut profiles = sled::Batch::default();
        for (key, user, profile) in records {
            users.insert(key.as_bytes(), user.encode_to_vec());
            if let Some(profile) = profile {
                profiles.insert(key.as_bytes(), profile.encode_to_vec());
            }
            loaded += 1;
            if loaded % BATCH == 0 {
                self.users.apply_batch(std::mem::take(&mut users))?;
                self.profiles.apply_batch(std::mem::take(&mut profiles))?;
            }
        }
        self.users.apply_batch(users)?;
        self.profiles.apply_batch(profiles)?;
        self.db.flush().context("flushing the bulk load")?;
        Ok(loaded)
    }

    fn from_db(db: sled::Db) -> anyhow::Result<Self> {
        match db.get(FORMAT_KEY)? {
            None => {
                db.insert(FORMAT_KEY, FORMAT_VERSION)?;
                db.flush()?;
            }
            Some(found) if found == FORMAT_VERSION => {}
            Some(found) => anyhow::bail!(
                "the data directory holds format {:?}, this build reads {:?}",
                String::from_utf8_lossy(&found),
                String::from_utf8_lossy(FORMAT_VERSION)
            ),
        }
        Ok(Self {
            users: db.open_tree("users")?,
            profiles: db.open_tree("profiles")?,
            policy: db.open_tree("policy")?,
            lockouts: db.open_tree("lockouts")?,
            db,
            failed: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// Says plainly what went wrong: sled reports a held lock as a bare I/O error.
fn open_error(dir: &Path, error: sled::Error) -> anyhow::Error {
    let held = matches!(&error, sled::Error::Io(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        || error.to_string().contains("lock");
    let error = anyhow::Error::new(error);
    if held {
        error.context(format!(
            "opening the sled store in {}: another process holds it (only one loginprofiled \
             may use a data directory)",
            dir.display()
        ))
    } else {
        error.context(format!("opening the sled store in {}", dir.display()))
    }
}
