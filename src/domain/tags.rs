//! IAM tags on users: checked as IAM checks them, and merged into a user's tags under IAM's
//! rules (keys unique without regard to case, at most 50 per user).

use std::sync::LazyLock;

use regex::Regex;

use super::{
    IamError, Violations,
    input::{check_length, finish},
};
use crate::store::TagRecord;

/// The most tags a user may carry, and the most one request may name.
pub const MAX_TAGS: usize = 50;
const KEY_MAX_LEN: usize = 128;
const VALUE_MAX_LEN: usize = 256;
const KEY_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
const VALUE_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";

/// IAM's tag character class (Unicode letters, separators and numbers, and `_.:/=+-@`).
static TAG_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").expect("the tag pattern is a valid regex")
});

/// A tag as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl From<TagRecord> for Tag {
    fn from(record: TagRecord) -> Self {
        Self {
            key: record.key,
            value: record.value,
        }
    }
}

impl From<Tag> for TagRecord {
    fn from(tag: Tag) -> Self {
        Self {
            key: tag.key,
            value: tag.value,
        }
    }
}

/// The form keys are compared under: IAM tag keys on users are unique without regard to case.
pub(super) fn fold(key: &str) -> String {
    key.to_lowercase()
}

fn check_text(violations: &mut Violations, field: &str, text: &str, pattern: &str) {
    if !TAG_TEXT.is_match(text) {
        violations.push(
            field.to_owned(),
            format!("Member must satisfy regular expression pattern: {pattern}"),
        );
    }
}

fn check_count(violations: &mut Violations, field: &'static str, count: usize, required: bool) {
    if required && count == 0 {
        // gRPC cannot tell an empty list from an absent one; either way there is nothing to do.
        violations.push(field, "Member must not be null");
    }
    if count > MAX_TAGS {
        violations.push(
            field,
            format!("Member must have length less than or equal to {MAX_TAGS}"),
        );
    }
}

/// Checks the shape of a request's tags: at most 50 (at least one when `required`), each key
/// 1-128 and each value 0-256 characters of IAM's pattern. Members are named as IAM names
/// them, e.g. `tags.2.member.key`.
pub(super) fn parse_tags(
    field: &'static str,
    tags: Vec<Tag>,
    required: bool,
) -> Result<Vec<Tag>, Violations> {
    let mut violations = Violations::default();
    check_count(&mut violations, field, tags.len(), required);
    for (i, tag) in tags.iter().enumerate() {
        let key_field = format!("{field}.{}.member.key", i + 1);
        check_length(
            &mut violations,
            &key_field,
            tag.key.chars().count(),
            1,
            KEY_MAX_LEN,
        );
        check_text(&mut violations, &key_field, &tag.key, KEY_PATTERN);
        let value_field = format!("{field}.{}.member.value", i + 1);
        check_length(
            &mut violations,
            &value_field,
            tag.value.chars().count(),
            0,
            VALUE_MAX_LEN,
        );
        check_text(&mut violations, &value_field, &tag.value, VALUE_PATTERN);
    }
    finish(violations, || tags)
}

/// Checks the shape of UntagUser's keys: 1 to 50 keys of 1-128 characters of IAM's pattern.
pub(super) fn parse_keys(
    field: &'static str,
    keys: Vec<String>,
) -> Result<Vec<String>, Violations> {
    let mut violations = Violations::default();
    check_count(&mut violations, field, keys.len(), true);
    for (i, key) in keys.iter().enumerate() {
        let key_field = format!("{field}.{}.member", i + 1);
        check_length(
            &mut violations,
            &key_field,
            key.chars().count(),
            1,
            KEY_MAX_LEN,
        );
        check_text(&mut violations, &key_field, key, KEY_PATTERN);
    }
    finish(violations, || keys)
}

/// The request's tags, refused as IAM refuses keys that repeat without regard to case.
pub(super) fn unique(tags: Vec<Tag>) -> Result<Vec<Tag>, IamError> {
    let mut folded: Vec<String> = tags.iter().map(|t| fold(&t.key)).collect();
    folded.sort_unstable();
    if folded.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(IamError::InvalidInput(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.".to_owned(),
        ));
    }
    Ok(tags)
}

/// Tags as stored: in key order without regard to case, one order whatever order they came in,
/// so a change that changes nothing leaves an equal record. Not the order IAM shows them in:
/// see [`listed`].
pub(super) fn sorted_records(tags: Vec<Tag>) -> Vec<TagRecord> {
    let mut records: Vec<TagRecord> = tags.into_iter().map(TagRecord::from).collect();
    records.sort_by_cached_key(|t| fold(&t.key));
    records
}

/// A user's tags as IAM lists them (ListUserTags, GetUser): by key as written, compared byte
/// by byte, so capitals come before small letters (`Stan` before `like-a`). Sorted here, on
/// the way out, so the order does not depend on how a store keeps them.
pub(super) fn listed(records: Vec<TagRecord>) -> Vec<Tag> {
    let mut tags: Vec<Tag> = records.into_iter().map(Tag::from).collect();
    // Keys are unique without regard to case, so unique as written: no ties to keep stable.
    tags.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    tags
}

/// `current` with `added` applied: an added tag replaces the one whose key matches it without
/// regard to case (key spelling and value both become the new ones). LimitExceeded when the
/// result would hold more than 50 tags; the caller's request then changes nothing.
pub(super) fn merged(current: &[TagRecord], added: &[Tag]) -> Result<Vec<TagRecord>, IamError> {
    let replaced: Vec<String> = added.iter().map(|t| fold(&t.key)).collect();
    let mut tags: Vec<TagRecord> = current
        .iter()
        .filter(|t| !replaced.contains(&fold(&t.key)))
        .cloned()
        .collect();
    tags.extend(added.iter().cloned().map(TagRecord::from));
    if tags.len() > MAX_TAGS {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for TagsPerUser: {MAX_TAGS}."
        )));
    }
    tags.sort_by_cached_key(|t| fold(&t.key));
    Ok(tags)
}

/// `current` without the tags whose keys match one of `keys` without regard to case.
pub(super) fn without(current: &[TagRecord], keys: &[String]) -> Vec<TagRecord> {
    let removed: Vec<String> = keys.iter().map(|k| fold(k)).collect();
    current
        .iter()
        .filter(|t| !removed.contains(&fold(&t.key)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;
