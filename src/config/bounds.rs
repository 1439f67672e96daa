//! The bounds each sizing flag must respect: values that would break the server (zero
//! connections or streams, a queue too large to allocate, a lock of no time) are problems
//! reported with the others, never discovered at run time.

use std::time::Duration;

use super::{Limits, ServeArgs};
use crate::{domain::LockoutRule, password::PoolSize};

impl ServeArgs {
    pub(super) fn pool(&self) -> Result<PoolSize, Vec<String>> {
        let concurrency = self
            .hash_concurrency
            .unwrap_or_else(|| default_concurrency().min(MAX_HASH_CONCURRENCY));
        let mut problems = Vec::new();
        if !(1..=MAX_HASH_CONCURRENCY).contains(&concurrency) {
            problems.push(format!(
                "--hash-concurrency {concurrency} must be between 1 and {MAX_HASH_CONCURRENCY}"
            ));
        }
        if self.hash_queue > MAX_HASH_QUEUE {
            problems.push(format!(
                "--hash-queue {} must be at most {MAX_HASH_QUEUE}",
                self.hash_queue
            ));
        }
        problems
            .is_empty()
            .then_some(PoolSize {
                concurrency,
                queue: self.hash_queue,
            })
            .ok_or(problems)
    }

    /// The limits; each must be at least 1, and every one that is not is a problem of its own.
    pub(super) fn limits(&self) -> Result<Limits, Vec<String>> {
        let counts = [
            ("--store-cache-mib", self.store.store_cache_mib),
            ("--max-connections", self.max_connections as u64),
            (
                "--max-concurrent-streams",
                u64::from(self.max_concurrent_streams),
            ),
            ("--max-message-bytes", self.max_message_bytes as u64),
        ];
        let zeros: Vec<String> = counts
            .iter()
            .filter(|(_, value)| *value == 0)
            .map(|(flag, _)| format!("{flag} must be at least 1"))
            .collect();
        zeros
            .is_empty()
            .then_some(Limits {
                store_cache_bytes: self.store.store_cache_mib.saturating_mul(1024 * 1024),
                max_connections: self.max_connections,
                max_concurrent_streams: self.max_concurrent_streams,
                max_message_bytes: self.max_message_bytes,
            })
            .ok_or(zeros)
    }

    pub(super) fn lockout(
        &self,
        base: Duration,
        max: Duration,
    ) -> Result<LockoutRule, Vec<String>> {
        let mut problems = Vec::new();
        if base > max {
            problems.push("--lockout-base must not exceed --lockout-max".to_owned());
        }
        if self.lockout_threshold > 0 && base.is_zero() {
            // A lock of no time would never refuse anything: lockout would be off in fact.
            problems.push(
                "--lockout-base must be longer than 0s; --lockout-threshold 0 turns lockout off"
                    .to_owned(),
            );
        }
        problems
            .is_empty()
            .then_some(LockoutRule {
                threshold: self.lockout_threshold,
                base,
                max,
            })
            .ok_or(problems)
    }
}

/// More hashing threads than this cannot run at once on any machine this serves on, and each
/// holds its own argon2 memory.
const MAX_HASH_CONCURRENCY: usize = 1024;
/// The queue is allocated whole at start; at a hundred hashes a second, a longer one would keep
/// callers waiting for a quarter of an hour.
const MAX_HASH_QUEUE: usize = 100_000;

fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
