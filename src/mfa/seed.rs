//! The secret of a virtual MFA device: 20 random bytes (the 160 bits RFC 4226 recommends, and
//! what IAM issues), kept on the heap in a box that is wiped when dropped so moving a `Seed`
//! leaves no copies behind, and shown to a person only as base32.

use std::fmt;

use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretBox, SecretString, zeroize::Zeroizing};

/// The length of a seed in bytes.
pub const SEED_LEN: usize = 20;

/// The shared secret of one virtual MFA device. `Debug` prints `Seed(..)`, never the bytes.
pub struct Seed(SecretBox<[u8; SEED_LEN]>);

impl Seed {
    /// A fresh seed from the operating system's randomness (through the thread-local CSPRNG,
    /// which the OS seeds).
    pub fn generate() -> Seed {
        Seed(SecretBox::init_with_mut(|bytes: &mut [u8; SEED_LEN]| {
            rand::rng().fill_bytes(bytes)
        }))
    }

    /// The seed as an authenticator app is given it (IAM's `Base32StringSeed`): RFC 4648
    /// base32, upper case, without padding; 20 bytes make 32 characters.
    pub fn base32(&self) -> SecretString {
        let mut text = Zeroizing::new(String::with_capacity(base32_len(SEED_LEN)));
        encode_base32(self.bytes(), &mut text);
        SecretString::from(text.as_str())
    }

    /// A seed holding these bytes; the caller wipes its own copy.
    pub(super) fn from_bytes(bytes: &[u8; SEED_LEN]) -> Seed {
        Seed(SecretBox::init_with_mut(|seed: &mut [u8; SEED_LEN]| {
            seed.copy_from_slice(bytes)
        }))
    }

    pub(super) fn bytes(&self) -> &[u8; SEED_LEN] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(..)")
    }
}

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_len(bytes: usize) -> usize {
    (bytes * 8).div_ceil(5)
}

/// Appends the unpadded RFC 4648 base32 of `bytes` to `out`, five bits a character, most
/// significant first. Written here rather than taken from a crate so that the only copy of the
/// text is the buffer the caller wipes.
fn encode_base32(bytes: &[u8], out: &mut String) {
    let mut buffer: u16 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(
                BASE32_ALPHABET[usize::from((buffer >> bits) & 31)],
            ));
        }
    }
    if bits > 0 {
        out.push(char::from(
            BASE32_ALPHABET[usize::from((buffer << (5 - bits)) & 31)],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base32(bytes: &[u8]) -> String {
        let mut out = String::new();
        encode_base32(bytes, &mut out);
        out
    }

    #[test]
    fn base32_matches_the_rfc_4648_test_vectors_without_padding() {
        // RFC 4648 section 10, padding removed.
        let vectors = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (input, expected) in vectors {
            assert_eq!(base32(input.as_bytes()), expected, "base32 of {input:?}");
        }
    }

    #[test]
    fn a_seed_is_32_base32_characters_that_decode_back_to_it() {
        let seed = Seed::generate();
        let text = seed.base32();
        let text = text.expose_secret();
        assert_eq!(text.len(), 32);
        assert!(text.bytes().all(|c| BASE32_ALPHABET.contains(&c)));
        let decoded = totp_rs::Secret::try_from_base32(text).unwrap();
        assert_eq!(decoded.as_bytes(), seed.bytes());
    }

    #[test]
    fn the_rfc_6238_seed_has_the_base32_authenticators_know() {
        let seed = Seed::from_bytes(b"12345678901234567890");
        assert_eq!(
            seed.base32().expose_secret(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn generated_seeds_differ() {
        assert_ne!(Seed::generate().bytes(), Seed::generate().bytes());
    }

    #[test]
    fn debug_never_shows_the_seed() {
        let seed = Seed::from_bytes(&[0xAB; SEED_LEN]);
        let shown = format!("{seed:?}");
        assert_eq!(shown, "Seed(..)");
    }
}
