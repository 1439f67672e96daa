//! Seeds at rest: AES-256-GCM under the keys of the operator's key file.
//!
//! The first key seals, every key opens, so keys rotate by putting a new key first and keeping
//! the old ones until every seed has been sealed again. A sealed seed names its key by a key id,
//! a fingerprint that identifies the key without revealing anything usable about it. The
//! associated data binds a sealed seed to its device and user, so a record copied onto another
//! device or user does not open.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use aes_gcm::{
    Aes256Gcm, KeyInit as _, Nonce,
    aead::{Aead as _, Payload},
};
use anyhow::{Context as _, bail};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use rand::RngCore as _;
use secrecy::{
    ExposeSecret as _, SecretBox,
    zeroize::{Zeroize as _, Zeroizing},
};
use sha2::{Digest as _, Sha256};

use super::{Seed, seed::SEED_LEN};
use crate::store::SealedSeedRecord;

/// The length of a key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

const NONCE_LEN: usize = 12;

/// Hashed before a key to make its id, so the id is of no use as a hash of the key elsewhere.
const KEY_ID_DOMAIN: &[u8] = b"loginprofiled mfa key id\0";

/// Starts the associated data of every sealed seed; the byte after it is the layout's version.
const BINDING_DOMAIN: &[u8] = b"loginprofiled mfa seed\0";
const BINDING_VERSION: u8 = 1;

/// What a sealed seed belongs to. It is authenticated with the seed, not stored with it: the
/// caller gives the same binding to open as it gave to seal.
#[derive(Debug, Clone, Copy)]
pub struct SeedBinding<'a> {
    /// The device's key in the store.
    pub device_key: &'a str,
    /// The id of the user the device is enabled for; `None` while it is unassigned.
    pub user_id: Option<&'a str>,
}

impl SeedBinding<'_> {
    /// The associated data: the domain and version, then each part length-prefixed, the user id
    /// after a byte saying whether there is one, so no two bindings share an encoding.
    fn associated_data(&self) -> Vec<u8> {
        let mut data = Vec::with_capacity(
            BINDING_DOMAIN.len() + 10 + self.device_key.len() + self.user_id.map_or(0, str::len),
        );
        data.extend_from_slice(BINDING_DOMAIN);
        data.push(BINDING_VERSION);
        push_prefixed(&mut data, self.device_key);
        match self.user_id {
            None => data.push(0),
            Some(user_id) => {
                data.push(1);
                push_prefixed(&mut data, user_id);
            }
        }
        data
    }
}

fn push_prefixed(data: &mut Vec<u8>, part: &str) {
    let len = u32::try_from(part.len()).expect("a device key or user id is shorter than 4 GiB");
    data.extend_from_slice(&len.to_be_bytes());
    data.extend_from_slice(part.as_bytes());
}

/// Why a sealed seed did not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("sealed under key {key_id}, which the key file does not hold")]
    UnknownKey { key_id: String },
    #[error(
        "does not open under key {key_id}: the record was altered or moved to another device or user"
    )]
    Damaged { key_id: String },
}

/// The keys of the key file, the first of which seals. `Debug` shows the key ids only.
pub struct Keyring {
    keys: Vec<Key>,
    /// The file it was read from and its mode, when group or others may read it.
    exposed: Option<(PathBuf, u32)>,
}

struct Key {
    id: String,
    secret: SecretBox<[u8; KEY_LEN]>,
}

impl Keyring {
    /// Reads the key file: one key a line, the standard base64 of 32 random bytes, the first
    /// key sealing and all of them opening. Blank lines and lines starting with `#` are skipped,
    /// as is whitespace around a key. Errors name the file and line, never what the line holds.
    /// A file that group or others may read is loaded, and remembered for
    /// [`Keyring::warn_if_exposed`] (configuration is read before logging starts).
    pub fn load(path: &Path) -> anyhow::Result<Keyring> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the MFA key file {}", path.display()))?,
        );
        let mut keyring =
            Keyring::parse(&text).with_context(|| format!("MFA key file {}", path.display()))?;
        keyring.exposed = exposed_mode(path).map(|mode| (path.to_owned(), mode));
        Ok(keyring)
    }

    /// Logs a warning when the key file is open to group or others: the keys are all that
    /// stands between a copy of the store and every seed in it.
    pub fn warn_if_exposed(&self) {
        if let Some((path, mode)) = &self.exposed {
            tracing::warn!(
                file = %path.display(),
                mode = format!("{mode:04o}"),
                "the MFA key file may be read by group or others; expected mode 0600"
            );
        }
    }

    /// A keyring of these keys, the first of which seals.
    ///
    /// # Panics
    /// If `keys` is empty: a keyring always has a key to seal with.
    pub fn from_keys(mut keys: Vec<[u8; KEY_LEN]>) -> Keyring {
        assert!(!keys.is_empty(), "a keyring holds at least one key");
        let keyring = Keyring {
            keys: keys.iter().map(Key::new).collect(),
            exposed: None,
        };
        keys.zeroize();
        keyring
    }

    /// A fresh random key as one line of a key file (without the line break).
    pub fn generate_key_line() -> String {
        let key = SecretBox::<[u8; KEY_LEN]>::init_with_mut(|bytes| rand::rng().fill_bytes(bytes));
        STANDARD.encode(key.expose_secret())
    }

    /// The id of the key that seals.
    pub fn primary_id(&self) -> &str {
        &self.keys[0].id
    }

    /// The ids of all the keys, the sealing key first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|key| key.id.as_str())
    }

    /// Whether a key with this id is in the keyring (so seeds sealed under it open).
    pub fn knows(&self, key_id: &str) -> bool {
        self.key(key_id).is_some()
    }

    /// Seals `seed` for `binding` under the first key, with a fresh random 96-bit nonce (random
    /// nonces are safe for 2^32 sealings under one key, far more than a store holds devices).
    pub fn seal(&self, seed: &Seed, binding: &SeedBinding<'_>) -> SealedSeedRecord {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = binding.associated_data();
        let ciphertext = key
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: seed.bytes(),
                    aad: &aad,
                },
            )
            .expect("AES-GCM seals a 20-byte message");
        SealedSeedRecord {
            key_id: key.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    /// The seed `sealed` holds, if it was sealed for `binding` under a key of this keyring and
    /// not altered since.
    pub fn open(
        &self,
        sealed: &SealedSeedRecord,
        binding: &SeedBinding<'_>,
    ) -> Result<Seed, OpenError> {
        let key = self
            .key(&sealed.key_id)
            .ok_or_else(|| OpenError::UnknownKey {
                key_id: sealed.key_id.clone(),
            })?;
        let damaged = || OpenError::Damaged {
            key_id: sealed.key_id.clone(),
        };
        // `Nonce::from_slice` panics on any other length, and a stored record is not trusted.
        if sealed.nonce.len() != NONCE_LEN {
            return Err(damaged());
        }
        let aad = binding.associated_data();
        let plaintext = Zeroizing::new(
            key.cipher()
                .decrypt(
                    Nonce::from_slice(&sealed.nonce),
                    Payload {
                        msg: &sealed.ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| damaged())?,
        );
        let bytes: &[u8; SEED_LEN] = plaintext.as_slice().try_into().map_err(|_| damaged())?;
        Ok(Seed::from_bytes(bytes))
    }

    /// Parses the text of a key file; errors say which line, never what it holds.
    fn parse(text: &str) -> anyhow::Result<Keyring> {
        let mut keys: Vec<Key> = Vec::new();
        let mut lines_of_keys: Vec<usize> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // The decoder's own error names the offending byte, a piece of the key: not shown.
            let bytes = Zeroizing::new(STANDARD.decode(line).map_err(|_| {
                anyhow::anyhow!("line {number}: not a key (standard base64 of 32 bytes)")
            })?);
            let bytes: &[u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
                anyhow::anyhow!(
                    "line {number}: a key is 32 bytes and this line holds {}",
                    bytes.len()
                )
            })?;
            let key = Key::new(bytes);
            if let Some(earlier) = keys.iter().position(|k| k.id == key.id) {
                let earlier_line = lines_of_keys[earlier];
                bail!("line {number}: the same key as line {earlier_line}");
            }
            keys.push(key);
            lines_of_keys.push(number);
        }
        if keys.is_empty() {
            bail!("holds no key (one key a line: the standard base64 of 32 random bytes)");
        }
        Ok(Keyring {
            keys,
            exposed: None,
        })
    }

    fn key(&self, key_id: &str) -> Option<&Key> {
        self.keys.iter().find(|key| key.id == key_id)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish()
    }
}

impl Key {
    fn new(bytes: &[u8; KEY_LEN]) -> Key {
        Key {
            id: key_id(bytes),
            secret: SecretBox::init_with_mut(|secret: &mut [u8; KEY_LEN]| {
                secret.copy_from_slice(bytes)
            }),
        }
    }

    /// A cipher for one operation. Expanding the key costs well under a microsecond, and a
    /// cipher that is dropped at once leaves its round keys in memory only that long.
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.secret.expose_secret().into())
    }
}

/// The first 8 bytes of SHA-256(domain || key), in lower-case hex: 64 bits tell keys apart in
/// a file of a few, and a prefix of a hash reveals nothing of use about a 256-bit key.
fn key_id(key: &[u8; KEY_LEN]) -> String {
    let digest = Sha256::new()
        .chain_update(KEY_ID_DOMAIN)
        .chain_update(key)
        .finalize();
    hex::encode(&digest[..8])
}

/// The file's permission bits, when group or others may read it.
fn exposed_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(test)]
mod tests;
