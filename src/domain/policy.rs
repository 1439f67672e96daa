//! The account password policy: its operations, and the rules every new password must meet.

use super::{IamError, Password, Service, Violations, input::check_range};
use crate::operation::Operation;
use crate::store::PolicyRecord;

/// The 20 characters IAM counts as symbols.
pub const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";
/// At most this many password hashes (the current one included) are kept for reuse prevention.
pub(super) const MAX_REUSE_PREVENTION: u32 = 24;

/// The account password policy as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub minimum_password_length: u32,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    /// Days a password stays valid; absent when passwords never expire.
    pub max_password_age: Option<u32>,
    pub password_reuse_prevention: Option<u32>,
    pub hard_expiry: Option<bool>,
}

impl PasswordPolicy {
    /// True exactly when passwords expire (`max_password_age` is set).
    pub fn expire_passwords(&self) -> bool {
        self.max_password_age.is_some()
    }
}

impl From<PolicyRecord> for PasswordPolicy {
    fn from(r: PolicyRecord) -> Self {
        Self {
            minimum_password_length: r.minimum_password_length,
            require_symbols: r.require_symbols,
            require_numbers: r.require_numbers,
            require_uppercase_characters: r.require_uppercase_characters,
            require_lowercase_characters: r.require_lowercase_characters,
            allow_users_to_change_password: r.allow_users_to_change_password,
            max_password_age: r.max_password_age,
            password_reuse_prevention: r.password_reuse_prevention,
            hard_expiry: r.hard_expiry,
        }
    }
}

impl From<&PasswordPolicy> for PolicyRecord {
    fn from(p: &PasswordPolicy) -> Self {
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

/// A validated UpdateAccountPasswordPolicy request: the whole new policy.
#[derive(Debug, Clone)]
pub struct UpdatePasswordPolicy(PasswordPolicy);

/// The raw fields of UpdateAccountPasswordPolicy, as both protocols receive them.
#[derive(Debug, Clone, Default)]
pub struct PasswordPolicyFields {
    pub minimum_password_length: Option<i32>,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    pub max_password_age: Option<i32>,
    pub password_reuse_prevention: Option<i32>,
    pub hard_expiry: Option<bool>,
}

impl UpdatePasswordPolicy {
    /// Checks the ranges in the order IAM reports them: minimumPasswordLength,
    /// passwordReusePrevention, maxPasswordAge. Omitted fields take their defaults.
    pub fn parse(fields: PasswordPolicyFields) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let mut ranged = |field, value: Option<i32>, min, max| {
            value.and_then(|v| {
                violations
                    .check(check_range(field, v.into(), min, max))
                    .map(|()| v.unsigned_abs())
            })
        };
        let minimum = ranged(
            "minimumPasswordLength",
            fields.minimum_password_length,
            6,
            128,
        );
        let reuse = ranged(
            "passwordReusePrevention",
            fields.password_reuse_prevention,
            1,
            24,
        );
        let max_age = ranged("maxPasswordAge", fields.max_password_age, 1, 1095);
        violations.into_result()?;
        Ok(Self(PasswordPolicy {
            minimum_password_length: minimum.unwrap_or(6),
            require_symbols: fields.require_symbols,
            require_numbers: fields.require_numbers,
            require_uppercase_characters: fields.require_uppercase_characters,
            require_lowercase_characters: fields.require_lowercase_characters,
            allow_users_to_change_password: fields.allow_users_to_change_password,
            max_password_age: max_age,
            password_reuse_prevention: reuse,
            hard_expiry: fields.hard_expiry,
        }))
    }
}

/// The rules a new password is checked against: the custom policy, or IAM's default one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rules {
    /// At least 8 characters and 3 of the 4 character classes.
    Default,
    Custom(PasswordPolicy),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Uppercase,
    Lowercase,
    Number,
    Symbol,
}

impl Class {
    const ALL: [Class; 4] = [
        Class::Uppercase,
        Class::Lowercase,
        Class::Number,
        Class::Symbol,
    ];

    fn contains(self, c: char) -> bool {
        match self {
            Class::Uppercase => c.is_ascii_uppercase(),
            Class::Lowercase => c.is_ascii_lowercase(),
            Class::Number => c.is_ascii_digit(),
            Class::Symbol => SYMBOLS.contains(c),
        }
    }

    fn requirement(self) -> &'static str {
        match self {
            Class::Uppercase => "Password should have at least one uppercase letter",
            Class::Lowercase => "Password should have at least one lowercase letter",
            Class::Number => "Password should have at least one number",
            Class::Symbol => "Password should have at least one symbol",
        }
    }
}

impl Rules {
    /// PasswordPolicyViolation when `password` breaks these rules.
    pub(super) fn check(&self, password: &Password) -> Result<(), IamError> {
        match self.violation(password.expose()) {
            Some(message) => Err(IamError::PasswordPolicyViolation(message)),
            None => Ok(()),
        }
    }

    /// The PasswordPolicyViolation message for a password that breaks the rules, or None.
    ///
    /// As IAM does, a password that is too short is refused for its length alone; otherwise
    /// the message lists every missing character class.
    pub fn violation(&self, password: &str) -> Option<String> {
        let (minimum, required): (u32, Vec<Class>) = match self {
            Rules::Default => (8, Vec::new()),
            Rules::Custom(policy) => (
                policy.minimum_password_length,
                [
                    (Class::Uppercase, policy.require_uppercase_characters),
                    (Class::Lowercase, policy.require_lowercase_characters),
                    (Class::Number, policy.require_numbers),
                    (Class::Symbol, policy.require_symbols),
                ]
                .into_iter()
                .filter_map(|(class, required)| required.then_some(class))
                .collect(),
            ),
        };
        if password.chars().count() < minimum as usize {
            return Some(format!(
                "Password should have a minimum length of {minimum}"
            ));
        }
        let missing: Vec<Class> = Class::ALL
            .into_iter()
            .filter(|class| !password.chars().any(|c| class.contains(c)))
            .collect();
        let list = |classes: &[Class]| {
            classes
                .iter()
                .map(|c| c.requirement())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            // The default asks for 3 of the 4 classes.
            Rules::Default if missing.len() > 1 => Some(format!(
                "Password should meet {} more of the following requirements: {}",
                missing.len() - 1,
                list(&missing)
            )),
            Rules::Default => None,
            Rules::Custom(_) => {
                let unmet: Vec<Class> = required
                    .into_iter()
                    .filter(|c| missing.contains(c))
                    .collect();
                (!unmet.is_empty()).then(|| list(&unmet))
            }
        }
    }

    /// How many earlier hashes to keep besides the current one.
    pub fn history_len(&self) -> usize {
        match self {
            Rules::Custom(PasswordPolicy {
                password_reuse_prevention: Some(n),
                ..
            }) => n.min(&MAX_REUSE_PREVENTION).saturating_sub(1) as usize,
            _ => 0,
        }
    }
}

impl Service {
    pub async fn get_account_password_policy(&self) -> Result<PasswordPolicy, IamError> {
        match self.store.policy().await? {
            Some(record) => Ok(record.into()),
            None => Err(IamError::NoSuchEntity(format!(
                "The Password Policy with domain name {} cannot be found.",
                self.settings.account_id
            ))),
        }
    }

    pub async fn update_account_password_policy(
        &self,
        request: UpdatePasswordPolicy,
    ) -> Result<(), IamError> {
        self.audited(Operation::UpdateAccountPasswordPolicy, None, async move {
            Ok(self.store.put_policy((&request.0).into()).await?)
        })
        .await
    }

    pub async fn delete_account_password_policy(&self) -> Result<(), IamError> {
        self.audited(Operation::DeleteAccountPasswordPolicy, None, async move {
            if self.store.delete_policy().await? {
                Ok(())
            } else {
                Err(IamError::NoSuchEntity(
                    "The account policy with name PasswordPolicy cannot be found.".to_owned(),
                ))
            }
        })
        .await
    }

    /// Refuses a new password that breaks the rules in force.
    pub(super) async fn check_policy(&self, password: &Password) -> Result<Rules, IamError> {
        let rules = Rules::from(self.store.policy().await?);
        rules.check(password)?;
        Ok(rules)
    }
}

impl From<Option<PolicyRecord>> for Rules {
    /// The rules a stored policy sets, IAM's default ones without one.
    fn from(policy: Option<PolicyRecord>) -> Self {
        match policy {
            Some(record) => Rules::Custom(record.into()),
            None => Rules::Default,
        }
    }
}

#[cfg(test)]
mod tests;
