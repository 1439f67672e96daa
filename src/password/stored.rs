//! What a stored hash says, read and checked against the cost bounds before any work is done.
//!
//! A hash can come from outside (an import file) and so can be hostile or mistaken: `m=4294967295`
//! would make a worker allocate 4 TiB, `t=4294967295` would keep a worker busy for years. Every
//! hash is checked here at import and again before each verification, so one that got into a
//! store before the bounds existed fails for its own user only.

use argon2::{
    Params, Version,
    password_hash::phc::{Output, PasswordHash, Salt},
};

/// Why a hash is refused. Neither variant carries any part of the hash: messages built from
/// them can be logged and returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashRefusal {
    /// Not a hash in a format this service verifies.
    #[error("not a password hash in a supported format")]
    Unsupported,
    /// A supported format whose cost parameters are outside the bounds below.
    #[error("a password hash whose cost is outside the supported bounds")]
    OutOfBounds,
}

/// The most argon2 memory a stored hash may ask for, in KiB (256 MiB).
pub const ARGON2_MAX_MEMORY_KIB: u32 = 262_144;
/// The most argon2 passes a stored hash may ask for.
pub const ARGON2_MAX_ITERATIONS: u32 = 16;
/// The most argon2 lanes a stored hash may ask for.
pub const ARGON2_MAX_PARALLELISM: u32 = 16;

/// Whether argon2 parameters are within the bounds: the most above, and argon2's own least
/// (one pass, one lane, 8 KiB per lane).
pub(super) fn argon2_within_bounds(memory_kib: u32, iterations: u32, parallelism: u32) -> bool {
    (1..=ARGON2_MAX_PARALLELISM).contains(&parallelism)
        && (1..=ARGON2_MAX_ITERATIONS).contains(&iterations)
        && (8 * parallelism..=ARGON2_MAX_MEMORY_KIB).contains(&memory_kib)
}

/// Checks that `hash` is one this service can verify, within the bounds.
pub fn check(hash: &str) -> Result<(), HashRefusal> {
    Argon2Hash::parse(hash).map(drop)
}

/// An argon2id hash, parsed and within the bounds.
pub(super) struct Argon2Hash {
    pub(super) params: Params,
    pub(super) version: Version,
    pub(super) salt: Salt,
    pub(super) expected: Output,
}

impl Argon2Hash {
    pub(super) fn parse(hash: &str) -> Result<Self, HashRefusal> {
        use HashRefusal::{OutOfBounds, Unsupported};
        let phc = PasswordHash::new(hash).map_err(|_| Unsupported)?;
        if phc.algorithm != argon2::ARGON2ID_IDENT {
            return Err(Unsupported);
        }
        // Read the costs as numbers first: argon2's own checks accept up to 2^32 - 1.
        let cost = |name: &str| phc.params.get_decimal(name).ok_or(Unsupported);
        let (memory_kib, iterations, parallelism) = (cost("m")?, cost("t")?, cost("p")?);
        if !argon2_within_bounds(memory_kib, iterations, parallelism) {
            return Err(OutOfBounds);
        }
        let params = Params::try_from(&phc).map_err(|_| Unsupported)?;
        // As the argon2 crate reads a PHC string: no version means the current one.
        let version = match phc.version {
            None => Version::V0x13,
            Some(v) => Version::try_from(v).map_err(|_| Unsupported)?,
        };
        Ok(Self {
            params,
            version,
            salt: phc.salt.ok_or(Unsupported)?,
            expected: phc.hash.ok_or(Unsupported)?,
        })
    }
}

#[cfg(test)]
mod tests;
