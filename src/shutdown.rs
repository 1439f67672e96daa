//! The process's stop signals.

use tokio::signal::unix::{SignalKind, signal as unix_signal};

/// Resolves on the first SIGTERM or SIGINT.
pub async fn signal() {
    let mut term = unix_signal(SignalKind::terminate())
        .expect("registering a SIGTERM handler should not fail");
    let mut int =
        unix_signal(SignalKind::interrupt()).expect("registering a SIGINT handler should not fail");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
        _ = int.recv() => tracing::info!("SIGINT received; shutting down"),
    }
}
