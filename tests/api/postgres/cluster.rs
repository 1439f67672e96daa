//! A throwaway PostgreSQL cluster of the test's own (`initdb` and `pg_ctl` in a temporary
//! directory, on a free port), for the tests that stop and start a database or exhaust its
//! connections: the shared test server is never touched.

use std::{
    path::PathBuf,
    process::{Command, Output},
};

/// Where PostgreSQL's programs are: `LOGINPROFILED_TEST_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin`.
fn bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("LOGINPROFILED_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("pg_ctl").is_file())
        .collect();
    found.sort();
    found.pop()
}

/// A cluster made and started by the test, stopped (immediately) and removed when dropped.
pub(super) struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub(super) port: u16,
}

impl Cluster {
    /// Makes and starts a cluster allowing `max_connections`; None (after saying why) when
    /// PostgreSQL's programs are not installed.
    pub(super) fn start(max_connections: u32) -> Option<Self> {
        let Some(bin) = bin_dir() else {
            eprintln!("skipped: no initdb/pg_ctl (set LOGINPROFILED_TEST_PG_BIN)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let cluster = Self { bin, dir, port };
        if is_root() {
            // initdb refuses to run as root: the cluster is the postgres user's.
            run(Command::new("chown")
                .args(["-R", "postgres"])
                .arg(cluster.dir.path()));
        }
        let data = cluster.data();
        cluster.pg(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections={max_connections} \
             -c fsync=off",
            cluster.dir.path().display()
        );
        std::fs::write(cluster.dir.path().join("options"), &options).unwrap();
        cluster.pg_ctl("start");
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub(super) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl start` (waiting until it accepts connections) or `stop` (fast: sessions are
    /// told to go, as in a restart).
    pub(super) fn pg_ctl(&self, action: &str) {
        let options = std::fs::read_to_string(self.dir.path().join("options")).unwrap();
        let log = self.dir.path().join("log").display().to_string();
        match action {
            "start" => self.pg(
                "pg_ctl",
                &[
                    "-D",
                    &self.data(),
                    "-o",
                    &options,
                    "-l",
                    &log,
                    "-w",
                    "start",
                ],
            ),
            _ => self.pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", action]),
        };
    }

    fn pg(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        };
        run(command.args(args))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(path)
                .args(args)
                .output()
        } else {
            Command::new(path).args(args).output()
        };
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("running a PostgreSQL program");
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
