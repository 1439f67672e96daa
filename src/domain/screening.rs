//! Screening of new passwords (NIST SP 800-63B-4 §3.1.1.2), after the account policy: the
//! `context` rule (not the user name or account ID) and the `blocklist` rule (not on a list).

use std::fmt;

use super::{IamError, Password, Service, UserName};

/// Why screening refused a password: `ErrorInfo.metadata["rule"]` on gRPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreeningRule {
    /// The password is the user name (its ends' non-letters aside, any case) or the account ID.
    Context,
    /// The password is on the built-in list or an operator's list.
    Blocklist,
}

impl ScreeningRule {
    /// The rule's name, as `ErrorInfo.metadata["rule"]` carries it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Context => "context",
            Self::Blocklist => "blocklist",
        }
    }
}

/// The PasswordPolicyViolation message: the reason and guidance NIST asks for.
impl fmt::Display for ScreeningRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Context => {
                "The password must not be based on the user name or the account ID. Choose a different password."
            }
            Self::Blocklist => {
                "The password is too common or has appeared in a data breach. Choose a different password: several unrelated words are easy to remember and hard to guess."
            }
        })
    }
}

impl Service {
    /// Refuses a new password of `user` that screening finds; `context` first. Nothing when
    /// screening is off.
    pub(super) fn screen(&self, user: &UserName, password: &Password) -> Result<(), IamError> {
        let screening = &self.settings.screening;
        if !screening.is_on() {
            return Ok(());
        }
        let password = password.expose();
        if based_on(password, user.as_str()) || password == self.settings.account_id {
            return Err(IamError::PasswordScreened(ScreeningRule::Context));
        }
        if screening.listed(password) {
            return Err(IamError::PasswordScreened(ScreeningRule::Blocklist));
        }
        Ok(())
    }
}

/// True when `password`, without the characters that are not letters at its ends and
/// case-folded, equals `user_name` treated the same way. Whole strings only: no substrings.
fn based_on(password: &str, user_name: &str) -> bool {
    let core = |s: &str| s.trim_matches(|c: char| !c.is_alphabetic()).to_lowercase();
    let name = core(user_name);
    !name.is_empty() && core(password) == name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_name_with_digits_or_symbols_at_its_ends_is_based_on_it() {
        assert!(based_on("Alice2024!", "alice"));
        assert!(based_on("!!ALICE", "alice"));
        assert!(based_on("alice", "Alice"));
        assert!(based_on("2024alice2024", "alice"));
        assert!(based_on("Bob.Smith99", "bob.smith"));
    }

    #[test]
    fn other_passwords_are_not_based_on_the_user_name() {
        assert!(!based_on("Alice2024!x", "alice"));
        assert!(!based_on("MalicePlan9!", "alice"));
        assert!(!based_on("Al1ce2024!", "alice"));
        assert!(!based_on("12345678", "2024"));
    }
}
