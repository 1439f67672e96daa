//! Bench data sets, written straight into the sled store with one precomputed PHC string, so a
//! million users load in minutes rather than the hours hashing each would take.

use std::{
    path::Path,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use loginprofiled::store::{ProfileRecord, SledStore, UserRecord};
use serde::Serialize;

/// What loading a data set cost.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Loaded {
    pub(crate) profiles: usize,
    pub(crate) users_without_profile: usize,
    pub(crate) load_seconds: f64,
    pub(crate) bytes_on_disk: u64,
    pub(crate) bytes_per_profile: f64,
}

/// Writes users `u0..profiles` with a login profile whose hash is `phc`, and users
/// `c0..creatable` without one, into a new store in `dir`.
pub(crate) fn load(
    dir: &Path,
    cache_bytes: u64,
    profiles: usize,
    creatable: usize,
    phc: &str,
) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let now_ms = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;
    {
        let store = SledStore::open(dir, cache_bytes)?;
        let user = |name: String| UserRecord {
            user_id: format!("AIDABENCH{:012}", name.len()),
            user_name: name,
            path: "/".to_owned(),
            create_date_ms: now_ms,
            password_last_used_ms: None,
            tags: Vec::new(),
        };
        let with_profile = (0..profiles).map(|i| {
            let profile = ProfileRecord {
                password_hash: phc.to_owned(),
                create_date_ms: now_ms,
                password_reset_required: false,
                password_set_ms: now_ms,
                previous_hashes: Vec::new(),
                version: 0,
            };
            (format!("u{i}"), user(format!("u{i}")), Some(profile))
        });
        let without = (0..creatable).map(|i| (format!("c{i}"), user(format!("c{i}")), None));
        store.bulk_load(with_profile.chain(without))?;
    }
    let load_seconds = started.elapsed().as_secs_f64();
    // sled writes in the background for a moment after the last handle drops.
    std::thread::sleep(Duration::from_millis(500));
    let bytes_on_disk = dir_size(dir)?;
    Ok(Loaded {
        profiles,
        users_without_profile: creatable,
        load_seconds,
        bytes_on_disk,
        bytes_per_profile: bytes_on_disk as f64 / (profiles + creatable).max(1) as f64,
    })
}

/// Bytes of every file under `dir`.
pub(crate) fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
