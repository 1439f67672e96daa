//! The built `loginprofiled` binary, run as a child process on a Unix socket, for tests of what
//! only a real process shows: kill -9, signals, exit codes, a full disk.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
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
}

impl Binary {
    /// Starts the binary with its data in `dir/data` and waits (bounded) until it serves.
    pub async fn start(dir: &Path, extra: &[&str]) -> Self {
        let binary = Self::spawn(dir, extra);
        binary.wait_until_serving().await;
        binary
    }

    /// Starts the binary without waiting for it.
    pub fn spawn(dir: &Path, extra: &[&str]) -> Self {
        Self::spawn_with(dir, &dir.join("lpd.sock"), extra, &[], Stdio::null())
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
            .arg(format!("unix:{}", socket.display()))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--argon2-memory-kib", "256", "--argon2-iterations", "1"]);
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

    /// Polls health (bounded: 20 s) until it answers `wanted`.
    pub async fn wait_for_health(&self, wanted: ServingStatus) {
        for _ in 0..400 {
            if self.health().await == Some(wanted) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("health did not turn {wanted:?} within 20 s");
    }

    pub async fn wait_until_serving(&self) {
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

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
