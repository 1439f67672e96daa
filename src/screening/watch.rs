//! One operator's list file, swapped in place when it changes: a change is taken once two looks
//! at the file's size, time and inode agree, so a file caught half-written is not loaded.

use std::{
    os::unix::fs::MetadataExt as _,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use anyhow::Context as _;

use super::{CompiledList, read_list};

/// How often list files are looked at; a change is in use within two intervals plus its load.
pub const RELOAD_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// A list file that changed and could not be loaded (the previous version stays in use).
#[derive(Debug)]
pub struct ReloadError {
    pub path: PathBuf,
    pub cause: anyhow::Error,
}

/// A list file that was loaded again.
#[derive(Debug)]
pub struct Reloaded {
    pub path: PathBuf,
    pub entries: u64,
}

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified_ns: i128,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        Ok(Self {
            len: meta.len(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            inode: meta.ino(),
        })
    }
}

#[derive(Debug)]
struct Seen {
    /// The version in use, or the last one found bad.
    settled: Stamp,
    /// A new version seen once, waiting for a second look.
    pending: Option<Stamp>,
}

#[derive(Debug)]
pub(super) struct WatchedList {
    path: PathBuf,
    current: RwLock<Arc<CompiledList>>,
    seen: Mutex<Seen>,
}

impl WatchedList {
    pub(super) fn open(path: &Path) -> anyhow::Result<Self> {
        let stamp = Stamp::of(path).context("cannot read it")?;
        let list = read_list(path)?;
        Ok(Self {
            path: path.to_owned(),
            current: RwLock::new(Arc::new(list)),
            seen: Mutex::new(Seen {
                settled: stamp,
                pending: None,
            }),
        })
    }

    pub(super) fn current(&self) -> Arc<CompiledList> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Loads the file again when a change has been seen twice in a row.
    pub(super) fn reload_if_changed(&self) -> Result<Option<Reloaded>, ReloadError> {
        let failed = |cause: anyhow::Error| ReloadError {
            path: self.path.clone(),
            cause,
        };
        let stamp = Stamp::of(&self.path).map_err(|e| failed(e.into()))?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if stamp == seen.settled {
            seen.pending = None;
            return Ok(None);
        }
        if seen.pending != Some(stamp) {
            seen.pending = Some(stamp);
            return Ok(None);
        }
        seen.settled = stamp;
        seen.pending = None;
        let list = read_list(&self.path).map_err(failed)?;
        let entries = list.entries();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(list);
        Ok(Some(Reloaded {
            path: self.path.clone(),
            entries,
        }))
    }
}
