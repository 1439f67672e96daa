//! Records for the contract tests.

use loginprofiled::store::{
    DeviceRecord, LockoutRecord, PolicyRecord, ProfileRecord, SealedSeedRecord, Snapshot,
    SnapshotUser, TagRecord, UserRecord,
};

/// A user named `name` (its key is `key(name)`) on `path`.
pub fn user(name: &str, path: &str) -> UserRecord {
    UserRecord {
        user_name: name.to_owned(),
        user_id: format!("AIDA{:0>17}", name.len()),
        path: path.to_owned(),
        create_date_ms: 1_700_000_000_000,
        password_last_used_ms: None,
        tags: vec![TagRecord {
            key: "team".into(),
            value: name.to_owned(),
        }],
    }
}

pub fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// A profile at `version` whose hash names `tag` (a PHC-shaped string; the store keeps it
/// verbatim).
pub fn profile(tag: &str, version: u64) -> ProfileRecord {
    ProfileRecord {
        password_hash: format!("$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ${tag}"),
        create_date_ms: 1_700_000_000_000,
        password_reset_required: version % 2 == 1,
        password_set_ms: 1_700_000_000_000 + i64::try_from(version).unwrap(),
        previous_hashes: vec![format!("$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$old{tag}")],
        version,
    }
}

pub fn policy(minimum: u32) -> PolicyRecord {
    PolicyRecord {
        minimum_password_length: minimum,
        require_symbols: true,
        allow_users_to_change_password: true,
        max_password_age: Some(90),
        password_reuse_prevention: Some(3),
        hard_expiry: Some(false),
        ..PolicyRecord::default()
    }
}

/// A virtual MFA device named `name` (its key is `key(name)`) at `version`, enabled for the
/// user of `user_key` when given.
pub fn device(name: &str, user_key: Option<&str>, version: u64) -> DeviceRecord {
    DeviceRecord {
        name: name.to_owned(),
        path: "/mfa/".to_owned(),
        serial_number: format!("arn:aws:iam::123456789012:mfa/mfa/{name}"),
        create_date_ms: 1_700_000_000_000,
        seed: Some(SealedSeedRecord {
            key_id: "k1".to_owned(),
            nonce: vec![7; 12],
            ciphertext: name.bytes().chain([0xA5; 16]).collect(),
        }),
        tags: vec![TagRecord {
            key: "owner".into(),
            value: name.to_owned(),
        }],
        user_key: user_key.map(str::to_owned),
        enable_date_ms: user_key.map(|_| 1_700_000_001_000),
        last_step: user_key.map(|_| 56_666_667),
        drift_steps: -1,
        version,
    }
}

/// The device `device` as `replace_device` would store it next: enabled for `user_key` (or
/// unassigned), with its version bumped and `last_step` set.
pub fn next(device: &DeviceRecord, user_key: Option<&str>, last_step: i64) -> DeviceRecord {
    DeviceRecord {
        user_key: user_key.map(str::to_owned),
        last_step: Some(last_step),
        version: device.version + 1,
        ..device.clone()
    }
}

/// `n` users named u000.., every other one with a profile, a device for every third (from
/// User001), `n / 2` unassigned devices, and a policy.
pub fn snapshot(n: usize) -> Snapshot {
    let users: Vec<SnapshotUser> = (0..n)
        .map(|i| {
            let name = format!("User{i:03}");
            SnapshotUser {
                key: key(&name),
                user: user(&name, "/imported/"),
                profile: (i % 2 == 0).then(|| profile(&name, 7)),
            }
        })
        .collect();
    let assigned = users
        .iter()
        .skip(1)
        .step_by(3)
        .map(|u| device(&format!("Token-{}", u.user.user_name), Some(&u.key), 4));
    let spare = (0..n / 2).map(|i| device(&format!("Spare{i:03}"), None, 1));
    let mut devices: Vec<DeviceRecord> = assigned.chain(spare).collect();
    devices.sort_by_key(|d| key(&d.name));
    Snapshot {
        users,
        devices,
        policy: Some(policy(12)),
    }
}

/// A lockout state with `failures` failures, the last at `last_ms`.
pub fn failures(failures: u32, last_ms: i64) -> LockoutRecord {
    LockoutRecord {
        consecutive_failures: failures,
        last_failure_ms: last_ms,
        ..LockoutRecord::default()
    }
}
