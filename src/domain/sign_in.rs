//! VerifyPassword and ChangePassword: what sign-in services call, with brute-force lockout.
//!
//! Every attempt is admitted before any lookup or hashing and settled with its outcome (see
//! [`lockout`]): only settled failures lock a name, attempts in flight only throttle it. Unknown
//! names are counted the same way, so lockout does not reveal who exists.

mod lockout;
mod upgrade;

use std::time::{Duration, SystemTime};

use super::mfa_devices::{SecondFactor, parse_mfa_code};
use super::{
    IamError, Password, Service, UserName, Violations,
    clock::{from_ms, to_ms},
    login_profiles::remember,
    policy::Rules,
};
use crate::operation::Operation;
use crate::password::Verified;
use crate::{
    meter,
    mfa::Code,
    store::{PolicyRecord, ProfileLookup, ProfileRecord, UserRecord},
};
pub use lockout::{ATTEMPT_LEASE, LockoutRule};
use lockout::{Admission, Attempt, Settlement, to_ms_duration};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A validated VerifyPassword request.
#[derive(Debug)]
pub struct VerifyPassword {
    user: UserName,
    password: Password,
    mfa_code: Option<Code>,
}

impl VerifyPassword {
    /// An empty or absent `mfa_code` means no code; one that is not six digits is a
    /// ValidationError (member `mfaCode`).
    pub fn parse(
        user_name: &str,
        password: String,
        mfa_code: Option<&str>,
    ) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let user = violations.check(UserName::parse("userName", user_name));
        let password = violations.check(Password::parse("password", password));
        let mfa_code = violations.check(parse_mfa_code(mfa_code));
        match (user, password, mfa_code) {
            (Some(user), Some(password), Some(mfa_code)) => Ok(Self {
                user,
                password,
                mfa_code,
            }),
            _ => Err(violations.into()),
        }
    }
}

/// The answer to VerifyPassword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok {
        password_reset_required: bool,
        password_expired: bool,
        /// Present when the policy sets a maximum password age.
        password_expires_at: Option<SystemTime>,
    },
    /// Wrong password, unknown user or no login profile.
    InvalidCredentials,
    Locked {
        retry_after: Duration,
    },
    /// The password is right and the user has an MFA device, but no code was given: not a
    /// sign-in (nothing counted or recorded).
    MfaRequired,
    /// The password is right and the code is not (wrong, outside the window or used before):
    /// answered as [`Verdict::InvalidCredentials`], audited as what it is.
    InvalidMfaCode,
}

/// A validated ChangePassword request.
#[derive(Debug)]
pub struct ChangePassword {
    user: UserName,
    old: Password,
    new: Password,
    /// Whether the caller is known to be the user (the Query API: the signing key's own user).
    /// Only then may the answer say that the user or its profile does not exist.
    caller_is_the_user: bool,
}

impl ChangePassword {
    /// A change asked for on behalf of whoever typed the user name, as a sign-in service does:
    /// an unknown user, a missing profile and a wrong old password get one answer.
    pub fn parse(
        user_name: &str,
        old_password: String,
        new_password: String,
    ) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let user = violations.check(UserName::parse("userName", user_name));
        let old = violations.check(Password::parse("oldPassword", old_password));
        let new = violations.check(Password::parse("newPassword", new_password));
        match (user, old, new) {
            (Some(user), Some(old), Some(new)) => Ok(Self {
                user,
                old,
                new,
                caller_is_the_user: false,
            }),
            _ => Err(violations.into()),
        }
    }

    /// The same change asked for by the user itself (IAM's ChangePassword, signed with the
    /// user's own key): a missing user or profile is NoSuchEntity, as IAM answers.
    pub fn by_the_user(self) -> Self {
        Self {
            caller_is_the_user: true,
            ..self
        }
    }
}

impl Service {
    pub async fn verify_password(&self, request: VerifyPassword) -> Result<Verdict, IamError> {
        self.audit.ready()?;
        let user = request.user.clone();
        let result = self.check_password(request).await;
        self.signed_in(&user, result)
    }

    async fn check_password(&self, request: VerifyPassword) -> Result<Verdict, IamError> {
        let VerifyPassword {
            user,
            password,
            mfa_code,
        } = request;
        let key = user.key();
        let attempt = match self.admit_attempt(&key).await? {
            Admission::Admitted(attempt) => attempt,
            Admission::Locked(retry_after) => return Ok(Verdict::Locked { retry_after }),
        };
        let Some(Proven {
            attempt,
            user: user_record,
            mut profile,
            policy,
            verified,
        }) = self.prove(&key, &password, attempt).await?
        else {
            return Ok(Verdict::InvalidCredentials);
        };
        match self
            .second_factor(&key, &user_record, mfa_code.as_ref())
            .await
        {
            Ok(SecondFactor::NotEnrolled | SecondFactor::Accepted) => {}
            Ok(SecondFactor::Required) => {
                attempt.settle(Settlement::Abandoned).await?;
                return Ok(Verdict::MfaRequired);
            }
            Ok(SecondFactor::Rejected) => {
                attempt.settle(Settlement::Failure).await?;
                return Ok(Verdict::InvalidMfaCode);
            }
            Err(error) => {
                attempt.settle(Settlement::Abandoned).await?;
                return Err(error);
            }
        }
        let now = self.clock.now();
        attempt.signed_in(to_ms(now)).await?;
        let rules = Rules::from(policy);
        let mut password_reset_required = profile.password_reset_required;
        // A password listed since it was set: evidence of compromise (NIST: force a change).
        if !password_reset_required && self.settings.screening.listed(password.expose()) {
            profile = self.mark_compromised(&user, profile).await?;
            password_reset_required = true;
        }
        if verified.needs_rehash {
            password_reset_required |= self
                .rehash(&user, &password, &profile, verified.scheme, &rules)
                .await?;
        }
        let expires_at = password_expires_at(&rules, &profile);
        Ok(Verdict::Ok {
            password_reset_required,
            password_expired: expires_at.is_some_and(|at| now >= at),
            password_expires_at: expires_at,
        })
    }

    /// Order: lockout (Locked is AccessDenied, a full in-flight count Throttling), then user,
    /// profile and old password with one answer (InvalidCredentials, at the cost of a real
    /// hash, counted toward lockout), then hard expiry, then the new
    /// password. A caller that is the user learns first whether the user and profile exist.
    pub async fn change_password(&self, request: ChangePassword) -> Result<(), IamError> {
        let user = request.user.clone();
        self.audited(Operation::ChangePassword, Some(&user), async move {
            let ChangePassword {
                user,
                old,
                new,
                caller_is_the_user,
            } = request;
            let key = user.key();
            if caller_is_the_user {
                self.existing_profile(&user).await?;
            }
            let attempt = match self.admit_attempt(&key).await? {
                Admission::Admitted(attempt) => attempt,
                Admission::Locked(retry_after) => {
                    return Err(IamError::AccessDenied(format!(
                        "Too many failed password attempts for user {user}; try again in {} seconds.",
                        retry_after.as_secs().max(1)
                    )));
                }
            };
            let Some(Proven {
                attempt,
                profile,
                policy,
                verified,
                ..
            }) = self.prove(&key, &old, attempt).await?
            else {
                return Err(IamError::InvalidCredentials);
            };
            attempt.settle(Settlement::Success).await?;
            let rules = Rules::from(policy);
            let now = self.clock.now();
            if let Rules::Custom(policy) = &rules
                && policy.hard_expiry == Some(true)
                && password_expires_at(&rules, &profile).is_some_and(|at| now >= at)
            {
                return Err(IamError::AccessDenied(format!(
                    "The password of user {user} has expired and the password policy sets hard expiry; \
                     an administrator must reset it."
                )));
            }
            rules.check(&new)?;
            self.screen(&user, &new)?;
            if new.expose() == old.expose() {
                return Err(IamError::PasswordPolicyViolation(
                    "Password should not be the same as the current password".to_owned(),
                ));
            }
            self.check_reuse(&rules, &new, &profile).await?;
            let new_hash = self.hasher.hash(&new).await?;
            let history = rules.history_len();
            let current_hash = profile.password_hash.clone();
            self.replace_profile(&user, |mut profile| {
                // A concurrent change replaced the password the caller proved: the old one is no
                // longer current.
                if profile.password_hash != current_hash {
                    return Err(IamError::InvalidCredentials);
                }
                let replaced = std::mem::replace(&mut profile.password_hash, new_hash.clone());
                remember(&mut profile.previous_hashes, replaced, history);
                profile.password_set_ms = to_ms(now);
                profile.password_reset_required = false;
                Ok(profile)
            })
            .await?;
            if !verified.scheme.is_native() {
                meter::rehashed(verified.scheme.name());
            }
            Ok(())
        })
        .await
    }

    /// Checks `password` against the profile stored under `key`, for an admitted attempt. None
    /// when there is no user or profile or the password does not match: a hash's work either
    /// way (a dummy hash when nothing is stored), and the attempt settled as a failure.
    async fn prove(
        &self,
        key: &str,
        password: &Password,
        attempt: Attempt,
    ) -> Result<Option<Proven>, IamError> {
        let (lookup, policy) = self.store.profile_and_policy(key).await?;
        let ProfileLookup::Found(user, profile) = lookup else {
            self.hasher.verify_dummy(password).await?;
            attempt.settle(Settlement::Failure).await?;
            return Ok(None);
        };
        let verified = self.hasher.verify(password, &profile.password_hash).await?;
        if !verified.matches {
            attempt.settle(Settlement::Failure).await?;
            return Ok(None);
        }
        Ok(Some(Proven {
            attempt,
            user,
            profile,
            policy,
            verified,
        }))
    }

    /// Refuses a new password that matches one of the last N (the current one excluded here:
    /// the caller checks it against the old password).
    async fn check_reuse(
        &self,
        rules: &Rules,
        new: &Password,
        profile: &ProfileRecord,
    ) -> Result<(), IamError> {
        let Rules::Custom(policy) = rules else {
            return Ok(());
        };
        let Some(n) = policy.password_reuse_prevention else {
            return Ok(());
        };
        for previous in profile.previous_hashes.iter().take(rules.history_len()) {
            if self.hasher.verify(new, previous).await?.matches {
                return Err(IamError::PasswordPolicyViolation(format!(
                    "Password should not be one of your last {n} passwords"
                )));
            }
        }
        Ok(())
    }

    /// Admits a sign-in attempt on `key`, or refuses it before any hashing: Locked, or
    /// Throttling when enough attempts are already in flight.
    async fn admit_attempt(&self, key: &str) -> Result<Admission, IamError> {
        lockout::admit(&self.store, &self.clock, self.settings.lockout, key).await
    }

    /// Forgets failure counts of names that are not locked and have not failed for
    /// `lockout.max`, so that guesses at random names cannot grow the store without bound.
    pub async fn forget_stale_failures(&self) -> Result<usize, IamError> {
        let now_ms = self.clock.now_ms();
        let window = to_ms_duration(self.settings.lockout.max);
        Ok(self
            .store
            .prune_lockouts(now_ms, now_ms.saturating_sub(window))
            .await?)
    }
}

/// A password proven against the stored profile, with the attempt still to settle.
struct Proven {
    attempt: Attempt,
    user: UserRecord,
    profile: ProfileRecord,
    policy: Option<PolicyRecord>,
    verified: Verified,
}

/// When the current password expires under `rules`, if they make passwords expire.
fn password_expires_at(rules: &Rules, profile: &ProfileRecord) -> Option<SystemTime> {
    let Rules::Custom(policy) = rules else {
        return None;
    };
    let days = policy.max_password_age?;
    Some(from_ms(profile.password_set_ms) + DAY * days)
}
