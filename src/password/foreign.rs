//! Verifiers of the imported schemes, each from a crate made for it, each comparing in constant
//! time. argon2 is verified by the worker itself, with its reusable memory.
//!
//! - bcrypt: the `bcrypt` crate (the one Rust bcrypt most projects use; it compares with
//!   `subtle`), all three prefixes.
//! - PBKDF2: RustCrypto's `pbkdf2` with `hmac`, `sha1` and `sha2`; compared here with `subtle`.
//! - scrypt: RustCrypto's `scrypt`; compared here with `subtle`.
//! - sha512-crypt and sha256-crypt: RustCrypto's `sha-crypt`, computing the hash from the salt
//!   and rounds read in [`super::stored`]; compared here with `subtle`.
//! - md5-crypt: `pwhash` (RustCrypto has no md5-crypt), which compares in constant time.

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;

use super::stored::{Digest, StoredHash};

/// Whether `password` matches `hash`, read as `stored`. argon2 hashes are not for this function.
pub(super) fn verify(
    password: &SecretString,
    hash: &str,
    stored: &StoredHash,
) -> anyhow::Result<bool> {
    let password = password.expose_secret();
    Ok(match stored {
        StoredHash::Argon2 { .. } => anyhow::bail!("argon2 is verified by the worker"),
        StoredHash::Bcrypt => bcrypt::verify(password, hash).context("bcrypt")?,
        StoredHash::Pbkdf2 {
            digest,
            iterations,
            salt,
            expected,
        } => {
            let mut out = vec![0u8; expected.len()];
            let (password, rounds) = (password.as_bytes(), *iterations);
            match digest {
                Digest::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, &mut out),
                Digest::Sha256 => {
                    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, &mut out)
                }
                Digest::Sha512 => {
                    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, &mut out)
                }
            }
            out.ct_eq(expected).into()
        }
        StoredHash::Scrypt {
            params,
            salt,
            expected,
        } => {
            let mut out = vec![0u8; expected.len()];
            scrypt::scrypt(password.as_bytes(), salt, params, &mut out)
                .map_err(|e| anyhow::anyhow!("scrypt: {e}"))?;
            out.ct_eq(expected).into()
        }
        StoredHash::ShaCrypt {
            sha512,
            rounds,
            salt,
            expected,
        } => {
            let (password, salt, rounds) = (password.as_bytes(), salt.as_bytes(), *rounds as usize);
            let computed = if *sha512 {
                let params = sha_crypt::Sha512Params::new(rounds)
                    .map_err(|e| anyhow::anyhow!("sha512-crypt: {e:?}"))?;
                sha_crypt::sha512_crypt_b64(password, salt, &params)
            } else {
                let params = sha_crypt::Sha256Params::new(rounds)
                    .map_err(|e| anyhow::anyhow!("sha256-crypt: {e:?}"))?;
                sha_crypt::sha256_crypt_b64(password, salt, &params)
            }
            .map_err(|e| anyhow::anyhow!("sha-crypt: {e:?}"))?;
            computed.as_bytes().ct_eq(expected.as_bytes()).into()
        }
        StoredHash::Md5Crypt => pwhash::md5_crypt::verify(password, hash),
    })
}
