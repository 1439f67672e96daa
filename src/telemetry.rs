//! Log output: human-readable lines (coloured only on a terminal), or JSON with
//! `--log-format json`, written by a thread of their own so that no call waits on stderr; the level from RUST_LOG (default `info`), except that the embedded store
//! never logs below `info`.
//!
//! sled logs through the `log` crate; `init` installs tracing-subscriber's bridge, which turns
//! each record into a tracing event whose target is sled's module path (`sled::pagecache::...`).
//! At debug and trace sled prints whole records (`linking pid N with Set([key],[value])`), the
//! stored password hashes among them, as byte arrays. So a filter of its own drops those, after
//! and regardless of RUST_LOG: no directive (`trace`, `sled=trace`, `sled::pagecache=trace`, a
//! span directive) can turn them back on.

use std::io::IsTerminal as _;

use tracing::{Level, Metadata, Subscriber};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{
    EnvFilter, Layer as _, filter::filter_fn, fmt, fmt::MakeWriter, prelude::*,
};

use crate::config::LogFormat;

/// The target prefix of the embedded store's log records.
const STORE_TARGET: &str = "sled";

/// Installs the global subscriber on stderr. Call once, from `main`, and keep the guard until
/// the process ends: lines are written to stderr by a thread of their own (a call never waits
/// for the write), and dropping the guard writes out every line still queued.
#[must_use = "dropping the guard stops the log writer"]
pub fn init(format: LogFormat) -> WorkerGuard {
    let ansi = std::io::stderr().is_terminal();
    init_to(format, ansi, std::io::stderr())
}

/// [`init`], writing to `out` (the benchmark sends the log to a file, as a deployment would).
#[must_use = "dropping the guard stops the log writer"]
pub fn init_to(
    format: LogFormat,
    ansi: bool,
    out: impl std::io::Write + Send + 'static,
) -> WorkerGuard {
    let capped = asks_for_store_detail(env_filter());
    let mut filter = env_filter();
    if capped {
        // The notice must get through even when RUST_LOG names sled alone (`sled=trace`).
        let notice = format!("{}=warn", module_path!())
            .parse()
            .expect("a module path with a level should be a valid directive");
        filter = filter.add_directive(notice);
    }
    // Not lossy: when the queue is full a call waits rather than a line being dropped.
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(out);
    subscriber(filter, format, ansi, writer).init();
    if capped {
        tracing::warn!(
            "RUST_LOG asks for sled below info; sled logs at info and above only, because its \
             debug and trace output prints stored records"
        );
    }
    guard
}

/// RUST_LOG's directives, or `info` when it is unset or unreadable.
fn env_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// The subscriber `init` installs, writing to `writer`; `ansi` colours the text format.
fn subscriber<W>(
    filter: EnvFilter,
    format: LogFormat,
    ansi: bool,
    writer: W,
) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let output = match format {
        LogFormat::Text => fmt::layer().with_ansi(ansi).with_writer(writer).boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        // A global filter of its own, so RUST_LOG cannot outrank it.
        .with(filter_fn(|metadata| !is_store_detail(metadata)))
        .with(output)
}

/// Debug and trace records of the embedded store.
fn is_store_detail(metadata: &Metadata<'_>) -> bool {
    let from_store = metadata
        .target()
        .strip_prefix(STORE_TARGET)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"));
    from_store && *metadata.level() > Level::INFO
}

/// Whether `filter` alone would let the store's debug records through, i.e. whether the cap
/// changes what the operator asked for.
fn asks_for_store_detail(filter: EnvFilter) -> bool {
    let probe = tracing_subscriber::registry().with(filter);
    tracing::subscriber::with_default(
        probe,
        || tracing::enabled!(target: "sled::pagecache", Level::DEBUG),
    )
}

#[cfg(test)]
mod tests;
