use std::sync::{Arc, Mutex};

use super::*;

/// A writer that keeps what the subscriber writes, for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> MakeWriter<'w> for Captured {
    type Writer = Captured;

    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}

/// What the subscriber writes for sled's records and one of ours, under `directives`.
fn logged(directives: &str, format: LogFormat) -> String {
    let captured = Captured::default();
    let subscriber = subscriber(EnvFilter::new(directives), format, false, captured.clone());
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("serve");
        let _entered = span.enter();
        tracing::trace!(target: "sled::pagecache::logger", "linking pid 7 with Set([1],[36])");
        tracing::debug!(target: "sled::tree", "debug record");
        tracing::debug!(target: "sled", "bare target record");
        tracing::info!(target: "sled::pagecache", "recovered");
        tracing::trace!(target: "sledgehammer", "not the store");
        tracing::trace!(target: "loginprofiled::server", "our own trace");
    });
    String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn no_directive_lets_the_stores_debug_or_trace_records_through() {
    for directives in [
        "trace",
        "sled=trace",
        "sled::pagecache=trace",
        "sled::pagecache::logger=trace,sled::tree=debug",
        "[serve]=trace",
        "info,sled=trace",
    ] {
        for format in [LogFormat::Text, LogFormat::Json] {
            let out = logged(directives, format);
            assert!(
                !out.contains("linking pid"),
                "{directives} {format:?}: {out}"
            );
            assert!(
                !out.contains("debug record"),
                "{directives} {format:?}: {out}"
            );
            assert!(
                !out.contains("bare target"),
                "{directives} {format:?}: {out}"
            );
        }
    }
}

#[test]
fn the_stores_info_records_and_everyone_elses_trace_still_pass() {
    let out = logged("trace", LogFormat::Text);
    assert!(out.contains("recovered"), "{out}");
    assert!(out.contains("not the store"), "{out}");
    assert!(out.contains("our own trace"), "{out}");
}

#[test]
fn the_cap_is_reported_only_when_rust_log_asked_for_more() {
    for asked in ["trace", "debug", "sled=trace", "info,sled::pagecache=debug"] {
        assert!(asks_for_store_detail(EnvFilter::new(asked)), "{asked}");
    }
    for not_asked in ["info", "warn", "loginprofiled=trace", "sled=info"] {
        assert!(
            !asks_for_store_detail(EnvFilter::new(not_asked)),
            "{not_asked}"
        );
    }
}
