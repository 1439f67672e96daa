//! Conversions from domain values to wire messages.

use std::time::SystemTime;

use prost_types::Timestamp;

use super::proto;
use crate::domain::{LoginProfile, PasswordPolicy, Tag, User};

pub(super) fn timestamp(time: SystemTime) -> Timestamp {
    Timestamp::from(time)
}

impl From<User> for proto::User {
    fn from(u: User) -> Self {
        Self {
            user_name: u.user_name,
            user_id: u.user_id,
            arn: u.arn,
            path: u.path,
            create_date: Some(timestamp(u.create_date)),
            password_last_used: u.password_last_used.map(timestamp),
            tags: u.tags.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Tag> for proto::Tag {
    fn from(t: Tag) -> Self {
        Self {
            key: t.key,
            value: t.value,
        }
    }
}

impl From<LoginProfile> for proto::LoginProfile {
    fn from(p: LoginProfile) -> Self {
        Self {
            user_name: p.user_name,
            create_date: Some(timestamp(p.create_date)),
            password_reset_required: p.password_reset_required,
        }
    }
}

impl From<PasswordPolicy> for proto::PasswordPolicy {
    fn from(p: PasswordPolicy) -> Self {
        let to_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        Self {
            expire_passwords: p.expire_passwords(),
            minimum_password_length: to_i32(p.minimum_password_length),
            require_symbols: p.require_symbols,
            require_numbers: p.require_numbers,
            require_uppercase_characters: p.require_uppercase_characters,
            require_lowercase_characters: p.require_lowercase_characters,
            allow_users_to_change_password: p.allow_users_to_change_password,
            max_password_age: p.max_password_age.map(to_i32),
            password_reuse_prevention: p.password_reuse_prevention.map(to_i32),
            hard_expiry: p.hard_expiry,
        }
    }
}

/// Tags as a request carries them.
pub(super) fn tags(tags: Vec<proto::Tag>) -> Vec<Tag> {
    tags.into_iter()
        .map(|t| Tag {
            key: t.key,
            value: t.value,
        })
        .collect()
}
