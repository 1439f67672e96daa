//! The four IAM login-profile operations.

use std::time::SystemTime;

use super::{IamError, Password, Service, UserName, Violations, clock::from_ms, policy::Rules};
use crate::operation::Operation;
use crate::store::{
    DeleteProfile, InsertProfile, PolicyRecord, ProfileLookup, ProfileRecord, ReplaceProfile,
    UserRecord,
};

/// How often a write retries after losing a compare-and-swap race before giving up.
const MAX_REPLACE_ATTEMPTS: usize = 64;

/// A login profile as the API shows it: never any secret.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginProfile {
    pub user_name: String,
    pub create_date: SystemTime,
    pub password_reset_required: bool,
}

/// A validated CreateLoginProfile request.
#[derive(Debug)]
pub struct CreateLoginProfile {
    user: UserName,
    password: Password,
    password_reset_required: bool,
}

impl CreateLoginProfile {
    pub fn parse(
        user_name: &str,
        password: String,
        password_reset_required: bool,
    ) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let user = violations.check(UserName::parse("userName", user_name));
        let password = violations.check(Password::parse("password", password));
        match (user, password) {
            (Some(user), Some(password)) => Ok(Self {
                user,
                password,
                password_reset_required,
            }),
            _ => Err(violations.into()),
        }
    }
}

/// A validated UpdateLoginProfile request: absent fields stay as they are.
#[derive(Debug)]
pub struct UpdateLoginProfile {
    user: UserName,
    password: Option<Password>,
    password_reset_required: Option<bool>,
}

impl UpdateLoginProfile {
    pub fn parse(
        user_name: &str,
        password: Option<String>,
        password_reset_required: Option<bool>,
    ) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let user = violations.check(UserName::parse("userName", user_name));
        let password = password.map(|p| violations.check(Password::parse("password", p)));
        match (user, password) {
            (Some(user), None) => Ok(Self {
                user,
                password: None,
                password_reset_required,
            }),
            (Some(user), Some(Some(password))) => Ok(Self {
                user,
                password: Some(password),
                password_reset_required,
            }),
            _ => Err(violations.into()),
        }
    }
}

impl Service {
    pub async fn create_login_profile(
        &self,
        request: CreateLoginProfile,
    ) -> Result<LoginProfile, IamError> {
        let user = request.user.clone();
        self.audited(Operation::CreateLoginProfile, Some(&user), async move {
            let CreateLoginProfile {
                user,
                password,
                password_reset_required,
            } = request;
            let (record, policy) = self.profile_to_be(&user).await?;
            Rules::from(policy).check(&password)?;
            self.screen(&user, &password)?;
            let password_hash = self.hasher.hash(&password).await?;
            self.insert_new_profile(&user, &record, password_hash, password_reset_required)
                .await
        })
        .await
    }

    pub async fn get_login_profile(&self, user: UserName) -> Result<LoginProfile, IamError> {
        let (record, profile) = self.existing_profile(&user).await?;
        Ok(profile_view(&record, &profile))
    }

    pub async fn update_login_profile(&self, request: UpdateLoginProfile) -> Result<(), IamError> {
        let user = request.user.clone();
        self.audited(Operation::UpdateLoginProfile, Some(&user), async move {
            let UpdateLoginProfile {
                user,
                password,
                password_reset_required,
            } = request;
            self.existing_profile(&user).await?;
            let (new_hash, history) = match &password {
                Some(password) => {
                    let rules = self.check_policy(password).await?;
                    self.screen(&user, password)?;
                    (Some(self.hasher.hash(password).await?), rules.history_len())
                }
                None if password_reset_required.is_none() => return Ok(()),
                None => (None, 0),
            };
            let now = self.clock.now_ms();
            self.replace_profile(&user, |mut profile| {
                if let Some(hash) = &new_hash {
                    let replaced = std::mem::replace(&mut profile.password_hash, hash.clone());
                    remember(&mut profile.previous_hashes, replaced, history);
                    profile.password_set_ms = now;
                }
                if let Some(required) = password_reset_required {
                    profile.password_reset_required = required;
                }
                Ok(profile)
            })
            .await
        })
        .await
    }

    pub async fn delete_login_profile(&self, user: UserName) -> Result<(), IamError> {
        let audited = user.clone();
        self.audited(Operation::DeleteLoginProfile, Some(&audited), async move {
            match self.store.delete_profile(&user.key()).await? {
                DeleteProfile::Deleted => Ok(()),
                DeleteProfile::NoUser => Err(IamError::no_such_user(user.as_str())),
                DeleteProfile::NoProfile => Err(IamError::no_such_login_profile(user.as_str())),
            }
        })
        .await
    }

    /// The user that is to get a new profile, and the policy: NoSuchEntity without the user,
    /// EntityAlreadyExists when it has a profile.
    pub(super) async fn profile_to_be(
        &self,
        user: &UserName,
    ) -> Result<(UserRecord, Option<PolicyRecord>), IamError> {
        match self.store.profile_and_policy(&user.key()).await? {
            (ProfileLookup::NoUser, _) => Err(IamError::no_such_user(user.as_str())),
            (ProfileLookup::Found(..), _) => Err(profile_exists(user)),
            (ProfileLookup::NoProfile(record), policy) => Ok((record, policy)),
        }
    }

    /// Stores a first profile for `user` with `password_hash`, unless a racing call made one.
    pub(super) async fn insert_new_profile(
        &self,
        user: &UserName,
        record: &UserRecord,
        password_hash: String,
        password_reset_required: bool,
    ) -> Result<LoginProfile, IamError> {
        let now = self.clock.now_ms();
        let profile = ProfileRecord {
            password_hash,
            create_date_ms: now,
            password_reset_required,
            password_set_ms: now,
            previous_hashes: Vec::new(),
            version: 0,
        };
        let view = profile_view(record, &profile);
        match self.store.insert_profile(&user.key(), profile).await? {
            InsertProfile::Inserted => Ok(view),
            InsertProfile::NoUser => Err(IamError::no_such_user(user.as_str())),
            InsertProfile::AlreadyExists => Err(profile_exists(user)),
        }
    }

    /// The user and profile of `user`, or the NoSuchEntity error that says which is missing.
    pub(super) async fn existing_profile(
        &self,
        user: &UserName,
    ) -> Result<(UserRecord, ProfileRecord), IamError> {
        match self.store.profile(&user.key()).await? {
            ProfileLookup::NoUser => Err(IamError::no_such_user(user.as_str())),
            ProfileLookup::NoProfile(_) => Err(IamError::no_such_login_profile(user.as_str())),
            ProfileLookup::Found(record, profile) => Ok((record, profile)),
        }
    }

    /// Applies `change` to the current profile with compare-and-swap, re-reading and re-applying
    /// when a concurrent write got there first, and returns once the change is durable.
    pub(super) async fn replace_profile(
        &self,
        user: &UserName,
        change: impl Fn(ProfileRecord) -> Result<ProfileRecord, IamError>,
    ) -> Result<(), IamError> {
        let key = user.key();
        for _ in 0..MAX_REPLACE_ATTEMPTS {
            let (_, current) = self.existing_profile(user).await?;
            let version = current.version;
            let next = ProfileRecord {
                version: version + 1,
                ..change(current)?
            };
            match self.store.replace_profile(&key, version, next).await? {
                ReplaceProfile::Replaced => return Ok(()),
                ReplaceProfile::Stale => continue,
                ReplaceProfile::NoUser => return Err(IamError::no_such_user(user.as_str())),
                ReplaceProfile::NoProfile => {
                    return Err(IamError::no_such_login_profile(user.as_str()));
                }
            }
        }
        Err(IamError::internal(anyhow::anyhow!(
            "login profile kept changing during {MAX_REPLACE_ATTEMPTS} attempts to update it"
        )))
    }
}

/// Pushes a replaced hash to the front of the history, keeping at most `len` entries.
pub(super) fn remember(history: &mut Vec<String>, replaced: String, len: usize) {
    history.insert(0, replaced);
    history.truncate(len);
}

fn profile_exists(user: &UserName) -> IamError {
    IamError::EntityAlreadyExists(format!("Login Profile for user {user} already exists."))
}

fn profile_view(user: &UserRecord, profile: &ProfileRecord) -> LoginProfile {
    LoginProfile {
        user_name: user.user_name.clone(),
        create_date: from_ms(profile.create_date_ms),
        password_reset_required: profile.password_reset_required,
    }
}
