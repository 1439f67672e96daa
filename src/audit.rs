//! The audit trail: one JSON line per change of identity or credentials and per sign-in
//! outcome, on the `audit` log target and, with `--audit-log FILE`, appended to that file and
//! handed to the operating system before the call's reply. Fields: time, event, user name,
//! caller, peer, request id, outcome (and the operation and transport); never a password, a hash
//! or a token. The caller, peer and request id come from the call's record (`call`).
//!
//! A line that cannot be written fails its call (ServiceFailure) and leaves the trail failed:
//! from then on every audited call is refused before it changes anything, and health reports
//! NOT_SERVING, so credentials never change without a record after the first failure.

use std::{
    fs::File,
    io::Write as _,
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use anyhow::Context as _;
use serde::Serialize;

use crate::{call::CallRecord, meter, operation::Operation};

/// Where audit lines go. Cloning is shallow.
#[derive(Debug, Clone, Default)]
pub struct AuditTrail {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    file: Option<(PathBuf, Mutex<File>)>,
    failed: AtomicBool,
}

/// One audit line.
#[derive(Debug, Serialize)]
struct Line<'a> {
    time: String,
    event: &'a str,
    user_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial_number: Option<&'a str>,
    caller: Option<&'a str>,
    peer: Option<&'a str>,
    request_id: Option<&'a str>,
    operation: &'a str,
    outcome: &'a str,
}

impl AuditTrail {
    /// The `audit` log target only.
    pub fn log_only() -> Self {
        Self::default()
    }

    /// The log target and the file at `path` (created 0600 if missing, appended to).
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("opening the audit log {}", path.display()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                file: Some((path.to_owned(), Mutex::new(file))),
                failed: AtomicBool::new(false),
            }),
        })
    }

    /// Whether every line so far was written.
    pub fn healthy(&self) -> bool {
        !self.inner.failed.load(Ordering::Acquire)
    }

    /// Refuses when an earlier line could not be written.
    pub fn ready(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.healthy(),
            "an earlier audit line could not be written; audited calls are refused until restart"
        );
        Ok(())
    }

    /// Writes one line for `event` of the current call.
    pub fn write(
        &self,
        operation: Operation,
        event: &str,
        user_name: Option<&str>,
        outcome: &str,
    ) -> anyhow::Result<()> {
        self.write_line(operation, event, user_name, None, outcome)
    }

    /// Writes one line for `event` of the current call on an MFA device, named by its serial
    /// number (never its seed).
    pub fn write_line(
        &self,
        operation: Operation,
        event: &str,
        user_name: Option<&str>,
        serial_number: Option<&str>,
        outcome: &str,
    ) -> anyhow::Result<()> {
        let call = CallRecord::current();
        let call = call.as_deref();
        let line = Line {
            time: now(),
            event,
            user_name,
            serial_number,
            caller: call.and_then(CallRecord::caller),
            peer: call.and_then(|c| c.peer.as_deref()),
            request_id: call.map(|c| c.request_id.as_str()),
            operation: operation.name(),
            outcome,
        };
        let mut text = serde_json::to_string(&line).context("encoding an audit line")?;
        tracing::info!(target: "audit", "{text}");
        let Some((path, file)) = &self.inner.file else {
            return Ok(());
        };
        text.push('\n');
        let written = file
            .lock()
            .map_err(|_| anyhow::anyhow!("the audit log's lock is poisoned"))
            .and_then(|mut file| {
                file.write_all(text.as_bytes())?;
                file.flush()?;
                Ok(())
            });
        if let Err(error) = written {
            self.inner.failed.store(true, Ordering::Release);
            meter::audit_failure();
            tracing::error!(
                error = format!("{error:#}"),
                path = %path.display(),
                "could not write to the audit log; audited calls are refused and health is NOT_SERVING"
            );
            return Err(error.context("writing the audit log"));
        }
        Ok(())
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
