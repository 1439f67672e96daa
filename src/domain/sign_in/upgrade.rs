//! What a successful sign-in may change on the profile, the password being known for a moment:
//! a re-hash to argon2id with the current costs, and the PasswordResetRequired mark when the
//! password is now on a blocklist (or, for an imported hash, fails the policy or screening).

use super::super::{IamError, Password, Service, UserName, policy::Rules};
use crate::{
    meter,
    operation::Operation,
    password::Scheme,
    store::{ProfileRecord, ReplaceProfile},
};

impl Service {
    /// Marks the profile PasswordResetRequired, durably, because its right password is now on
    /// a blocklist; returns the profile as stored. Audited as `password_compromised`.
    pub(super) async fn mark_compromised(
        &self,
        user: &UserName,
        profile: ProfileRecord,
    ) -> Result<ProfileRecord, IamError> {
        let marked = ProfileRecord {
            password_reset_required: true,
            version: profile.version + 1,
            ..profile
        };
        let stored = match self
            .store
            .replace_profile(&user.key(), marked.version - 1, marked.clone())
            .await?
        {
            ReplaceProfile::Replaced => marked,
            // A concurrent write: mark whatever is current (and the re-hash waits for the next
            // sign-in).
            _ => {
                self.replace_profile(user, |mut current| {
                    current.password_reset_required = true;
                    Ok(current)
                })
                .await?;
                marked
            }
        };
        meter::password_compromised();
        tracing::info!(
            "a password now on a blocklist was proven at sign-in; profile marked PasswordResetRequired"
        );
        self.audit.write(
            Operation::VerifyPassword,
            "password_compromised",
            Some(user.as_str()),
            "PasswordResetRequired",
        )?;
        Ok(stored)
    }

    /// Replaces a hash made by another scheme or with other parameters by an argon2id hash with
    /// the configured ones; a concurrent change wins and makes this moot. A hash made elsewhere
    /// (imported) is replaced once, and as the password is known for this moment, it is held to
    /// the account policy: true when it fails it, and the profile is then marked
    /// PasswordResetRequired.
    pub(super) async fn rehash(
        &self,
        user: &UserName,
        password: &Password,
        profile: &ProfileRecord,
        from: Scheme,
        rules: &Rules,
    ) -> Result<bool, IamError> {
        let weak = !from.is_native()
            && (rules.check(password).is_err() || self.screen(user, password).is_err());
        let next = ProfileRecord {
            password_hash: self.hasher.hash(password).await?,
            password_reset_required: profile.password_reset_required || weak,
            version: profile.version + 1,
            ..profile.clone()
        };
        match self
            .store
            .replace_profile_lazily(&user.key(), profile.version, next)
            .await?
        {
            ReplaceProfile::Replaced => {
                meter::rehashed(from.name());
                tracing::debug!(from = from.name(), weak, "re-hashed a password to argon2id");
                if !from.is_native() {
                    let outcome = if weak {
                        "PasswordResetRequired"
                    } else {
                        "Success"
                    };
                    self.audit.write(
                        Operation::VerifyPassword,
                        "password_upgraded",
                        Some(user.as_str()),
                        outcome,
                    )?;
                }
            }
            ReplaceProfile::Stale | ReplaceProfile::NoUser | ReplaceProfile::NoProfile => {}
        }
        Ok(weak)
    }
}
