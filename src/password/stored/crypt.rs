//! The crypt(3) family: bcrypt (`$2a$`, `$2b$`, `$2y$`), sha512-crypt (`$6$`), sha256-crypt
//! (`$5$`), with or without `rounds=`, and md5-crypt (`$1$`).

use super::{BCRYPT_MAX_COST, HashRefusal, SHA_CRYPT_MAX_ROUNDS, Scheme, StoredHash};

/// The alphabet of crypt's base64 (`./0-9A-Za-z`).
fn is_crypt_b64(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// A crypt(3) hash, or None when `hash` is not shaped like one.
pub(super) fn parse(hash: &str) -> Option<Result<(Scheme, StoredHash), HashRefusal>> {
    if let Some(rest) = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .find_map(|prefix| hash.strip_prefix(prefix))
    {
        return Some(bcrypt(rest).map(|stored| (Scheme::Bcrypt, stored)));
    }
    if let Some(rest) = hash.strip_prefix("$6$") {
        return Some(sha_crypt(rest, true).map(|stored| (Scheme::Sha512Crypt, stored)));
    }
    if let Some(rest) = hash.strip_prefix("$5$") {
        return Some(sha_crypt(rest, false).map(|stored| (Scheme::Sha256Crypt, stored)));
    }
    if let Some(rest) = hash.strip_prefix("$1$") {
        return Some(md5_crypt(rest).map(|stored| (Scheme::Md5Crypt, stored)));
    }
    None
}

/// `<two-digit cost>$<22 characters of salt><31 of hash>`.
fn bcrypt(rest: &str) -> Result<StoredHash, HashRefusal> {
    let Some((cost, salt_and_hash)) = rest.split_once('$') else {
        return Err(HashRefusal::Unsupported);
    };
    let well_formed = cost.len() == 2
        && cost.bytes().all(|b| b.is_ascii_digit())
        && salt_and_hash.len() == 53
        && is_crypt_b64(salt_and_hash);
    if !well_formed {
        return Err(HashRefusal::Unsupported);
    }
    let cost: u32 = cost.parse().map_err(|_| HashRefusal::Unsupported)?;
    if !(4..=BCRYPT_MAX_COST).contains(&cost) {
        return Err(HashRefusal::OutOfBounds);
    }
    Ok(StoredHash::Bcrypt)
}

/// `[rounds=<N>$]<salt of up to 16>$<hash>`; without `rounds=`, 5,000 rounds.
fn sha_crypt(rest: &str, sha512: bool) -> Result<StoredHash, HashRefusal> {
    use HashRefusal::{OutOfBounds, Unsupported};
    let (rounds, rest) = match rest.strip_prefix("rounds=") {
        Some(rest) => {
            let (rounds, rest) = rest.split_once('$').ok_or(Unsupported)?;
            (super::pbkdf2::number(rounds)?, rest)
        }
        None => (5_000, rest),
    };
    let (salt, expected) = rest.split_once('$').ok_or(Unsupported)?;
    let hash_len = if sha512 { 86 } else { 43 };
    let well_formed = salt.len() <= 16
        && !salt.contains('$')
        && expected.len() == hash_len
        && is_crypt_b64(expected);
    if !well_formed {
        return Err(Unsupported);
    }
    // glibc raises fewer rounds to 1,000 and writes 1,000 in the hash; sha-crypt refuses them.
    if !(1_000..=u64::from(SHA_CRYPT_MAX_ROUNDS)).contains(&rounds) {
        return Err(OutOfBounds);
    }
    Ok(StoredHash::ShaCrypt {
        sha512,
        rounds: rounds as u32,
        salt: salt.to_owned(),
        expected: expected.to_owned(),
    })
}

/// `<salt of up to 8>$<22 characters of hash>`.
fn md5_crypt(rest: &str) -> Result<StoredHash, HashRefusal> {
    let (salt, expected) = rest.split_once('$').ok_or(HashRefusal::Unsupported)?;
    let well_formed =
        salt.len() <= 8 && !salt.contains('$') && expected.len() == 22 && is_crypt_b64(expected);
    if !well_formed {
        return Err(HashRefusal::Unsupported);
    }
    Ok(StoredHash::Md5Crypt)
}
