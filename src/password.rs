//! argon2id hashing and verification on a bounded pool of dedicated threads, never on the async
//! runtime.
//!
//! Each worker owns one preallocated block buffer of the configured memory size and reuses it
//! for every job (allocating `m` KiB per call costs both speed and peak RSS). Jobs wait in a
//! bounded queue; when it is full a call is refused at once ([`HashError::Throttled`]) instead
//! of growing memory. A job whose caller has gone (deadline passed, client cancelled) is
//! skipped. This module knows nothing of the domain: it takes any secret string, and the domain
//! turns a [`HashError`] into its own error.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    thread,
    time::Duration,
};

use anyhow::Context as _;
use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq as _;
use tokio::sync::oneshot;

use crate::meter;

mod direct;
mod foreign;
mod stored;

pub use direct::DirectHasher;
use stored::StoredHash;
pub use stored::{
    ARGON2_MAX_ITERATIONS, ARGON2_MAX_MEMORY_KIB, ARGON2_MAX_PARALLELISM, EXAMPLE_PASSWORD,
    FORMATS, Format, HashRefusal, Scheme, check as check_stored, markdown_table,
};

/// Why the pool did not answer a hashing or verification call.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue is full: the call was refused at once. Safe to retry after `retry_after`.
    #[error("the hashing queue is full")]
    Throttled { retry_after: Duration },
    /// The pool has stopped, a thread died, or a stored hash could not be read.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// How long a throttled caller is told to wait before retrying.
const THROTTLE_RETRY_AFTER: Duration = Duration::from_secs(1);
const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

/// Cost parameters of newly made hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    /// The OWASP minimum for argon2id: m=19456 KiB, t=2, p=1.
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl HashCost {
    /// The argon2 parameters, or why these values are not valid ones. New hashes are held to
    /// the bounds every stored hash is checked against, so the service can verify its own.
    pub fn params(&self) -> anyhow::Result<Params> {
        anyhow::ensure!(
            stored::argon2_within_bounds(self.memory_kib, self.iterations, self.parallelism),
            "m={}, t={}, p={} are outside the bounds: at most {} KiB, {} passes and {} lanes, \
             and at least 8 KiB a lane",
            self.memory_kib,
            self.iterations,
            self.parallelism,
            stored::ARGON2_MAX_MEMORY_KIB,
            stored::ARGON2_MAX_ITERATIONS,
            stored::ARGON2_MAX_PARALLELISM,
        );
        Ok(Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(OUTPUT_LEN),
        )?)
    }
}

/// Sizes of the pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolSize {
    /// Worker threads, i.e. hashes computed at once.
    pub concurrency: usize,
    /// Jobs that may wait for a worker; more are refused with Throttling.
    pub queue: usize,
}

/// What checking a password against a stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub matches: bool,
    /// The hash was made by another scheme, or with other parameters than the configured ones.
    pub needs_rehash: bool,
    /// The scheme of the stored hash.
    pub scheme: Scheme,
}

/// Counts of argon2 computations, for tests and metrics.
#[derive(Debug, Default)]
pub struct HashStats {
    /// Jobs a worker has begun (skipped ones, whose caller had gone, are not counted).
    pub started: AtomicU64,
    /// Hashes made, and verifications done, to completion.
    pub hashes: AtomicU64,
    pub verifications: AtomicU64,
}

enum Work {
    Hash,
    Verify(String),
}

struct Job {
    password: SecretString,
    work: Work,
    reply: oneshot::Sender<anyhow::Result<Outcome>>,
}

enum Outcome {
    Hashed(String),
    Verified(Verified),
}

/// Handle to the hashing pool. Cloning is shallow; the workers stop when the last handle drops.
#[derive(Clone)]
pub struct Hasher {
    jobs: Sender<Job>,
    stats: Arc<HashStats>,
    dummy_hash: Arc<str>,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("queued", &self.jobs.len())
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// Starts the worker threads. Computes the dummy hash used for unknown users once, here.
    pub fn start(cost: HashCost, size: PoolSize) -> anyhow::Result<Self> {
        let params = cost.params().context("argon2 parameters")?;
        let (jobs, queue) = crossbeam_channel::bounded(size.queue);
        let stats = Arc::new(HashStats::default());
        // Made outside the pool, so it counts in none of the pool's figures.
        let dummy_hash = DirectHasher::new(cost)?
            .hash(&random_string())
            .context("computing the dummy hash")?;
        for i in 0..size.concurrency.max(1) {
            let mut worker = Worker::new(params.clone(), stats.clone());
            let queue: Receiver<Job> = queue.clone();
            thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker.run(queue))
                .context("spawning a hashing thread")?;
        }
        Ok(Self {
            jobs,
            stats,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: &impl ExposeSecret<str>) -> Result<String, HashError> {
        match self.submit(password, Work::Hash).await? {
            Outcome::Hashed(phc) => Ok(phc),
            Outcome::Verified(_) => unreachable!("a hash job answers with a hash"),
        }
    }

    /// Checks a password against a stored PHC string.
    pub async fn verify(
        &self,
        password: &impl ExposeSecret<str>,
        phc: &str,
    ) -> Result<Verified, HashError> {
        match self.submit(password, Work::Verify(phc.to_owned())).await? {
            Outcome::Verified(verified) => Ok(verified),
            Outcome::Hashed(_) => unreachable!("a verify job answers with a verdict"),
        }
    }

    /// Does the work of a verification that cannot succeed, so that a missing user or profile
    /// costs as much time as a wrong password.
    pub async fn verify_dummy(&self, password: &impl ExposeSecret<str>) -> Result<(), HashError> {
        let dummy_hash = self.dummy_hash.to_string();
        self.verify(password, &dummy_hash).await.map(drop)
    }

    pub fn stats(&self) -> &HashStats {
        &self.stats
    }

    async fn submit(
        &self,
        password: &impl ExposeSecret<str>,
        work: Work,
    ) -> Result<Outcome, HashError> {
        let (reply, answer) = oneshot::channel();
        let password = SecretString::from(password.expose_secret());
        // Counted before it is queued, so the thread that takes it never counts it down first.
        meter::hash::queued();
        self.jobs
            .try_send(Job {
                password,
                work,
                reply,
            })
            .map_err(|e| {
                meter::hash::dequeued();
                match e {
                    TrySendError::Full(_) => {
                        meter::hash::throttled();
                        HashError::Throttled {
                            retry_after: THROTTLE_RETRY_AFTER,
                        }
                    }
                    TrySendError::Disconnected(_) => {
                        HashError::Failed(anyhow::anyhow!("hashing pool stopped"))
                    }
                }
            })?;
        answer
            .await
            .context("a hashing thread died")
            .and_then(|outcome| outcome)
            .map_err(HashError::Failed)
    }
}

/// One hashing thread's state: the configured parameters and its reusable memory.
struct Worker {
    params: Params,
    blocks: Vec<Block>,
    stats: Arc<HashStats>,
}

impl Worker {
    fn new(params: Params, stats: Arc<HashStats>) -> Self {
        Self {
            params,
            blocks: Vec::new(),
            stats,
        }
    }

    fn run(&mut self, queue: Receiver<Job>) {
        for job in &queue {
            meter::hash::dequeued();
            if job.reply.is_closed() {
                continue;
            }
            self.stats.started.fetch_add(1, Ordering::Relaxed);
            meter::hash::started();
            let began = std::time::Instant::now();
            let outcome = match &job.work {
                Work::Hash => self.hash(&job.password).map(Outcome::Hashed),
                Work::Verify(phc) => self.verify(&job.password, phc).map(Outcome::Verified),
            };
            meter::hash::done(began.elapsed());
            // The caller may have gone meanwhile; then nobody needs the answer.
            let _ = job.reply.send(outcome);
        }
    }

    fn hash(&mut self, password: &SecretString) -> anyhow::Result<String> {
        let mut salt = [0u8; SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        let mut out = [0u8; OUTPUT_LEN];
        let params = self.params.clone();
        self.compute(
            Algorithm::Argon2id,
            &params,
            Version::V0x13,
            password,
            &salt,
            &mut out,
        )?;
        self.stats.hashes.fetch_add(1, Ordering::Relaxed);
        let phc = PasswordHash {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
            salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("{e}"))?),
            hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
        };
        Ok(phc.to_string())
    }

    fn verify(&mut self, password: &SecretString, hash: &str) -> anyhow::Result<Verified> {
        // Checked before any memory is taken or time spent: the hash may predate the bounds.
        let (scheme, stored) =
            stored::parse(hash).map_err(|refusal| anyhow::anyhow!("stored hash: {refusal}"))?;
        let (matches, needs_rehash) = match &stored {
            StoredHash::Argon2 {
                algorithm,
                params,
                version,
                salt,
                expected,
            } => {
                let mut out = vec![0u8; expected.len()];
                self.compute(
                    *algorithm,
                    params,
                    *version,
                    password,
                    salt.as_ref(),
                    &mut out,
                )?;
                let other_cost = params.m_cost() != self.params.m_cost()
                    || params.t_cost() != self.params.t_cost()
                    || params.p_cost() != self.params.p_cost()
                    || *version != Version::V0x13;
                (bool::from(out.ct_eq(expected.as_bytes())), other_cost)
            }
            _ => (foreign::verify(password, hash, &stored)?, true),
        };
        self.stats.verifications.fetch_add(1, Ordering::Relaxed);
        Ok(Verified {
            matches,
            needs_rehash: needs_rehash || !scheme.is_native(),
            scheme,
        })
    }

    fn compute(
        &mut self,
        algorithm: Algorithm,
        params: &Params,
        version: Version,
        password: &SecretString,
        salt: &[u8],
        out: &mut [u8],
    ) -> anyhow::Result<()> {
        let blocks = params.block_count();
        if self.blocks.len() < blocks {
            self.blocks.resize(blocks, Block::new());
        }
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(
                password.expose_secret().as_bytes(),
                salt,
                out,
                &mut self.blocks[..blocks],
            )
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        // A hash stored with more memory than configured must not pin that memory forever.
        if self.blocks.len() > self.params.block_count() {
            self.blocks.truncate(self.params.block_count());
            self.blocks.shrink_to_fit();
        }
        Ok(())
    }
}

fn random_string() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests;
