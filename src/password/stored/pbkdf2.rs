//! PBKDF2 in its three spellings, and the base64 and `name=value` readers the PHC forms share.
//!
//! - PHC: `$pbkdf2-sha256$i=<iterations>,l=<length>$<salt>$<hash>` (SHA-1 as `$pbkdf2-sha1$`
//!   or `$pbkdf2$`), salt and hash in base64 without padding; the salt is its decoded bytes.
//! - passlib: `$pbkdf2-sha256$<iterations>$<salt>$<hash>` (SHA-1 as `$pbkdf2$`), in passlib's
//!   "adapted" base64 (`.` for `+`); the salt is its decoded bytes.
//! - Django: `pbkdf2_sha256$<iterations>$<salt>$<hash>` (and `pbkdf2_sha1`), the hash in
//!   standard base64 with padding; the salt is the text itself.

use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD},
};

use super::{HashRefusal, PBKDF2_MAX_ITERATIONS, Scheme, StoredHash};

/// The HMAC digest of a PBKDF2 hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::password) enum Digest {
    Sha1,
    Sha256,
    Sha512,
}

impl Digest {
    fn scheme(self) -> Scheme {
        match self {
            Digest::Sha1 => Scheme::Pbkdf2Sha1,
            Digest::Sha256 => Scheme::Pbkdf2Sha256,
            Digest::Sha512 => Scheme::Pbkdf2Sha512,
        }
    }
}

/// A PBKDF2 hash in any of its spellings, or None when `hash` is not shaped like one.
pub(super) fn parse(hash: &str) -> Option<Result<(Scheme, StoredHash), HashRefusal>> {
    let (digest, rest, django) = if let Some(rest) = hash.strip_prefix("pbkdf2_sha256$") {
        (Digest::Sha256, rest, true)
    } else if let Some(rest) = hash.strip_prefix("pbkdf2_sha1$") {
        (Digest::Sha1, rest, true)
    } else if let Some(rest) = hash.strip_prefix("$pbkdf2-sha256$") {
        (Digest::Sha256, rest, false)
    } else if let Some(rest) = hash.strip_prefix("$pbkdf2-sha512$") {
        (Digest::Sha512, rest, false)
    } else if let Some(rest) = hash
        .strip_prefix("$pbkdf2-sha1$")
        .or_else(|| hash.strip_prefix("$pbkdf2$"))
    {
        (Digest::Sha1, rest, false)
    } else {
        return None;
    };
    let stored = fields(rest, django).and_then(|(iterations, salt, expected)| {
        let within = (1..=u64::from(PBKDF2_MAX_ITERATIONS)).contains(&iterations)
            && (1..=64).contains(&expected.len());
        if !within {
            return Err(HashRefusal::OutOfBounds);
        }
        Ok(StoredHash::Pbkdf2 {
            digest,
            iterations: iterations as u32,
            salt,
            expected,
        })
    });
    Some(stored.map(|stored| (digest.scheme(), stored)))
}

/// The iterations, salt bytes and expected output of the fields after the scheme's prefix.
fn fields(rest: &str, django: bool) -> Result<(u64, Vec<u8>, Vec<u8>), HashRefusal> {
    use HashRefusal::Unsupported;
    let mut fields = rest.split('$');
    let (Some(cost), Some(salt), Some(expected), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(Unsupported);
    };
    if salt.is_empty() {
        return Err(Unsupported);
    }
    if django {
        let expected = STANDARD.decode(expected).map_err(|_| Unsupported)?;
        return Ok((number(cost)?, salt.as_bytes().to_vec(), expected));
    }
    let iterations = if cost.contains('=') {
        let [iterations, length] = named_numbers(cost, ["i", "l"]).ok_or(Unsupported)?;
        let expected = decode_b64(expected).ok_or(Unsupported)?;
        if length != expected.len() as u64 {
            return Err(Unsupported);
        }
        iterations
    } else {
        number(cost)?
    };
    let salt = decode_b64(salt).ok_or(Unsupported)?;
    let expected = decode_b64(expected).ok_or(Unsupported)?;
    Ok((iterations, salt, expected))
}

/// A decimal number; one too large for a u64 reads as u64::MAX, so that it is out of bounds
/// rather than malformed. The PBKDF2 and sha-crypt readers share it.
pub(super) fn number(text: &str) -> Result<u64, HashRefusal> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HashRefusal::Unsupported);
    }
    Ok(text.parse().unwrap_or(u64::MAX))
}

/// The values of `a=1,b=2,...` for exactly these names, in this order.
pub(super) fn named_numbers<const N: usize>(text: &str, names: [&str; N]) -> Option<[u64; N]> {
    let mut values = [0; N];
    let mut pairs = text.split(',');
    for (name, value) in names.iter().zip(&mut values) {
        let (key, digits) = pairs.next()?.split_once('=')?;
        if key != *name {
            return None;
        }
        *value = number(digits).ok()?;
    }
    pairs.next().is_none().then_some(values)
}

/// Base64 without padding, in the standard alphabet or passlib's adapted one (`.` for `+`).
pub(super) fn decode_b64(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() {
        return None;
    }
    STANDARD_NO_PAD.decode(text.replace('.', "+")).ok()
}
