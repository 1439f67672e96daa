//! Operating the real binary: Prometheus metrics after a known sequence of calls, and the audit
//! trail (one line per call on both transports, kept across SIGKILL, refused files).

mod audit;
mod metrics;

use std::{
    fs::File,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use loginprofiled::access::{Scope, new_token};

use crate::binary::Binary;

const ADMIN_KEY: &str = "AKIAOPSADMIN00000001";
const ADMIN_SECRET: &str = "s3cretOfTheOpsAdminKeyNoEqualAnywhere001";

/// A tokens file with the bearer token `ops` and the access key `ops-key`, both admin; returns
/// its path and the token.
fn tokens_file(dir: &Path) -> (PathBuf, String) {
    let (token, entry) = new_token("ops", &[Scope::Admin]);
    let text = format!(
        "{entry}\n[[access_key]]\naccess_key_id = '{ADMIN_KEY}'\nsecret_access_key = \
         '{ADMIN_SECRET}'\nscopes = ['admin']\nname = 'ops-key'\n"
    );
    let path = dir.join("tokens.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    (path, token)
}

/// A server with both transports and `extra` flags; its stderr in `dir/stderr.log`.
async fn start(dir: &Path, extra: &[&str]) -> Binary {
    let log = File::create(dir.join("stderr.log")).unwrap();
    let mut args = vec!["--http-listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut server = Binary::spawn_with(dir, &dir.join("lpd.sock"), &args, &[], Stdio::from(log));
    server.wait_until_serving().await;
    server
}

/// The address the start-up line reports for `field` (`http_listen`, `metrics_listen`); the
/// log is written by a thread of its own, so it is polled for (bounded).
async fn logged_addr(dir: &Path, field: &str) -> SocketAddr {
    let needle = format!("{field}=\"");
    for _ in 0..200 {
        let log = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
        if let Some(line) = log
            .lines()
            .find(|l| l.contains(" serving") && l.contains(&needle))
        {
            let (_, rest) = line.split_once(&needle).unwrap();
            return rest.split('"').next().unwrap().parse().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no start-up line with {field} in the log");
}
