//! A damaged store is never served with fewer users than were acknowledged. Healthy stores are
//! built by the real binary and stopped cleanly; copies of them are damaged the ways disks,
//! restores and resized volumes do, then the binary is started on each: it refuses with exit 1
//! and says what is missing and how to recover, and `check` exits non-zero saying the same. Where
//! sled still recovers everything (damage in space it no longer uses, a snapshot it rebuilds
//! from the log), the server starts with every acknowledged user and `check` passes.

mod log;
mod mark;

use std::{
    fs::OpenOptions,
    os::unix::fs::FileExt as _,
    path::{Path, PathBuf},
};

use loginprofiled::grpc::proto::{
    CreateUserRequest, ListUsersRequest, user_service_client::UserServiceClient,
};
use tonic::transport::Channel;

use crate::binary::{self, Binary};

/// Callers creating users at once while a store is built.
const WRITERS: usize = 16;

/// A healthy store written by the real binary and stopped cleanly, with the users it
/// acknowledged.
pub struct Healthy {
    dir: tempfile::TempDir,
    pub users: Vec<String>,
}

impl Healthy {
    /// Runs the binary `sessions` times, each creating `per_session` users whose paths are
    /// `path_len` characters long (longer paths fill more of sled's 512 KiB segments), stopping
    /// it with SIGTERM after each.
    pub async fn build(sessions: usize, per_session: usize, path_len: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Vec::new();
        for session in 0..sessions {
            let server = Binary::start(dir.path(), &[]).await;
            let names: Vec<String> = (0..per_session)
                .map(|i| format!("user{session}x{i:05}"))
                .collect();
            create_users(server.channel(), &names, path_len).await;
            users.extend(names);
            server.stop().await;
        }
        Self { dir, users }
    }

    /// A copy of the data directory (as `copy/data`), to damage.
    pub fn copy(&self) -> Copy {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&self.dir.path().join("data"), &dir.path().join("data"));
        Copy(dir)
    }
}

/// A copy of a healthy store's directory; the store is in `data/`.
pub struct Copy(tempfile::TempDir);

impl Copy {
    /// A directory with no store yet.
    pub fn empty() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    pub fn dir(&self) -> &Path {
        self.0.path()
    }

    pub fn data(&self) -> PathBuf {
        self.0.path().join("data")
    }

    pub fn db(&self) -> PathBuf {
        self.data().join("db")
    }

    pub fn db_len(&self) -> u64 {
        std::fs::metadata(self.db()).unwrap().len()
    }

    /// Damages sled's file.
    pub fn damage(&self, damage: Damage) {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.db())
            .unwrap();
        match damage {
            Damage::Flip { at } => {
                let mut bytes = [0; 16];
                file.read_exact_at(&mut bytes, at).unwrap();
                file.write_all_at(&bytes.map(|b| !b), at).unwrap();
            }
            Damage::Zero { at, len } => file.write_all_at(&vec![0; len as usize], at).unwrap(),
            Damage::TruncateTo(len) => file.set_len(len).unwrap(),
        }
    }

    /// Removes sled's snapshot files; returns how many there were.
    pub fn remove_snapshots(&self) -> usize {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.data()).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("snap.")
            {
                std::fs::remove_file(path).unwrap();
                removed += 1;
            }
        }
        removed
    }
}

/// What is done to sled's file.
#[derive(Debug, Clone, Copy)]
pub enum Damage {
    /// 16 bytes inverted.
    Flip {
        at: u64,
    },
    Zero {
        at: u64,
        len: u64,
    },
    TruncateTo(u64),
}

/// How the binary took a damaged store.
#[derive(Debug)]
#[allow(dead_code)] // `reason` is read through Debug and by some tests
pub enum Outcome {
    /// Refused at start; `reason` is what it said.
    Refused { reason: String },
    /// Served, with every acknowledged user.
    ServedComplete,
}

/// Starts the binary on `copy` and holds it to the invariant: it either refuses with exit 1,
/// naming the data directory and how to recover, and `check` fails too; or it serves every
/// acknowledged user and `check` passes.
pub async fn outcome(copy: &Copy, users: &[String]) -> Outcome {
    let checked = binary::check(&copy.data(), &[]);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    match Binary::try_start(copy.dir(), &[]).await {
        Err((exit, reason)) => {
            assert_eq!(exit.code(), Some(1), "{reason}");
            let data = copy.data().display().to_string();
            assert!(reason.contains(&data), "names the data directory: {reason}");
            assert!(reason.contains("How to recover"), "{reason}");
            assert!(
                !copy.dir().join("lpd.sock").exists(),
                "a refused server never listened, so it accepted no write"
            );
            assert!(!checked.status.success(), "check passed a refused store");
            assert!(
                report.contains("PROBLEMS") || report.contains("damaged"),
                "check says what is wrong: {report}"
            );
            Outcome::Refused { reason }
        }
        Ok(server) => {
            let listed = list_users(server.channel()).await;
            assert_eq!(
                listed,
                sorted(users),
                "served with other users than were acknowledged"
            );
            assert!(
                checked.status.success(),
                "check failed a served store: {report}"
            );
            Outcome::ServedComplete
        }
    }
}

/// Asserts `outcome` is a refusal that names the gap between the mark and the store, and
/// returns the last write number the store recovered.
pub fn refused_for_lost_writes(outcome: &Outcome, acknowledged: usize) -> u64 {
    let Outcome::Refused { reason } = outcome else {
        panic!("served a store that lost acknowledged writes")
    };
    let expected = format!(
        "acknowledged write #{acknowledged} (ACKNOWLEDGED), but the store recovered only up to #"
    );
    let at = reason
        .find(&expected)
        .unwrap_or_else(|| panic!("says which writes are missing: {reason}"));
    let rest = &reason[at + expected.len()..];
    let recovered: u64 = rest[..rest.find(':').unwrap()].parse().unwrap();
    assert!(recovered < acknowledged as u64, "{reason}");
    recovered
}

/// Creates `names`, [`WRITERS`] at a time; every call must succeed.
pub async fn create_users(channel: Channel, names: &[String], path_len: usize) {
    let path = if path_len < 2 {
        String::new()
    } else {
        format!("/{}/", "p".repeat(path_len - 2))
    };
    let chunks = names.chunks(names.len().div_ceil(WRITERS).max(1));
    let writers: Vec<_> = chunks
        .map(|chunk| {
            let mut users = UserServiceClient::new(channel.clone());
            let (chunk, path) = (chunk.to_vec(), path.clone());
            tokio::spawn(async move {
                for user_name in chunk {
                    let request = CreateUserRequest {
                        user_name,
                        path: path.clone(),
                        tags: Vec::new(),
                    };
                    users.create_user(request).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
}

/// Every user name the server lists, in its order.
pub async fn list_users(channel: Channel) -> Vec<String> {
    let mut users = UserServiceClient::new(channel);
    let mut names = Vec::new();
    let mut marker = String::new();
    loop {
        let page = users
            .list_users(ListUsersRequest {
                path_prefix: String::new(),
                marker,
                max_items: 1000,
            })
            .await
            .unwrap()
            .into_inner();
        names.extend(page.users.into_iter().map(|u| u.user_name));
        if !page.is_truncated {
            return names;
        }
        marker = page.marker;
    }
}

fn sorted(users: &[String]) -> Vec<String> {
    let mut users = users.to_vec();
    users.sort_by_key(|u| u.to_ascii_lowercase());
    users
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
