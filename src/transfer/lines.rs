//! The lines of an export file: JSON objects whose `type` says what each holds. The format is
//! this module's own, apart from the stored records, so that the records can change without
//! changing the file.
//!
//! ```text
//! {"type":"header","format":"loginprofiled-export","version":2}
//! {"type":"user",...}            one per user, in key order
//! {"type":"profile",...}         right after its user's line, when the user has one
//! {"type":"device",...}          one per virtual MFA device, in key order, after every user
//! {"type":"policy",...}          when a policy is set
//! {"type":"end","users":N,"profiles":M,"devices":D,"policy":true,"sha256":"..."}
//! ```
//!
//! The `end` line (the trailer) counts what came before it, so that a truncated file is
//! detected, and carries the SHA-256 (hex) of every byte before it, each line with its `\n`,
//! so that a changed byte anywhere is. Version 1 exports had no `sha256`.
//!
//! Device lines came within version 2: an export without devices has none and no `devices` on
//! its `end` line (absent counts as 0), so it is the same file as before them, and an earlier
//! build refuses a file that has some (an unknown line type) rather than dropping them.

use base64::prelude::{BASE64_STANDARD, Engine as _};
use serde::{Deserialize, Serialize};

use crate::store::{
    DeviceRecord, PolicyRecord, ProfileRecord, SealedSeedRecord, TagRecord, UserRecord,
};

pub(super) const FORMAT: &str = "loginprofiled-export";
pub(super) const VERSION: u32 = 2;
/// The version before the trailer carried a SHA-256: read only when the caller accepts that.
pub(super) const VERSION_WITHOUT_CHECKSUM: u32 = 1;

/// A line: its type first, then its fields.
#[derive(Debug, Serialize)]
pub(super) struct Typed<'a, T> {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    #[serde(flatten)]
    pub(super) line: &'a T,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Header {
    pub(super) format: String,
    pub(super) version: u32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct User {
    pub(super) user_name: String,
    pub(super) user_id: String,
    pub(super) path: String,
    pub(super) create_date_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) password_last_used_ms: Option<i64>,
    #[serde(default)]
    pub(super) tags: Vec<Tag>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Tag {
    pub(super) key: String,
    pub(super) value: String,
}

/// Never printed whole: it holds password hashes.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Profile {
    pub(super) user_name: String,
    pub(super) password_hash: String,
    #[serde(default)]
    pub(super) previous_hashes: Vec<String>,
    pub(super) password_reset_required: bool,
    pub(super) create_date_ms: i64,
    pub(super) password_set_ms: i64,
    pub(super) version: u64,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("user_name", &self.user_name)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Policy {
    pub(super) minimum_password_length: u32,
    pub(super) require_symbols: bool,
    pub(super) require_numbers: bool,
    pub(super) require_uppercase_characters: bool,
    pub(super) require_lowercase_characters: bool,
    pub(super) allow_users_to_change_password: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) max_password_age: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) password_reuse_prevention: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) hard_expiry: Option<bool>,
}

/// A virtual MFA device. Its seed stays sealed, bytes as stored (base64); never printed whole.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Device {
    pub(super) name: String,
    pub(super) path: String,
    pub(super) serial_number: String,
    pub(super) create_date_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) seed: Option<Seed>,
    #[serde(default)]
    pub(super) tags: Vec<Tag>,
    /// The key of the user the device is enabled for (the user's name in lower case), whose
    /// line comes earlier; absent while unassigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) user_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) enable_date_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) last_step: Option<i64>,
    #[serde(default)]
    pub(super) drift_steps: i64,
    pub(super) version: u64,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("name", &self.name)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A sealed TOTP seed as the store holds it: which key sealed it, the nonce and the
/// ciphertext (standard base64).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Seed {
    pub(super) key_id: String,
    pub(super) nonce: String,
    pub(super) ciphertext: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct End {
    pub(super) users: u64,
    pub(super) profiles: u64,
    /// Absent (0) in exports without devices, so that they are the files they were before.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(super) devices: u64,
    pub(super) policy: bool,
    /// Hex SHA-256 of every line before this one; None only in version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sha256: Option<String>,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

fn tag_lines(tags: &[TagRecord]) -> Vec<Tag> {
    tags.iter()
        .map(|t| Tag {
            key: t.key.clone(),
            value: t.value.clone(),
        })
        .collect()
}

fn tag_records(tags: Vec<Tag>) -> Vec<TagRecord> {
    tags.into_iter()
        .map(|t| TagRecord {
            key: t.key,
            value: t.value,
        })
        .collect()
}

impl From<&DeviceRecord> for Device {
    fn from(d: &DeviceRecord) -> Self {
        Self {
            name: d.name.clone(),
            path: d.path.clone(),
            serial_number: d.serial_number.clone(),
            create_date_ms: d.create_date_ms,
            seed: d.seed.as_ref().map(|s| Seed {
                key_id: s.key_id.clone(),
                nonce: BASE64_STANDARD.encode(&s.nonce),
                ciphertext: BASE64_STANDARD.encode(&s.ciphertext),
            }),
            tags: tag_lines(&d.tags),
            user_key: d.user_key.clone(),
            enable_date_ms: d.enable_date_ms,
            last_step: d.last_step,
            drift_steps: d.drift_steps,
            version: d.version,
        }
    }
}

impl Device {
    /// The record, or what is wrong with the seed's encoding.
    pub(super) fn into_record(self) -> Result<DeviceRecord, &'static str> {
        let seed = match self.seed {
            Some(seed) => Some(SealedSeedRecord {
                key_id: seed.key_id,
                nonce: BASE64_STANDARD
                    .decode(&seed.nonce)
                    .map_err(|_| "the seed's nonce is not standard base64")?,
                ciphertext: BASE64_STANDARD
                    .decode(&seed.ciphertext)
                    .map_err(|_| "the seed's ciphertext is not standard base64")?,
            }),
            None => None,
        };
        Ok(DeviceRecord {
            name: self.name,
            path: self.path,
            serial_number: self.serial_number,
            create_date_ms: self.create_date_ms,
            seed,
            tags: tag_records(self.tags),
            user_key: self.user_key,
            enable_date_ms: self.enable_date_ms,
            last_step: self.last_step,
            drift_steps: self.drift_steps,
            version: self.version,
        })
    }
}

impl From<&UserRecord> for User {
    fn from(u: &UserRecord) -> Self {
        Self {
            user_name: u.user_name.clone(),
            user_id: u.user_id.clone(),
            path: u.path.clone(),
            create_date_ms: u.create_date_ms,
            password_last_used_ms: u.password_last_used_ms,
            tags: tag_lines(&u.tags),
        }
    }
}

impl From<User> for UserRecord {
    fn from(u: User) -> Self {
        Self {
            user_name: u.user_name,
            user_id: u.user_id,
            path: u.path,
            create_date_ms: u.create_date_ms,
            password_last_used_ms: u.password_last_used_ms,
            tags: tag_records(u.tags),
        }
    }
}

impl Profile {
    pub(super) fn new(user_name: &str, p: &ProfileRecord) -> Self {
        Self {
            user_name: user_name.to_owned(),
            password_hash: p.password_hash.clone(),
            previous_hashes: p.previous_hashes.clone(),
            password_reset_required: p.password_reset_required,
            create_date_ms: p.create_date_ms,
            password_set_ms: p.password_set_ms,
            version: p.version,
        }
    }

    pub(super) fn into_record(self) -> ProfileRecord {
        ProfileRecord {
            password_hash: self.password_hash,
            create_date_ms: self.create_date_ms,
            password_reset_required: self.password_reset_required,
            password_set_ms: self.password_set_ms,
            previous_hashes: self.previous_hashes,
            version: self.version,
        }
    }
}

impl From<&PolicyRecord> for Policy {
    fn from(p: &PolicyRecord) -> Self {
        Self {
            minimum_password_length: p.minimum_password_length,
            require_symbols: p.require_symbols,
            require_numbers: p.require_numbers,
            require_uppercase_characters: p.require_uppercase_characters,
            require_lowercase_characters: p.require_lowercase_characters,
            allow_users_to_change_password: p.allow_users_to_change_password,
            max_password_age: p.max_password_age,
            password_reuse_prevention: p.password_reuse_prevention,
            hard_expiry: p.hard_expiry,
        }
    }
}

impl From<Policy> for PolicyRecord {
    fn from(p: Policy) -> Self {
        Self {
            minimum_password_length: p.minimum_password_length,
            require_symbols: p.require_symbols,
            require_numbers: p.require_numbers,
            require_uppercase_characters: p.require_uppercase_characters,
            require_lowercase_characters: p.require_lowercase_characters,
            allow_users_to_change_password: p.allow_users_to_change_password,
            max_password_age: p.max_password_age,
            password_reuse_prevention: p.password_reuse_prevention,
            hard_expiry: p.hard_expiry,
        }
    }
}
