//! Blocklists of passwords attackers already know: the built-in list of common passwords and the
//! operator's files (`--password-blocklist`), each held as a binary fuse filter and reloaded in
//! place when its file changes. The domain asks [`Screening::listed`]; the rules and messages
//! are the domain's (`domain::screening`).
//!
//! Why binary fuse filters of 16-bit fingerprints (xorf's `BinaryFuse16`): one false positive in
//! 65,536 at about 2.25 bytes an entry, built in one pass over sorted keys and read with three
//! memory accesses. A Bloom filter at that rate needs ~2.9 bytes an entry and ~16 accesses; an
//! xor filter ~2.5 bytes an entry. Keys are the first 8 bytes of a SHA-1, so a Pwned Passwords
//! line needs no hashing at build time. The built-in list has 32-bit fingerprints (464 KiB), so
//! that with it and one operator's list the rate stays about one in 65,536.

mod build;
pub mod command;
mod compiled;
mod input;
mod watch;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, LazyLock},
};

use anyhow::Context as _;
use sha1::{Digest as _, Sha1};

pub use build::{BuildOptions, Built, build};
pub use compiled::{CompiledList, KeyKind, Width};
pub use input::Format;
use watch::WatchedList;
pub use watch::{RELOAD_CHECK_INTERVAL, ReloadError, Reloaded};

/// The built-in list, compiled by `scripts/build-blocklist.py` from the lists the README names.
pub static BUILTIN_BYTES: &[u8] = include_bytes!("screening/builtin.blf");

static BUILTIN: LazyLock<CompiledList> = LazyLock::new(|| {
    CompiledList::parse(BUILTIN_BYTES)
        .expect("the built-in blocklist compiled into the binary is valid")
});

/// The key of `password` in a list of `kind`: the first 8 bytes of its SHA-1, of the password
/// lower-cased (locale-free, Unicode's default mapping) for lists compared without regard to case.
pub fn key(kind: KeyKind, password: &str) -> u64 {
    let digest = match kind {
        KeyKind::Folded => Sha1::digest(password.to_lowercase().as_bytes()),
        KeyKind::Exact => Sha1::digest(password.as_bytes()),
    };
    u64::from_be_bytes(digest[..8].try_into().expect("a SHA-1 has 20 bytes"))
}

/// The built-in list, parsed on first use.
pub fn builtin() -> &'static CompiledList {
    &BUILTIN
}

/// Whether and against what new passwords are screened. Cloning is shallow.
#[derive(Debug, Clone)]
pub struct Screening {
    /// None when screening is off (IAM's exact acceptance).
    lists: Option<Arc<Vec<WatchedList>>>,
}

impl Screening {
    /// No screening at all: `--password-screening off`.
    pub fn off() -> Self {
        Self { lists: None }
    }

    /// The built-in list only: the default.
    pub fn builtin() -> Self {
        LazyLock::force(&BUILTIN);
        Self {
            lists: Some(Arc::new(Vec::new())),
        }
    }

    /// The built-in list and the operator's `files`, each read now. Every file that cannot be
    /// read, or is damaged, is one problem naming it.
    pub fn load(files: &[PathBuf]) -> Result<Self, Vec<String>> {
        LazyLock::force(&BUILTIN);
        let mut problems = Vec::new();
        let mut lists = Vec::new();
        for path in files {
            match WatchedList::open(path) {
                Ok(list) => lists.push(list),
                Err(e) => problems.push(format!("--password-blocklist {}: {e:#}", path.display())),
            }
        }
        if problems.is_empty() {
            Ok(Self {
                lists: Some(Arc::new(lists)),
            })
        } else {
            Err(problems)
        }
    }

    pub fn is_on(&self) -> bool {
        self.lists.is_some()
    }

    /// True when screening is on and `password` is on the built-in list or an operator's list.
    pub fn listed(&self, password: &str) -> bool {
        let Some(lists) = &self.lists else {
            return false;
        };
        builtin().contains(password) || lists.iter().any(|list| list.current().contains(password))
    }

    /// Looks at the files every [`RELOAD_CHECK_INTERVAL`] and swaps in the ones that changed;
    /// never returns. A file that cannot be read or is damaged is logged and the old list kept.
    pub async fn watch(&self) {
        let Some(lists) = self.lists.clone().filter(|l| !l.is_empty()) else {
            return std::future::pending().await;
        };
        let mut interval = tokio::time::interval(RELOAD_CHECK_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let lists = lists.clone();
            let checked = tokio::task::spawn_blocking(move || {
                lists
                    .iter()
                    .map(WatchedList::reload_if_changed)
                    .collect::<Vec<_>>()
            })
            .await;
            for outcome in checked.into_iter().flatten() {
                match outcome {
                    Ok(Some(loaded)) => tracing::info!(
                        path = %loaded.path.display(),
                        entries = loaded.entries,
                        "reloaded a password blocklist"
                    ),
                    Ok(None) => {}
                    Err(ReloadError { path, cause }) => tracing::warn!(
                        path = %path.display(),
                        error = format!("{cause:#}"),
                        "a changed password blocklist could not be loaded; the previous version stays in use"
                    ),
                }
            }
        }
    }
}

/// Reads a list file of any of the three formats into a filter.
pub fn read_list(path: &Path) -> anyhow::Result<CompiledList> {
    let bytes_head = {
        use std::io::Read as _;
        let mut head = Vec::with_capacity(4096);
        std::fs::File::open(path)?
            .take(4096)
            .read_to_end(&mut head)?;
        head
    };
    match Format::sniff(&bytes_head) {
        Format::Compiled => CompiledList::read_file(path),
        Format::Pwned | Format::Plain => {
            let (out, _) = build(
                &[path.to_owned()],
                std::io::Cursor::new(Vec::new()),
                &BuildOptions::default(),
            )?;
            CompiledList::parse(out.get_ref()).context("reading the list just compiled")
        }
    }
}

#[cfg(test)]
mod tests;
