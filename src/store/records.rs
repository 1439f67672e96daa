//! The stored records, encoded with prost so that fields can be added without a migration.
//! Times are milliseconds since the Unix epoch.

/// An IAM user.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UserRecord {
    /// The name as created (the key is its lower-case form).
    #[prost(string, tag = "1")]
    pub user_name: String,
    #[prost(string, tag = "2")]
    pub user_id: String,
    #[prost(string, tag = "3")]
    pub path: String,
    #[prost(int64, tag = "4")]
    pub create_date_ms: i64,
    #[prost(int64, optional, tag = "5")]
    pub password_last_used_ms: Option<i64>,
    /// Tags in key order without regard to case (keys are unique that way).
    #[prost(message, repeated, tag = "6")]
    pub tags: Vec<TagRecord>,
}

/// A key/value tag on a user.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TagRecord {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// A login profile: the password hash of one user and its state.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProfileRecord {
    /// argon2id PHC string of the current password.
    #[prost(string, tag = "1")]
    pub password_hash: String,
    #[prost(int64, tag = "2")]
    pub create_date_ms: i64,
    #[prost(bool, tag = "3")]
    pub password_reset_required: bool,
    /// When the current password was set (for expiry).
    #[prost(int64, tag = "4")]
    pub password_set_ms: i64,
    /// PHC strings of earlier passwords, newest first, for reuse prevention (at most 24).
    #[prost(string, repeated, tag = "5")]
    pub previous_hashes: Vec<String>,
    /// Bumped on every replacement, for compare-and-swap.
    #[prost(uint64, tag = "6")]
    pub version: u64,
}

/// The account password policy. Optional fields are stored only when they were given.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PolicyRecord {
    #[prost(uint32, tag = "1")]
    pub minimum_password_length: u32,
    #[prost(bool, tag = "2")]
    pub require_symbols: bool,
    #[prost(bool, tag = "3")]
    pub require_numbers: bool,
    #[prost(bool, tag = "4")]
    pub require_uppercase_characters: bool,
    #[prost(bool, tag = "5")]
    pub require_lowercase_characters: bool,
    #[prost(bool, tag = "6")]
    pub allow_users_to_change_password: bool,
    #[prost(uint32, optional, tag = "7")]
    pub max_password_age: Option<u32>,
    #[prost(uint32, optional, tag = "8")]
    pub password_reuse_prevention: Option<u32>,
    #[prost(bool, optional, tag = "9")]
    pub hard_expiry: Option<bool>,
}

/// Consecutive failed verifications of one user name, and the attempts still being checked.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct LockoutRecord {
    #[prost(uint32, tag = "1")]
    pub consecutive_failures: u32,
    /// Verification is refused until this time (0: not locked).
    #[prost(int64, tag = "2")]
    pub locked_until_ms: i64,
    /// When the last failure happened, for evicting old entries.
    #[prost(int64, tag = "3")]
    pub last_failure_ms: i64,
    /// Attempts admitted and not settled yet; each counts against the threshold until it is
    /// settled or its lease ends (so a crashed process leaves none behind for long).
    #[prost(message, repeated, tag = "4")]
    pub in_flight: Vec<InFlightAttempt>,
}

/// One admitted attempt whose hash is being checked.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct InFlightAttempt {
    /// Random, so that settling removes exactly this attempt.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// The attempt stops counting at this time, settled or not.
    #[prost(int64, tag = "2")]
    pub lease_until_ms: i64,
}

/// The store's own account of what it holds, updated in the same transaction as every write
/// acknowledged to a caller (not the lazy ones: last use, re-hash, lockout).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct LedgerRecord {
    /// Random, made with the store; the acknowledged-write mark carries it too, so a mark is
    /// never compared with another store's count.
    #[prost(bytes = "vec", tag = "1")]
    pub store_id: Vec<u8>,
    /// Acknowledged writes so far: the number of the last one.
    #[prost(uint64, tag = "2")]
    pub seq: u64,
    #[prost(uint64, tag = "3")]
    pub users: u64,
    #[prost(uint64, tag = "4")]
    pub profiles: u64,
    #[prost(bool, tag = "5")]
    pub policy: bool,
    /// An import is writing into the store: set before its first record, cleared with the
    /// write that counts them. A store that still has it set is refused at open.
    #[prost(bool, tag = "6")]
    pub importing: bool,
    /// Virtual MFA devices.
    #[prost(uint64, tag = "7")]
    pub devices: u64,
}

/// A virtual MFA device: its sealed TOTP seed and, once enabled, the user it belongs to. The
/// key is the lower-case name (names are unique without regard to case or path).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DeviceRecord {
    /// The name as created, without its path.
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub path: String,
    #[prost(string, tag = "3")]
    pub serial_number: String,
    #[prost(int64, tag = "4")]
    pub create_date_ms: i64,
    /// The TOTP seed, encrypted; never stored in clear.
    #[prost(message, optional, tag = "5")]
    pub seed: Option<SealedSeedRecord>,
    /// Tags in key order without regard to case.
    #[prost(message, repeated, tag = "6")]
    pub tags: Vec<TagRecord>,
    /// The user-name key of the user the device is enabled for; absent while unassigned.
    #[prost(string, optional, tag = "7")]
    pub user_key: Option<String>,
    #[prost(int64, optional, tag = "8")]
    pub enable_date_ms: Option<i64>,
    /// The last TOTP time step a code was accepted for (replay protection): a code is accepted
    /// only for a later step. Reset when the device is deactivated.
    #[prost(int64, optional, tag = "9")]
    pub last_step: Option<i64>,
    /// The device's clock drift in steps, as ResyncMFADevice measured it.
    #[prost(int64, tag = "10")]
    pub drift_steps: i64,
    /// Bumped on every replacement, for compare-and-swap.
    #[prost(uint64, tag = "11")]
    pub version: u64,
}

/// A TOTP seed encrypted with AES-256-GCM. The associated data binds it to its device and to
/// the user it is enabled for, so a ciphertext copied to another record does not open.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct SealedSeedRecord {
    /// Which key of the key file sealed it (a fingerprint of the key, never the key).
    #[prost(string, tag = "1")]
    pub key_id: String,
    /// 96-bit nonce, random per sealing.
    #[prost(bytes = "vec", tag = "2")]
    pub nonce: Vec<u8>,
    /// The ciphertext with its 128-bit tag.
    #[prost(bytes = "vec", tag = "3")]
    pub ciphertext: Vec<u8>,
}
