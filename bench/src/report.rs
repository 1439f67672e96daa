//! The bench's results: one table on stdout, the same figures as JSON in a file.

use std::path::Path;

use serde::Serialize;

use crate::{
    dataset::Loaded, flood::Flooded, imported::Figures, load::Measured, load::Shape, raw::RawRates,
};

/// Ratios the issue sets targets for.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Ratios {
    pub(crate) create_vs_raw_hash: Option<f64>,
    pub(crate) update_vs_raw_hash: Option<f64>,
    pub(crate) verify_vs_raw_verify: Option<f64>,
    pub(crate) get_vs_bare_tonic: Option<f64>,
    pub(crate) get_big_vs_small: Option<f64>,
}

/// Everything one run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) machine: String,
    pub(crate) shape: Option<Shape>,
    pub(crate) hash_concurrency: usize,
    pub(crate) raw: Option<RawRates>,
    /// Each load run by name: "ceiling get", "get", "create", ...
    pub(crate) runs: Vec<(String, Measured)>,
    pub(crate) small: Option<Loaded>,
    pub(crate) big: Option<Loaded>,
    /// Open the big store, serve, and answer the first Get.
    pub(crate) big_start_seconds: Option<f64>,
    pub(crate) ratios: Ratios,
    pub(crate) flood: Option<Flooded>,
    /// The same flood of first sign-ins on an imported hash.
    pub(crate) flood_imported: Option<Flooded>,
    /// Set when the service ran on PostgreSQL (`--database-url`).
    pub(crate) postgres: Option<PgRatios>,
    /// The hashing pool's computation seconds and count over the runs with one server (with
    /// two, four hashing threads share the cores).
    pub(crate) argon2_one_server: Option<(f64, f64)>,
    /// Imported hashes: rates against their schemes' raw rates, sign-in times, bounds.
    pub(crate) imported: Option<Figures>,
    /// Sign-in with a second factor.
    pub(crate) mfa: Option<crate::mfa::Figures>,
}

impl Report {
    pub(crate) fn run(&self, name: &str) -> Option<&Measured> {
        self.runs.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }

    /// Works the ratios out from the runs.
    pub(crate) fn compute_ratios(&mut self) {
        let rps = |name: &str| self.run(name).map(|m| m.rps);
        let over = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
        let hash = self.raw.as_ref().map(|r| r.hash_baseline);
        let verify = self.raw.as_ref().map(|r| r.verify_baseline);
        self.ratios = Ratios {
            create_vs_raw_hash: over(rps("create"), hash),
            update_vs_raw_hash: over(rps("update"), hash),
            verify_vs_raw_verify: over(rps("verify"), verify),
            get_vs_bare_tonic: over(rps("get"), rps("ceiling get")),
            get_big_vs_small: over(rps("get big"), rps("get")),
        };
        if self.run("pg get").is_some() {
            self.postgres = Some(PgRatios::compute(self));
        }
    }

    pub(crate) fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_string_pretty(self)?)?;
        Ok(())
    }

    pub(crate) fn print(&self) {
        println!("\nmachine: {}", self.machine);
        if let Some(raw) = &self.raw {
            println!(
                "raw argon2id on {} threads: hash {:.1}/s reusing memory, {:.1}/s allocating; verify {:.1}/s reusing, {:.1}/s allocating",
                raw.threads,
                raw.hash_reusing,
                raw.hash_allocating,
                raw.verify_reusing,
                raw.verify_allocating
            );
        }
        println!(
            "\n{:<14} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>7}",
            "run", "rps", "p50 ms", "p90 ms", "p99 ms", "max ms", "ok", "throttled", "errors"
        );
        for (name, m) in &self.runs {
            println!(
                "{name:<14} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8} {:>9} {:>7}",
                m.rps, m.p50_ms, m.p90_ms, m.p99_ms, m.max_ms, m.ok, m.throttled, m.other_errors
            );
        }
        self.print_ratios();
        if let Some(pg) = &self.postgres {
            pg.print(self);
        }
        for (label, loaded) in [("small", &self.small), ("big", &self.big)] {
            if let Some(l) = loaded {
                println!(
                    "{label} data set: {} profiles + {} users without; loaded in {:.1}s; {:.1} MiB on disk, {:.0} bytes/user",
                    l.profiles,
                    l.users_without_profile,
                    l.load_seconds,
                    l.bytes_on_disk as f64 / 1048576.0,
                    l.bytes_per_profile
                );
            }
        }
        if let Some(s) = self.big_start_seconds {
            println!("start with the big data set (open + first Get): {s:.2}s");
        }
        for f in self.flood.iter().chain(&self.flood_imported) {
            let (calls, bound) = match &f.imported {
                Some(label) => (
                    format!("first VerifyPassword on imported {label}"),
                    format!("{} x (19 MiB + the scheme's)", f.hash_concurrency),
                ),
                None => (
                    "CreateLoginProfile".to_owned(),
                    format!("{} x 19 MiB", f.hash_concurrency),
                ),
            };
            println!(
                "flood: {} {calls} at once -> ok {}, throttled {}, deadline {}, other {}, unanswered {} in {:.1}s; Gets alongside: {} ok, {} errors, max {:.1} ms; peak RSS {:.1} MiB (bound {bound} + 64 MiB = {:.1} MiB)",
                f.calls,
                f.ok,
                f.throttled,
                f.deadline_exceeded,
                f.other_errors,
                f.unanswered,
                f.seconds,
                f.gets.ok,
                f.gets.other_errors + f.gets.throttled,
                f.gets.max_ms,
                f.peak_rss_mib,
                f.rss_bound_mib
            );
        }
    }

    /// What the metrics recorded over the whole run: that they were on, and the calls they saw.
    pub(crate) fn print_metrics(&self, scrape: &str) {
        println!(
            "\nmetrics on (auth, access log and metrics as in production): {} gRPC calls handled, {} argon2 computations recorded",
            total(scrape, "grpc_server_handled_total{"),
            total(scrape, "loginprofiled_hash_seconds_count"),
        );
        // Whether the service's argon2 is slower than the raw one (CPU shared with the rest) or
        // as fast but idle part of the time (the queue ran dry).
        if let (Some(raw), Some((seconds, count))) = (&self.raw, self.argon2_one_server)
            && count > 0.0
        {
            println!(
                "one argon2 computation in the service's pool (runs with one server): {:.2} ms on average; raw: {:.2} ms",
                seconds / count * 1e3,
                raw.threads as f64 / raw.hash_baseline * 1e3,
            );
        }
    }

    fn print_ratios(&self) {
        let r = &self.ratios;
        println!();
        for (name, value, target) in [
            ("Create / raw hash", r.create_vs_raw_hash, 0.90),
            ("Update / raw hash", r.update_vs_raw_hash, 0.90),
            ("Verify / raw verify", r.verify_vs_raw_verify, 0.90),
            ("Get / bare tonic", r.get_vs_bare_tonic, 0.70),
            ("Get big / Get small", r.get_big_vs_small, 0.80),
        ] {
            if let Some(v) = value {
                let verdict = if v >= target { "met" } else { "MISSED" };
                println!("{name:<22} {v:>6.3}  (target >= {target:.2}: {verdict})");
            }
        }
        if let Some(get) = self.run("get") {
            let verdict = if get.p99_ms < 2.0 { "met" } else { "MISSED" };
            println!(
                "{:<22} {:>6.3}  (target < 2 ms: {verdict})",
                "Get p99 ms", get.p99_ms
            );
        }
    }
}

/// The PostgreSQL ratios the issue sets targets for.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct PgRatios {
    pub(crate) get_vs_pg_ceiling: Option<f64>,
    pub(crate) create_vs_raw_hash: Option<f64>,
    pub(crate) verify_vs_raw_verify: Option<f64>,
    pub(crate) get_big_vs_small: Option<f64>,
    pub(crate) get_two_servers_vs_one: Option<f64>,
    pub(crate) verify_two_servers_vs_one: Option<f64>,
}

impl PgRatios {
    pub(crate) fn compute(report: &Report) -> Self {
        let rps = |name: &str| report.run(name).map(|m| m.rps);
        let over = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
        let raw = report.raw.as_ref();
        Self {
            get_vs_pg_ceiling: over(rps("pg get"), rps("pg ceiling")),
            create_vs_raw_hash: over(rps("pg create"), raw.map(|r| r.hash_baseline)),
            verify_vs_raw_verify: over(rps("pg verify"), raw.map(|r| r.verify_baseline)),
            get_big_vs_small: over(rps("pg get big"), rps("pg get")),
            get_two_servers_vs_one: over(rps("pg get 2 srv"), rps("pg get")),
            verify_two_servers_vs_one: over(rps("pg verify 2 srv"), rps("pg verify")),
        }
    }

    pub(crate) fn print(&self, report: &Report) {
        println!();
        for (name, value, target) in [
            ("PG Get / PG ceiling", self.get_vs_pg_ceiling, Some(0.50)),
            ("PG Create / raw hash", self.create_vs_raw_hash, Some(0.90)),
            (
                "PG Verify / raw verify",
                self.verify_vs_raw_verify,
                Some(0.90),
            ),
            ("PG Get big / small", self.get_big_vs_small, Some(0.80)),
            ("PG Get 2 srv / 1", self.get_two_servers_vs_one, None),
            ("PG Verify 2 srv / 1", self.verify_two_servers_vs_one, None),
        ] {
            match (value, target) {
                (Some(v), Some(t)) => {
                    let verdict = if v >= t { "met" } else { "MISSED" };
                    println!("{name:<24} {v:>6.3}  (target >= {t:.2}: {verdict})");
                }
                (Some(v), None) => println!("{name:<24} {v:>6.3}"),
                (None, _) => {}
            }
        }
        if let Some(get) = report.run("pg get") {
            let verdict = if get.p99_ms < 5.0 { "met" } else { "MISSED" };
            println!(
                "{:<24} {:>6.3}  (target < 5 ms: {verdict})",
                "PG Get p99 ms", get.p99_ms
            );
        }
    }
}

/// The sum of every sample of the series `name` (and its labelled variants) in a scrape.
pub(crate) fn total(scrape: &str, name: &str) -> f64 {
    scrape
        .lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}
