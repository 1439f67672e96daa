//! The built `loginprofiled` binary, run as a child process on a Unix socket, for tests of what
//! only a real process shows: kill -9, signals, exit codes, a full disk.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    time::Duration,
};

use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tower::service_fn;

/// A running server process; dropping it kills the process with SIGKILL.
pub struct Binary {
    pub child: Child,
    pub socket: PathBuf,
    /// Where its stderr goes (appended to by every start in the same directory).
    stderr: PathBuf,
    /// Set when `stderr` is a log of this harness's own outside the test's directory: removed
    /// when the process is dropped, unless the test is failing (then it is there to read).
    outside_log: bool,
}

impl Binary {
    /// Starts the binary with its data in `dir/data` and waits (bounded) until it serves.
    pub async fn start(dir: &Path, extra: &[&str]) -> Self {
        let mut binary = Self::spawn(dir, extra);
        binary.wait_until_serving().await;
        binary
    }

    /// Starts the binary and waits (bounded) until it serves, or returns how it stopped
    /// instead: its exit status and stderr.
    pub async fn try_start(dir: &Path, extra: &[&str]) -> Result<Self, (ExitStatus, String)> {
        let mut binary = Self::spawn(dir, extra);
        for _ in 0..400 {
            if binary.health().await == Some(ServingStatus::Serving) {
                return Ok(binary);
            }
            if let Some(exit) = binary.child.try_wait().unwrap() {
                let stderr = std::fs::read_to_string(&binary.stderr).unwrap_or_default();
                return Err((exit, stderr));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server neither served nor stopped within 20 s");
    }

    /// Stops the process with SIGTERM and waits (bounded: 20 s) until it has exited cleanly.
    pub async fn stop(mut self) {
        self.signal("-TERM");
        for _ in 0..400 {
            if let Some(exit) = self.child.try_wait().unwrap() {
                assert!(exit.success(), "the server stopped with {exit}");
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not stop within 20 s of SIGTERM");
    }

    /// What the process has written to stderr so far: its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Starts the binary without waiting for it.
    pub fn spawn(dir: &Path, extra: &[&str]) -> Self {
        // Beside the data, not in it: a test that fills the data's disk must not have the log
        // take part in filling it (it changes where sled runs out of room).
        let stderr = std::env::temp_dir().join(format!(
            "loginprofiled-test{}.stderr.log",
            dir.display().to_string().replace('/', "_")
        ));
        let log = File::options()
            .create(true)
            .append(true)
            .open(&stderr)
            .unwrap();
        let mut binary = Self::spawn_with(dir, &dir.join("lpd.sock"), extra, &[], log.into());
        binary.stderr = stderr;
        binary.outside_log = true;
        binary
    }

    /// Starts the binary on `socket`, with `envs` set and its stderr to `stderr`, without
    /// waiting for it.
    pub fn spawn_with(
        dir: &Path,
        socket: &Path,
        extra: &[&str],
        envs: &[(&str, &str)],
        stderr: Stdio,
    ) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_loginprofiled"));
        command
            .args(["serve", "--listen"])
            .arg(format!("unix:{}", socket.display()));
        // A binary given a database keeps its data there (the two are exclusive).
        if !extra.contains(&"--database-url") {
            command.arg("--data-dir").arg(dir.join("data"));
        }
        command.args(["--argon2-memory-kib", "256", "--argon2-iterations", "1"]);
        if !extra.contains(&"--http-listen") {
            // Binaries run in parallel here; the Query API's fixed default port would clash.
            command.args(["--http-listen", "off"]);
        }
        let child = command
            .args(extra)
            .env_remove("RUST_LOG")
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawning the server binary");
        Self {
            child,
            socket: socket.to_owned(),
            // Not captured to a file; see `spawn`.
            stderr: dir.join("stderr.log"),
            outside_log: false,
        }
    }

    /// Waits (bounded: 20 s) for the process to exit by itself.
    pub async fn exit_status(&mut self) -> std::process::ExitStatus {
        for _ in 0..400 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not exit within 20 s");
    }

    pub fn channel(&self) -> Channel {
        let socket = self.socket.clone();
        Endpoint::from_static("http://localhost")
            .timeout(Duration::from_secs(10))
            .connect_with_connector_lazy(service_fn(move |_| {
                let socket = socket.clone();
                async move { UnixStream::connect(socket).await.map(TokioIo::new) }
            }))
    }

    /// What health says for "", or None when the server does not answer.
    pub async fn health(&self) -> Option<ServingStatus> {
        let request = HealthCheckRequest {
            service: String::new(),
        };
        let reply = HealthClient::new(self.channel())
            .check(request)
            .await
            .ok()?;
        Some(reply.into_inner().status())
    }

    /// Polls health (bounded: 20 s) until it answers `wanted`; fails at once if the process
    /// exits meanwhile, with what it wrote to stderr.
    pub async fn wait_for_health(&mut self, wanted: ServingStatus) {
        for _ in 0..400 {
            if self.health().await == Some(wanted) {
                return;
            }
            if let Some(exit) = self.child.try_wait().unwrap() {
                let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
                panic!("the server exited ({exit}) instead of serving:\n{stderr}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("health did not turn {wanted:?} within 20 s");
    }

    pub async fn wait_until_serving(&mut self) {
        self.wait_for_health(ServingStatus::Serving).await;
    }

    /// Sends a signal (`-TERM`, `-KILL`, ...) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// Runs `serve` on `data`, which must stop before serving: a server still running after 20 s
/// is killed and fails the test. It listens on a port of its own choosing, so it never clashes.
pub fn refused_start(data: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loginprofiled"))
        .args(["serve", "--listen", "127.0.0.1:0", "--http-listen", "off"])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running the server binary");
    for _ in 0..200 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    panic!(
        "the server started on a store it should refuse: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `loginprofiled check` on `data` with `extra` flags.
pub fn check(data: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loginprofiled"))
        .arg("check")
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .output()
        .expect("running loginprofiled check")
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.outside_log && !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.stderr);
        }
    }
}
