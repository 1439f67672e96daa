//! VerifyPassword and ChangePassword: what sign-in services call, with brute-force lockout.
//!
//! Lockout is counted pessimistically: an attempt is recorded as a failure *before* its hash is
//! checked, in one atomic update that also refuses attempts while the name is locked. So many
//! parallel wrong guesses cannot get past the threshold; a success then clears the count.
//! Unknown names are counted the same way, so lockout does not reveal who exists.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, SystemTime},
};

use super::{
    IamError, Password, Service, UserName, Violations,
    clock::{from_ms, to_ms},
    login_profiles::remember,
    policy::Rules,
};
use crate::store::{LockoutRecord, ProfileLookup, ProfileRecord, ReplaceProfile};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// When repeated failures lock a user name, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRule {
    /// Consecutive failures that lock the name; 0 turns lockout off.
    pub threshold: u32,
    /// The first lock's length; each further failure doubles it.
    pub base: Duration,
    /// The longest lock.
    pub max: Duration,
}

impl Default for LockoutRule {
    fn default() -> Self {
        Self {
            threshold: 10,
            base: Duration::from_secs(1),
            max: Duration::from_secs(15 * 60),
        }
    }
}

impl LockoutRule {
    /// The state after one more (presumed) failure at `now_ms`.
    fn count_failure(&self, state: LockoutRecord, now_ms: i64) -> LockoutRecord {
        let failures = state.consecutive_failures.saturating_add(1);
        let locked_until_ms = match failures.checked_sub(self.threshold) {
            Some(beyond) => {
                let doubling = 2u32.checked_pow(beyond.min(31)).unwrap_or(u32::MAX);
                let lock = self.base.saturating_mul(doubling).min(self.max);
                now_ms.saturating_add(to_ms_duration(lock))
            }
            None => 0,
        };
        LockoutRecord {
            consecutive_failures: failures,
            locked_until_ms,
            last_failure_ms: now_ms,
        }
    }
}

fn to_ms_duration(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A validated VerifyPassword request.
#[derive(Debug)]
pub struct VerifyPassword {
    user: UserName,
    password: Password,
}

impl VerifyPassword {
    pub fn parse(user_name: &str, password: String) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let user = violations.check(UserName::parse("userName", user_name));
        let password = violations.check(Password::parse("password", password));
        match (user, password) {
            (Some(user), Some(password)) => Ok(Self { user, password }),
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

/// Whether an attempt may go ahead.
enum Admission {
    Proceed,
    Locked(Duration),
}

impl Service {
    pub async fn verify_password(&self, request: VerifyPassword) -> Result<Verdict, IamError> {
        let VerifyPassword { user, password } = request;
        let key = user.key();
        if let Admission::Locked(retry_after) = self.admit_attempt(&key).await? {
            return Ok(Verdict::Locked { retry_after });
        }
        let profile = match self.store.profile(&key).await? {
            ProfileLookup::Found(_, profile) => profile,
            ProfileLookup::NoUser | ProfileLookup::NoProfile(_) => {
                self.hasher.verify_dummy(&password).await?;
                return Ok(Verdict::InvalidCredentials);
            }
        };
        let verified = self
            .hasher
            .verify(&password, &profile.password_hash)
            .await?;
        if !verified.matches {
            return Ok(Verdict::InvalidCredentials);
        }
        self.clear_failures(&key).await?;
        let now = self.clock.now();
        self.store.touch_user(&key, to_ms(now)).await?;
        if verified.needs_rehash {
            self.rehash(&key, &password, &profile).await?;
        }
        let expires_at = password_expires_at(&self.rules().await?, &profile);
        Ok(Verdict::Ok {
            password_reset_required: profile.password_reset_required,
            password_expired: expires_at.is_some_and(|at| now >= at),
            password_expires_at: expires_at,
        })
    }

    /// Order: lockout, then user, profile and old password with one answer (InvalidCredentials,
    /// at the cost of a real hash, counted toward lockout), then hard expiry, then the new
    /// password. A caller that is the user learns first whether the user and profile exist.
    pub async fn change_password(&self, request: ChangePassword) -> Result<(), IamError> {
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
        if let Admission::Locked(retry_after) = self.admit_attempt(&key).await? {
            return Err(IamError::AccessDenied(format!(
                "Too many failed password attempts for user {user}; try again in {} seconds.",
                retry_after.as_secs().max(1)
            )));
        }
        let profile = match self.store.profile(&key).await? {
            ProfileLookup::Found(_, profile) => profile,
            ProfileLookup::NoUser | ProfileLookup::NoProfile(_) => {
                self.hasher.verify_dummy(&old).await?;
                return Err(IamError::InvalidCredentials);
            }
        };
        if !self
            .hasher
            .verify(&old, &profile.password_hash)
            .await?
            .matches
        {
            return Err(IamError::InvalidCredentials);
        }
        self.clear_failures(&key).await?;
        let rules = self.rules().await?;
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
        if let Some(message) = rules.violation(new.expose()) {
            return Err(IamError::PasswordPolicyViolation(message));
        }
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
        .await
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

    /// Counts an attempt as a failure up front, unless the name is locked: one atomic update
    /// both checks the lock and counts, so parallel attempts cannot pass a lock being set.
    async fn admit_attempt(&self, key: &str) -> Result<Admission, IamError> {
        let rule = self.settings.lockout;
        if rule.threshold == 0 {
            return Ok(Admission::Proceed);
        }
        let now_ms = self.clock.now_ms();
        // The update may run more than once under contention; the flag tells what the run that
        // was applied decided.
        let refused = AtomicBool::new(false);
        let after = self
            .store
            .update_lockout(key, &|state| {
                let locked = state.locked_until_ms > now_ms;
                refused.store(locked, Ordering::SeqCst);
                if locked {
                    state
                } else {
                    rule.count_failure(state, now_ms)
                }
            })
            .await?;
        Ok(if refused.load(Ordering::SeqCst) {
            Admission::Locked(Duration::from_millis(
                (after.locked_until_ms - now_ms).unsigned_abs(),
            ))
        } else {
            Admission::Proceed
        })
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

    async fn clear_failures(&self, key: &str) -> Result<(), IamError> {
        if self.settings.lockout.threshold > 0 {
            self.store
                .update_lockout(key, &|_| LockoutRecord::default())
                .await?;
        }
        Ok(())
    }

    /// Replaces a hash made with old parameters; a concurrent change wins and makes this moot.
    async fn rehash(
        &self,
        key: &str,
        password: &Password,
        profile: &ProfileRecord,
    ) -> Result<(), IamError> {
        let next = ProfileRecord {
            password_hash: self.hasher.hash(password).await?,
            version: profile.version + 1,
            ..profile.clone()
        };
        match self
            .store
            .replace_profile_lazily(key, profile.version, next)
            .await?
        {
            ReplaceProfile::Replaced => {
                tracing::debug!("re-hashed a password with the configured parameters")
            }
            ReplaceProfile::Stale | ReplaceProfile::NoUser | ReplaceProfile::NoProfile => {}
        }
        Ok(())
    }
}

/// When the current password expires under `rules`, if they make passwords expire.
fn password_expires_at(rules: &Rules, profile: &ProfileRecord) -> Option<SystemTime> {
    let Rules::Custom(policy) = rules else {
        return None;
    };
    let days = policy.max_password_age?;
    Some(from_ms(profile.password_set_ms) + DAY * days)
}
