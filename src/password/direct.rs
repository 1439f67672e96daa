//! The pool's primitive without the pool, for the bench's raw baseline and for building data
//! sets.

use std::{fmt, sync::Arc};

use anyhow::Context as _;
use secrecy::SecretString;

use super::{HashCost, Worker};

/// One hashing thread's worth of the pool's own primitive, outside the pool: for measuring the
/// raw argon2 rate the service can at best reach, and for building data sets.
pub struct DirectHasher(Worker);

impl fmt::Debug for DirectHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectHasher").finish_non_exhaustive()
    }
}

impl DirectHasher {
    pub fn new(cost: HashCost) -> anyhow::Result<Self> {
        let params = cost.params().context("argon2 parameters")?;
        Ok(Self(Worker::new(params, Arc::default())))
    }

    /// Hashes `password` into a PHC string, reusing this hasher's memory.
    pub fn hash(&mut self, password: &str) -> anyhow::Result<String> {
        self.0.hash(&SecretString::from(password))
    }

    /// Whether `password` matches the PHC string `phc`, reusing this hasher's memory.
    pub fn verify(&mut self, password: &str, phc: &str) -> anyhow::Result<bool> {
        Ok(self.0.verify(&SecretString::from(password), phc)?.matches)
    }
}
