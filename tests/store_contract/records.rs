//! Records for the contract tests.

use loginprofiled::store::{
    LockoutRecord, PolicyRecord, ProfileRecord, Snapshot, SnapshotUser, TagRecord, UserRecord,
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

/// `n` users named u000.., every other one with a profile, and a policy.
pub fn snapshot(n: usize) -> Snapshot {
    Snapshot {
        users: (0..n)
            .map(|i| {
                let name = format!("User{i:03}");
                SnapshotUser {
                    key: key(&name),
                    user: user(&name, "/imported/"),
                    profile: (i % 2 == 0).then(|| profile(&name, 7)),
                }
            })
            .collect(),
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
