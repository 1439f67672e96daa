//! Validated request values: each is parsed once from raw input, with the IAM constraints and
//! messages, and cannot exist in an invalid state afterwards.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use super::error::Violations;

const USER_NAME_PATTERN: &str = r"[\w+=,.@-]+";
const PASSWORD_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";
const PATH_PATTERN: &str = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)";
const PATH_PREFIX_PATTERN: &str = r"\u002F[\u0021-\u007F]*";
const PATH_MAX_LEN: usize = 512;

/// Checks a length in characters against `min..=max`, in the IAM wording.
pub(super) fn check_length(
    violations: &mut Violations,
    field: &str,
    len: usize,
    min: usize,
    max: usize,
) {
    if len < min {
        violations.push(
            field.to_owned(),
            format!("Member must have length greater than or equal to {min}"),
        );
    }
    if len > max {
        violations.push(
            field.to_owned(),
            format!("Member must have length less than or equal to {max}"),
        );
    }
}

/// Checks every character against `allowed`; an empty value is left to the length check.
pub(super) fn check_pattern(
    violations: &mut Violations,
    field: &str,
    value: &str,
    allowed: impl Fn(char) -> bool,
    pattern: &str,
) {
    if !value.chars().all(allowed) {
        violations.push(
            field.to_owned(),
            format!("Member must satisfy regular expression pattern: {pattern}"),
        );
    }
}

pub(super) fn finish<T>(
    violations: Violations,
    value: impl FnOnce() -> T,
) -> Result<T, Violations> {
    if violations.is_empty() {
        Ok(value())
    } else {
        Err(violations)
    }
}

/// An IAM user name: 1 to 64 of `[A-Za-z0-9_+=,.@-]`, kept as the caller spelled it.
///
/// Names are unique without regard to case; [`UserName::key`] is the form they are stored and
/// compared under.
#[derive(Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        check_length(&mut violations, field, raw.chars().count(), 1, 64);
        check_pattern(
            &mut violations,
            field,
            raw,
            is_user_name_char,
            USER_NAME_PATTERN,
        );
        finish(violations, || Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive identity of the name (ASCII lower case: names are ASCII).
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

pub(super) fn is_user_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A password as IAM accepts it: 1 to 128 characters of tab, LF, CR and U+0020..=U+00FF.
///
/// The value is a secret: `Debug` redacts it, it is zeroed on drop, and no message ever
/// contains it.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(field: &'static str, raw: String) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        check_length(&mut violations, field, raw.chars().count(), 1, 128);
        check_pattern(
            &mut violations,
            field,
            &raw,
            is_password_char,
            PASSWORD_PATTERN,
        );
        let secret = SecretString::from(raw);
        finish(violations, || Self(secret))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Lets the hashing pool read the password without knowing the domain's types.
impl ExposeSecret<str> for Password {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

fn is_password_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}')
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// An IAM path: `/`, or `/` + segments of printable ASCII + `/`, up to 512 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPath(String);

impl UserPath {
    /// Parses a path; the empty string means `/`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Violations> {
        if raw.is_empty() {
            return Ok(Self("/".to_owned()));
        }
        let mut violations = Violations::default();
        check_length(&mut violations, field, raw.chars().count(), 1, PATH_MAX_LEN);
        let well_formed = raw.starts_with('/')
            && raw.ends_with('/')
            && raw.chars().all(|c| ('\u{21}'..='\u{7E}').contains(&c));
        if !well_formed {
            violations.push(
                field,
                format!("Member must satisfy regular expression pattern: {PATH_PATTERN}"),
            );
        }
        finish(violations, || Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A path prefix filter for listings: `/` followed by printable ASCII; empty means everyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPrefix(String);

impl PathPrefix {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Violations> {
        if raw.is_empty() {
            return Ok(Self("/".to_owned()));
        }
        let mut violations = Violations::default();
        check_length(&mut violations, field, raw.chars().count(), 1, PATH_MAX_LEN);
        let well_formed =
            raw.starts_with('/') && raw.chars().all(|c| ('\u{21}'..='\u{7F}').contains(&c));
        if !well_formed {
            violations.push(
                field,
                format!("Member must satisfy regular expression pattern: {PATH_PREFIX_PATTERN}"),
            );
        }
        finish(violations, || Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks an integer against `min..=max` in the IAM wording.
pub(super) fn check_range(
    field: &'static str,
    value: i64,
    min: i64,
    max: i64,
) -> Result<(), Violations> {
    let mut violations = Violations::default();
    if value < min {
        violations.push(
            field,
            format!("Member must have value greater than or equal to {min}"),
        );
    }
    if value > max {
        violations.push(
            field,
            format!("Member must have value less than or equal to {max}"),
        );
    }
    finish(violations, || ())
}

#[cfg(test)]
mod tests;
