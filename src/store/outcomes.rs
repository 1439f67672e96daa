//! What the store's methods answer besides data: the outcomes of each write, pages of
//! listings, and snapshots for export and import.

use super::{DeviceRecord, PolicyRecord, ProfileRecord, UserRecord};

#[derive(Debug, Clone, PartialEq)]
pub enum InsertUser {
    Inserted,
    AlreadyExists,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeleteUser {
    Deleted,
    NoUser,
    HasProfile,
    /// An MFA device is still enabled for the user.
    HasDevice,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReplaceUser {
    Replaced,
    NoUser,
    /// The user changed since it was read; read it again.
    Stale,
    /// The new key belongs to another user.
    NameTaken,
}

/// What a user-name key holds, as far as login profiles are concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileLookup {
    NoUser,
    NoProfile(UserRecord),
    Found(UserRecord, ProfileRecord),
}

#[derive(Debug, Clone, PartialEq)]
pub enum InsertProfile {
    Inserted,
    NoUser,
    AlreadyExists,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReplaceProfile {
    Replaced,
    NoUser,
    NoProfile,
    /// The profile changed since it was read (its version moved on); read it again.
    Stale,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeleteProfile {
    Deleted,
    NoUser,
    NoProfile,
}

/// How many MFA devices a user may have enabled at once, as IAM allows since 2022.
pub const DEVICES_PER_USER: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub enum InsertDevice {
    Inserted,
    /// A device of that key exists.
    AlreadyExists,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReplaceDevice {
    Replaced,
    NoDevice,
    /// The device changed since it was read (its version moved on); read it again.
    Stale,
    /// The new record assigns the device to a user that does not exist.
    NoUser,
    /// The new record assigns the device to a user that already has [`DEVICES_PER_USER`].
    LimitExceeded,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeleteDevice {
    Deleted,
    NoDevice,
    /// The device is enabled for a user.
    Assigned,
}

/// Which devices [`Store::list_devices`](super::Store::list_devices) lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    Assigned,
    Unassigned,
    Any,
}

/// One page of devices in key order.
#[derive(Debug, Clone, PartialEq)]
pub struct DevicePage {
    pub devices: Vec<DeviceRecord>,
    /// The key of the last device returned when more matching devices follow.
    pub next_after: Option<String>,
}

/// One page of users in key order.
#[derive(Debug, Clone, PartialEq)]
pub struct UserPage {
    pub users: Vec<UserRecord>,
    /// The key of the last user returned when more matching users follow.
    pub next_after: Option<String>,
}

/// The whole content of a store as `loginprofiled import` writes it: users under their keys,
/// each with its login profile if it has one, the MFA devices (seeds sealed, as stored) and
/// the account password policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub users: Vec<SnapshotUser>,
    pub devices: Vec<DeviceRecord>,
    pub policy: Option<PolicyRecord>,
}

/// One user of a [`Snapshot`] with its login profile.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotUser {
    /// The user-name key (`UserName::key` of `user.user_name`).
    pub key: String,
    pub user: UserRecord,
    pub profile: Option<ProfileRecord>,
}

/// One record [`Store::read_all`](super::Store::read_all) hands over.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotEntry {
    /// A user with its login profile; every user comes before the first device.
    User(SnapshotUser),
    /// A virtual MFA device, its seed sealed as stored (its key is its name in lower case).
    Device(DeviceRecord),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Import {
    /// Everything in the snapshot is stored and durable.
    Imported,
    /// The store already holds a user, a device or the policy; nothing was written.
    NotEmpty,
}
