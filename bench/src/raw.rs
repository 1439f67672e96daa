//! The raw argon2id rate: what the hashing pool could at best deliver on this machine, measured
//! with as many threads as the pool has, at the service's parameters.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use argon2::{Algorithm, Argon2, Version};
use loginprofiled::password::{DirectHasher, HashCost};
use serde::Serialize;

const PASSWORD: &str = "Raw-argon2-baseline-1";
const SALT: &[u8] = b"sixteen byte salt";

/// Hashes (or verifications, which cost the same) per second, by memory strategy.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RawRates {
    pub(crate) threads: usize,
    /// The pool's own primitive: one preallocated block buffer reused per thread.
    pub(crate) hash_reusing: f64,
    /// argon2's `hash_password_into`, which allocates m KiB afresh per call.
    pub(crate) hash_allocating: f64,
    pub(crate) verify_reusing: f64,
    pub(crate) verify_allocating: f64,
    /// The faster hashing strategy: the baseline Create and Update are held against.
    pub(crate) hash_baseline: f64,
    pub(crate) verify_baseline: f64,
}

impl RawRates {
    /// Keeps the higher of each rate.
    pub(crate) fn keep_best(&mut self, other: &RawRates) {
        self.hash_reusing = self.hash_reusing.max(other.hash_reusing);
        self.hash_allocating = self.hash_allocating.max(other.hash_allocating);
        self.verify_reusing = self.verify_reusing.max(other.verify_reusing);
        self.verify_allocating = self.verify_allocating.max(other.verify_allocating);
        self.hash_baseline = self.hash_reusing.max(self.hash_allocating);
        self.verify_baseline = self.verify_reusing.max(self.verify_allocating);
    }
}

/// Measures each strategy for `duration` on `threads` threads.
pub(crate) fn measure(
    cost: HashCost,
    threads: usize,
    duration: Duration,
) -> anyhow::Result<RawRates> {
    let phc = DirectHasher::new(cost)?.hash(PASSWORD)?;
    let hash_reusing = rate(threads, duration, || {
        let mut hasher = DirectHasher::new(cost)?;
        Ok(move || hasher.hash(PASSWORD).map(drop))
    })?;
    let hash_allocating = rate(threads, duration, || {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, cost.params()?);
        Ok(move || {
            let mut out = [0u8; 32];
            argon2
                .hash_password_into(PASSWORD.as_bytes(), SALT, &mut out)
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))
        })
    })?;
    let verify_reusing = rate(threads, duration, || {
        let mut hasher = DirectHasher::new(cost)?;
        let phc = phc.clone();
        Ok(move || {
            anyhow::ensure!(
                hasher.verify(PASSWORD, &phc)?,
                "the baseline hash must verify"
            );
            Ok(())
        })
    })?;
    let verify_allocating = rate(threads, duration, || {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, cost.params()?);
        let mut expected = [0u8; 32];
        argon2
            .hash_password_into(PASSWORD.as_bytes(), SALT, &mut expected)
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        Ok(move || {
            let mut out = [0u8; 32];
            argon2
                .hash_password_into(PASSWORD.as_bytes(), SALT, &mut out)
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
            anyhow::ensure!(out == expected, "the baseline hash must verify");
            Ok(())
        })
    })?;
    Ok(RawRates {
        threads,
        hash_reusing,
        hash_allocating,
        verify_reusing,
        verify_allocating,
        hash_baseline: hash_reusing.max(hash_allocating),
        verify_baseline: verify_reusing.max(verify_allocating),
    })
}

/// Runs `make()`'s job in a loop on each of `threads` threads for `duration`; jobs per second.
pub(crate) fn rate<F, J>(threads: usize, duration: Duration, make: F) -> anyhow::Result<f64>
where
    F: Fn() -> anyhow::Result<J>,
    J: FnMut() -> anyhow::Result<()> + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers = (0..threads)
        .map(|_| {
            let mut job = make()?;
            let (stop, done) = (stop.clone(), done.clone());
            Ok(thread::spawn(move || -> anyhow::Result<()> {
                while !stop.load(Ordering::Relaxed) {
                    job()?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
