//! `loginprofiled export` and `import`: a store's users, login profiles (hashes verbatim, with
//! their history), virtual MFA devices (seeds sealed, as stored) and password policy as JSON
//! lines (the module `lines` gives the format), so
//! that users move from one store to another without anyone resetting a password.
//!
//! Export reads through the `Store` trait (`Store::read_all`: one consistent view on PostgreSQL). Import reads and checks
//! the whole input first (`parse`), then writes it with one `Store::import`: into an empty
//! store only, all of it or nothing.

use std::{
    fs::{File, OpenOptions},
    io::{self, BufRead, BufReader, BufWriter, Write},
    os::unix::fs::OpenOptionsExt as _,
    path::Path,
    sync::Arc,
};

use anyhow::Context as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::store::{Import, SnapshotEntry, Store};

mod lines;
mod parse;

use lines::{Device, End, Header, Policy, Profile, Typed, User};
pub use parse::{Checked, Trailer};

/// What an export or import held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub users: u64,
    pub profiles: u64,
    pub devices: u64,
    pub policy: bool,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let policy = if self.policy { "a" } else { "no" };
        write!(f, "{} users, {} login profiles", self.users, self.profiles)?;
        // Said only when there are some: a store without devices is reported as before them.
        if self.devices > 0 {
            write!(f, ", {} MFA devices", self.devices)?;
        }
        write!(f, " and {policy} password policy")
    }
}

/// A writer that also hashes what goes through it.
struct Hashing<'a, W> {
    out: &'a mut W,
    digest: Sha256,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.out.write(buf)?;
        self.digest.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes everything `store` holds to `out` as JSON lines, ending with the `end` line that
/// counts them and carries the SHA-256 of every line before it.
pub async fn export(store: &dyn Store, out: &mut (impl Write + Send)) -> anyhow::Result<Counts> {
    let mut out = Hashing {
        out,
        digest: Sha256::new(),
    };
    let out = &mut out;
    let header = Header {
        format: lines::FORMAT.to_owned(),
        version: lines::VERSION,
    };
    write_line(out, "header", &header)?;
    let mut counts = Counts {
        users: 0,
        profiles: 0,
        devices: 0,
        policy: false,
    };
    let policy = store
        .read_all(&mut |entry| {
            match entry {
                SnapshotEntry::User(entry) => {
                    write_line(out, "user", &User::from(&entry.user))?;
                    counts.users += 1;
                    if let Some(profile) = &entry.profile {
                        let line = Profile::new(&entry.user.user_name, profile);
                        write_line(out, "profile", &line)?;
                        counts.profiles += 1;
                    }
                }
                SnapshotEntry::Device(device) => {
                    write_line(out, "device", &Device::from(&device))?;
                    counts.devices += 1;
                }
            }
            Ok(())
        })
        .await?;
    if let Some(policy) = policy {
        write_line(out, "policy", &Policy::from(&policy))?;
        counts.policy = true;
    }
    let end = End {
        users: counts.users,
        profiles: counts.profiles,
        devices: counts.devices,
        policy: counts.policy,
        sha256: Some(hex::encode(out.digest.clone().finalize())),
    };
    write_line(out, "end", &end)?;
    out.flush().context("writing the export")?;
    Ok(counts)
}

fn write_line<T: Serialize>(
    out: &mut impl Write,
    kind: &'static str,
    line: &T,
) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, &Typed { kind, line }).context("writing the export")?;
    out.write_all(b"\n").context("writing the export")
}

/// Exports the store `open` opens to a new file at `path` (mode 0600, never an existing file),
/// or to stdout. The file is made before the store is opened, and removed again when the
/// export fails.
pub async fn export_to(
    path: Option<&Path>,
    open: impl FnOnce() -> anyhow::Result<Arc<dyn Store>>,
) -> anyhow::Result<Counts> {
    let Some(path) = path else {
        let store = open()?;
        let mut out = BufWriter::new(io::stdout());
        return export(&*store, &mut out).await;
    };
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => anyhow::anyhow!(
                "{} exists: export writes a new file only, and leaves an existing one alone",
                path.display()
            ),
            _ => anyhow::Error::new(e).context(format!("creating {}", path.display())),
        })?;
    let mut out = BufWriter::new(file);
    let written = async {
        let store = open()?;
        let counts = export(&*store, &mut out).await?;
        out.get_ref()
            .sync_all()
            .with_context(|| format!("syncing {}", path.display()))?;
        Ok(counts)
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// Reads and checks a whole export from `input`; nothing is written. The error names the
/// first bad line.
pub fn read(input: impl BufRead, trailer: Trailer) -> anyhow::Result<Checked> {
    parse::parse(input, trailer)
}

/// Reads the export in the file at `path`, or on stdin, warning when an older export without
/// a checksum was accepted.
pub fn read_from(path: Option<&Path>, trailer: Trailer) -> anyhow::Result<crate::store::Snapshot> {
    let checked = match path {
        Some(path) => {
            let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            read(BufReader::new(file), trailer)
                .with_context(|| format!("reading {}", path.display()))?
        }
        None => read(io::stdin().lock(), trailer).context("reading stdin")?,
    };
    if !checked.checksum_verified {
        tracing::warn!(
            "the input is an export from before exports carried a checksum (format version \
             1): a byte changed since export cannot be detected; check what was imported"
        );
    }
    Ok(checked.snapshot)
}

/// Writes a checked export into `store`, which must be empty.
pub async fn import(store: &dyn Store, snapshot: crate::store::Snapshot) -> anyhow::Result<Counts> {
    let counts = Counts {
        users: snapshot.users.len() as u64,
        profiles: snapshot
            .users
            .iter()
            .filter(|u| u.profile.is_some())
            .count() as u64,
        devices: snapshot.devices.len() as u64,
        policy: snapshot.policy.is_some(),
    };
    match store.import(snapshot).await? {
        Import::Imported => Ok(counts),
        Import::NotEmpty => anyhow::bail!(
            "the target store is not empty (it holds users, MFA devices or a password policy): \
             import writes into an empty store only; nothing was imported"
        ),
    }
}
