//! What a stored hash says, read and checked against the cost bounds before any work is done.
//!
//! Hashes can come from outside (an import file, ImportLoginProfile) and so can be hostile or
//! mistaken: `m=4294967295` would make a worker allocate 4 TiB, `t=4294967295` would keep a
//! worker busy for years. Every hash is parsed here at import and again before each
//! verification, so one that got into a store before the bounds existed fails for its own user
//! only. The formats and their bounds are listed once, in [`FORMATS`].

use argon2::{
    Algorithm, Params, Version,
    password_hash::phc::{Output, PasswordHash, Salt},
};

mod crypt;
mod formats;
mod pbkdf2;

pub use formats::{EXAMPLE_PASSWORD, FORMATS, Format, markdown_table};
pub(super) use pbkdf2::Digest;

/// Why a hash is refused. Neither variant carries any part of the hash: messages built from
/// them can be logged and returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashRefusal {
    /// Not a hash in a format this service verifies.
    #[error("not a password hash in a supported format")]
    Unsupported,
    /// A supported format whose cost parameters are outside the bounds.
    #[error("a password hash whose cost is outside the supported bounds")]
    OutOfBounds,
}

/// The most argon2 memory a stored hash may ask for, in KiB (256 MiB).
pub const ARGON2_MAX_MEMORY_KIB: u32 = 262_144;
/// The most argon2 passes a stored hash may ask for.
pub const ARGON2_MAX_ITERATIONS: u32 = 16;
/// The most argon2 lanes a stored hash may ask for.
pub const ARGON2_MAX_PARALLELISM: u32 = 16;
/// The most bcrypt cost (log2 of the rounds) a stored hash may ask for.
pub(super) const BCRYPT_MAX_COST: u32 = 14;
/// The most PBKDF2 iterations a stored hash may ask for.
pub(super) const PBKDF2_MAX_ITERATIONS: u32 = 10_000_000;
/// The most scrypt log2(N), r and p a stored hash may ask for (N = 2^17 and r = 8: 128 MiB).
pub(super) const SCRYPT_MAX_LOG_N: u8 = 17;
pub(super) const SCRYPT_MAX_R: u32 = 8;
pub(super) const SCRYPT_MAX_P: u32 = 10;
/// The most sha-crypt rounds a stored hash may ask for.
pub(super) const SHA_CRYPT_MAX_ROUNDS: u32 = 10_000_000;
/// No supported hash is longer; a longer string is refused unread.
const MAX_HASH_LEN: usize = 512;

/// A password hashing scheme this service verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    Argon2id,
    Argon2i,
    Argon2d,
    Bcrypt,
    Pbkdf2Sha1,
    Pbkdf2Sha256,
    Pbkdf2Sha512,
    Scrypt,
    Sha512Crypt,
    Sha256Crypt,
    Md5Crypt,
}

impl Scheme {
    pub const ALL: [Scheme; 11] = [
        Scheme::Argon2id,
        Scheme::Argon2i,
        Scheme::Argon2d,
        Scheme::Bcrypt,
        Scheme::Pbkdf2Sha1,
        Scheme::Pbkdf2Sha256,
        Scheme::Pbkdf2Sha512,
        Scheme::Scrypt,
        Scheme::Sha512Crypt,
        Scheme::Sha256Crypt,
        Scheme::Md5Crypt,
    ];

    /// Its name in metrics (`loginprofiled_rehash_total{from}`), reports and docs.
    pub const fn name(self) -> &'static str {
        match self {
            Scheme::Argon2id => "argon2id",
            Scheme::Argon2i => "argon2i",
            Scheme::Argon2d => "argon2d",
            Scheme::Bcrypt => "bcrypt",
            Scheme::Pbkdf2Sha1 => "pbkdf2-sha1",
            Scheme::Pbkdf2Sha256 => "pbkdf2-sha256",
            Scheme::Pbkdf2Sha512 => "pbkdf2-sha512",
            Scheme::Scrypt => "scrypt",
            Scheme::Sha512Crypt => "sha512-crypt",
            Scheme::Sha256Crypt => "sha256-crypt",
            Scheme::Md5Crypt => "md5-crypt",
        }
    }

    /// The bound on its cost, as the docs state it.
    pub const fn bound(self) -> &'static str {
        match self {
            Scheme::Argon2id | Scheme::Argon2i | Scheme::Argon2d => {
                "m <= 262,144 KiB, t <= 16, p <= 16"
            }
            Scheme::Bcrypt => "cost 4 to 14",
            Scheme::Pbkdf2Sha1 | Scheme::Pbkdf2Sha256 | Scheme::Pbkdf2Sha512 => {
                "1 to 10,000,000 iterations, output <= 64 bytes"
            }
            Scheme::Scrypt => "N <= 2^17, r <= 8, p <= 10, output <= 64 bytes",
            Scheme::Sha512Crypt | Scheme::Sha256Crypt => "1,000 to 10,000,000 rounds",
            Scheme::Md5Crypt => "fixed (1,000 rounds)",
        }
    }

    /// The scheme a hash's identifier names (`crate::store::hash_identifier`: the text
    /// between its first two `$`, or before the first for Django's spelling).
    pub fn from_identifier(identifier: &str) -> Option<Scheme> {
        Some(match identifier {
            "argon2id" => Scheme::Argon2id,
            "argon2i" => Scheme::Argon2i,
            "argon2d" => Scheme::Argon2d,
            "2a" | "2b" | "2y" => Scheme::Bcrypt,
            "pbkdf2" | "pbkdf2-sha1" | "pbkdf2_sha1" => Scheme::Pbkdf2Sha1,
            "pbkdf2-sha256" | "pbkdf2_sha256" => Scheme::Pbkdf2Sha256,
            "pbkdf2-sha512" => Scheme::Pbkdf2Sha512,
            "scrypt" => Scheme::Scrypt,
            "6" => Scheme::Sha512Crypt,
            "5" => Scheme::Sha256Crypt,
            "1" => Scheme::Md5Crypt,
            _ => return None,
        })
    }

    /// Whether a hash of this scheme is made by this service (argon2id), not imported.
    pub const fn is_native(self) -> bool {
        matches!(self, Scheme::Argon2id)
    }
}

/// A stored hash, parsed and within the bounds: everything a verification needs.
pub(super) enum StoredHash {
    Argon2 {
        algorithm: Algorithm,
        params: Params,
        version: Version,
        salt: Salt,
        expected: Output,
    },
    /// Checked by the bcrypt crate from the string itself, once its cost is known to be bounded.
    Bcrypt,
    Pbkdf2 {
        digest: Digest,
        iterations: u32,
        salt: Vec<u8>,
        expected: Vec<u8>,
    },
    Scrypt {
        params: scrypt::Params,
        salt: Vec<u8>,
        expected: Vec<u8>,
    },
    ShaCrypt {
        sha512: bool,
        rounds: u32,
        salt: String,
        expected: String,
    },
    /// Checked by pwhash from the string itself; its cost is fixed.
    Md5Crypt,
}

/// Checks that `hash` is one this service can verify, within the bounds, and says its scheme.
pub fn check(hash: &str) -> Result<Scheme, HashRefusal> {
    parse(hash).map(|(scheme, _)| scheme)
}

/// Reads `hash` by its shape: its scheme and what verifying it needs.
pub(super) fn parse(hash: &str) -> Result<(Scheme, StoredHash), HashRefusal> {
    if hash.len() > MAX_HASH_LEN {
        return Err(HashRefusal::Unsupported);
    }
    if let Some(parsed) = pbkdf2::parse(hash) {
        return parsed;
    }
    if let Some(parsed) = crypt::parse(hash) {
        return parsed;
    }
    if hash.starts_with("$argon2") {
        return parse_argon2(hash);
    }
    if hash.starts_with("$scrypt$") {
        return parse_scrypt(hash).map(|stored| (Scheme::Scrypt, stored));
    }
    Err(HashRefusal::Unsupported)
}

/// Whether argon2 parameters are within the bounds: the most above, and argon2's own least
/// (one pass, one lane, 8 KiB per lane).
pub(super) fn argon2_within_bounds(memory_kib: u32, iterations: u32, parallelism: u32) -> bool {
    (1..=ARGON2_MAX_PARALLELISM).contains(&parallelism)
        && (1..=ARGON2_MAX_ITERATIONS).contains(&iterations)
        && (8 * parallelism..=ARGON2_MAX_MEMORY_KIB).contains(&memory_kib)
}

fn parse_argon2(hash: &str) -> Result<(Scheme, StoredHash), HashRefusal> {
    use HashRefusal::{OutOfBounds, Unsupported};
    let phc = PasswordHash::new(hash).map_err(|_| Unsupported)?;
    let (scheme, algorithm) = match phc.algorithm.as_str() {
        "argon2id" => (Scheme::Argon2id, Algorithm::Argon2id),
        "argon2i" => (Scheme::Argon2i, Algorithm::Argon2i),
        "argon2d" => (Scheme::Argon2d, Algorithm::Argon2d),
        _ => return Err(Unsupported),
    };
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
    let stored = StoredHash::Argon2 {
        algorithm,
        params,
        version,
        salt: phc.salt.ok_or(Unsupported)?,
        expected: phc.hash.ok_or(Unsupported)?,
    };
    Ok((scheme, stored))
}

/// `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`, salt and hash in base64 without padding
/// (passlib, and RustCrypto's PHC form).
fn parse_scrypt(hash: &str) -> Result<StoredHash, HashRefusal> {
    use HashRefusal::{OutOfBounds, Unsupported};
    let mut fields = hash.strip_prefix("$scrypt$").ok_or(Unsupported)?.split('$');
    let (Some(params), Some(salt), Some(expected), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(Unsupported);
    };
    let [log_n, r, p] = pbkdf2::named_numbers(params, ["ln", "r", "p"]).ok_or(Unsupported)?;
    let (salt, expected) = (
        pbkdf2::decode_b64(salt).ok_or(Unsupported)?,
        pbkdf2::decode_b64(expected).ok_or(Unsupported)?,
    );
    let within = (1..=u64::from(SCRYPT_MAX_LOG_N)).contains(&log_n)
        && (1..=u64::from(SCRYPT_MAX_R)).contains(&r)
        && (1..=u64::from(SCRYPT_MAX_P)).contains(&p)
        && (10..=64).contains(&expected.len());
    if !within {
        return Err(OutOfBounds);
    }
    // The bounds make every conversion lossless.
    let params = scrypt::Params::new(log_n as u8, r as u32, p as u32, expected.len())
        .map_err(|_| OutOfBounds)?;
    Ok(StoredHash::Scrypt {
        params,
        salt,
        expected,
    })
}

#[cfg(test)]
mod tests;
