//! The gRPC Unix socket file. It is bound only when no live process answers on the path (a file
//! left by a dead process is replaced), and removed at exit only by the process that bound it,
//! and only while the path still names that same file.

use std::{
    io::ErrorKind,
    os::unix::fs::{FileTypeExt as _, MetadataExt as _},
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, bail};
use tokio::net::{UnixListener, UnixStream};

/// How long a connection attempt may take before the socket counts as live (a busy server's
/// full backlog makes `connect` wait; a dead one refuses at once).
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The socket file this process bound. Dropping it removes the file, if the path still names
/// it: a file put there since (by an operator, or another server after this one's was removed)
/// is left alone.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl SocketFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path).is_ok_and(|meta| {
            meta.file_type().is_socket() && meta.dev() == self.dev && meta.ino() == self.ino
        });
        if ours && let Err(error) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), %error, "could not remove the socket file");
        }
    }
}

/// Binds a listener at `path`, replacing a socket file that no process answers on, and refusing
/// (with an error naming the path) a socket a live process answers on, or anything at the path
/// that is not a socket.
pub(super) async fn bind(path: &Path) -> anyhow::Result<(UnixListener, SocketFile)> {
    match std::fs::symlink_metadata(path) {
        Err(error) if error.kind() == ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("inspecting {}", path.display()));
        }
        Ok(meta) if !meta.file_type().is_socket() => bail!(
            "{} exists and is not a socket; refusing to replace it (remove it, or choose \
             another --listen path)",
            path.display()
        ),
        Ok(_) => replace_if_stale(path).await?,
    }
    let listener =
        UnixListener::bind(path).with_context(|| format!("binding unix:{}", path.display()))?;
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("inspecting the new socket {}", path.display()))?;
    let file = SocketFile {
        path: path.to_owned(),
        dev: meta.dev(),
        ino: meta.ino(),
    };
    Ok((listener, file))
}

/// Removes the socket file at `path` if no process answers on it; fails if one does, or if
/// that cannot be told.
async fn replace_if_stale(path: &Path) -> anyhow::Result<()> {
    let in_use = || {
        format!(
            "another process is serving on unix:{}; refusing to take over its socket (stop \
             that process, or choose another --listen path)",
            path.display()
        )
    };
    match tokio::time::timeout(PROBE_TIMEOUT, UnixStream::connect(path)).await {
        Ok(Ok(_)) | Err(_) => bail!(in_use()),
        Ok(Err(error)) if error.kind() == ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path)
                .with_context(|| format!("removing the stale socket {}", path.display()))?;
            tracing::info!(path = %path.display(), "replaced a socket file no process answered on");
            Ok(())
        }
        Ok(Err(error)) => Err(error).with_context(|| {
            format!(
                "cannot tell whether a process is serving on unix:{}; refusing to replace it",
                path.display()
            )
        }),
    }
}
