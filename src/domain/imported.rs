//! ImportLoginProfile: a login profile from a password hash made elsewhere (see
//! `crate::password::FORMATS`), checked against the cost bounds, upgraded to argon2id at the
//! user's first sign-in (`sign_in`). IAM has no such action; gRPC serves it, scope `admin`.

use std::{collections::BTreeMap, fmt};

use secrecy::{ExposeSecret as _, SecretString};

use super::{IamError, LoginProfile, Service, UserName, Violations};
use crate::{
    meter,
    operation::Operation,
    password::{self, HashRefusal, Scheme},
};

/// The request member that carries the hash, as the errors name it.
const MEMBER: &str = "passwordHash";

/// A validated ImportLoginProfile request.
pub struct ImportLoginProfile {
    user: UserName,
    password_hash: SecretString,
    password_reset_required: bool,
}

/// Never shows the hash.
impl fmt::Debug for ImportLoginProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportLoginProfile")
            .field("user", &self.user)
            .field("password_reset_required", &self.password_reset_required)
            .finish_non_exhaustive()
    }
}

impl ImportLoginProfile {
    pub fn parse(
        user_name: &str,
        password_hash: String,
        password_reset_required: bool,
    ) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let user = violations.check(UserName::parse("userName", user_name));
        match password::check_stored(&password_hash) {
            Ok(_) => {}
            Err(HashRefusal::Unsupported) => violations.push(
                MEMBER,
                "Member must be a password hash in a supported format",
            ),
            Err(HashRefusal::OutOfBounds) => violations.push(
                MEMBER,
                "Member must be a password hash whose cost is within the supported bounds",
            ),
        }
        violations.into_result()?;
        Ok(Self {
            user: user.expect("no violations, so the user name parsed"),
            password_hash: SecretString::from(password_hash),
            password_reset_required,
        })
    }
}

impl Service {
    /// CreateLoginProfile's checks and answers, with a hash instead of a password: no policy
    /// applies until the password is known, at the first sign-in.
    pub async fn import_login_profile(
        &self,
        request: ImportLoginProfile,
    ) -> Result<LoginProfile, IamError> {
        let user = request.user.clone();
        self.audited(Operation::ImportLoginProfile, Some(&user), async move {
            let ImportLoginProfile {
                user,
                password_hash,
                password_reset_required,
            } = request;
            let (record, _) = self.profile_to_be(&user).await?;
            let hash = password_hash.expose_secret().to_owned();
            self.insert_new_profile(&user, &record, hash, password_reset_required)
                .await
        })
        .await
    }
}

impl Service {
    /// Counts the login profiles by the scheme of their hash and publishes the counts as
    /// `loginprofiled_password_hashes{scheme}` (every scheme, 0 where none; `unsupported` for
    /// hashes no scheme reads, which only a damaged or hand-edited store holds).
    pub async fn survey_hashes(&self) -> Result<BTreeMap<&'static str, u64>, IamError> {
        let mut counts: BTreeMap<&'static str, u64> = Scheme::ALL
            .iter()
            .map(|scheme| (scheme.name(), 0))
            .collect();
        for (identifier, profiles) in self.store.count_hash_identifiers().await? {
            let name = Scheme::from_identifier(&identifier).map_or("unsupported", Scheme::name);
            *counts.entry(name).or_default() += profiles;
        }
        for (&scheme, &count) in &counts {
            meter::password_hashes(scheme, count);
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests;
