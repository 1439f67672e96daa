//! Changes to existing users: UpdateUser (rename, move) and the tag operations. Each is one
//! compare-and-swap of the user record, retried when a racing write got there first, so no
//! change is lost and a rename moves everything the user owns in the same store transaction.

use super::{
    IamError, Service, Tag, UserName, UserPath, Violations, marker::Listing, tags,
    users::parse_max_items,
};
use crate::operation::Operation;
use crate::store::{ReplaceUser, UserRecord};

/// How often a change retries after losing a compare-and-swap race before giving up.
const MAX_ATTEMPTS: usize = 64;
// `t2:` markers continue after a key as written; `t1:` ones (after a key folded to lower case,
// the order before) are refused rather than read in the wrong order.
const USER_TAGS: Listing = Listing {
    operation: "ListUserTags",
    prefix: "t2:",
};

/// A validated UpdateUser request: absent fields stay as they are.
#[derive(Debug, Clone)]
pub struct UpdateUser {
    name: UserName,
    new_name: Option<UserName>,
    new_path: Option<UserPath>,
}

impl UpdateUser {
    pub fn parse(
        user_name: &str,
        new_user_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let name = violations.check(UserName::parse("userName", user_name));
        let new_name =
            new_user_name.and_then(|n| violations.check(UserName::parse("newUserName", n)));
        // Unlike CreateUser's `path`, an empty `newPath` is no path at all: IAM's minimum is 1.
        let new_path = new_path.and_then(|p| {
            if p.is_empty() {
                violations.push(
                    "newPath",
                    "Member must have length greater than or equal to 1",
                );
                return None;
            }
            violations.check(UserPath::parse("newPath", p))
        });
        match name {
            Some(name) if violations.is_empty() => Ok(Self {
                name,
                new_name,
                new_path,
            }),
            _ => Err(violations.into()),
        }
    }
}

/// A validated TagUser request.
#[derive(Debug, Clone)]
pub struct TagUser {
    name: UserName,
    tags: Vec<Tag>,
}

impl TagUser {
    pub fn parse(user_name: &str, tags: Vec<Tag>) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let name = violations.check(UserName::parse("userName", user_name));
        let tags = violations.check(tags::parse_tags("tags", tags, true));
        match (name, tags) {
            (Some(name), Some(tags)) => Ok(Self {
                name,
                tags: tags::unique(tags)?,
            }),
            _ => Err(violations.into()),
        }
    }
}

/// A validated UntagUser request.
#[derive(Debug, Clone)]
pub struct UntagUser {
    name: UserName,
    keys: Vec<String>,
}

impl UntagUser {
    pub fn parse(user_name: &str, tag_keys: Vec<String>) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let name = violations.check(UserName::parse("userName", user_name));
        let keys = violations.check(tags::parse_keys("tagKeys", tag_keys));
        match (name, keys) {
            (Some(name), Some(keys)) => Ok(Self { name, keys }),
            _ => Err(violations.into()),
        }
    }
}

/// A validated ListUserTags request.
#[derive(Debug, Clone)]
pub struct ListUserTags {
    name: UserName,
    after: Option<String>,
    max_items: usize,
}

impl ListUserTags {
    /// As ListUsers: an empty marker starts at the beginning and `max_items` 0 means 100.
    pub fn parse(user_name: &str, marker: &str, max_items: i32) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let name = violations.check(UserName::parse("userName", user_name));
        let after = violations.check(USER_TAGS.parse_marker(marker));
        let max_items = violations.check(parse_max_items(max_items));
        match (name, after, max_items) {
            (Some(name), Some(after), Some(max_items)) => Ok(Self {
                name,
                after,
                max_items,
            }),
            _ => Err(violations.into()),
        }
    }
}

/// One page of ListUserTags.
#[derive(Debug, Clone, PartialEq)]
pub struct TagList {
    pub tags: Vec<Tag>,
    /// Present when more tags follow; pass it back to get them.
    pub marker: Option<String>,
}

impl Service {
    /// Renames and/or moves a user. The name may change to a case variant of itself; a name
    /// another user holds (in any case) is EntityAlreadyExists.
    pub async fn update_user(&self, request: UpdateUser) -> Result<(), IamError> {
        let user = request.name.clone();
        self.audited(Operation::UpdateUser, Some(&user), async move {
            self.change_user(&request.name, request.new_name.as_ref(), |mut user| {
                if let Some(new_name) = &request.new_name {
                    user.user_name = new_name.as_str().to_owned();
                }
                if let Some(new_path) = &request.new_path {
                    user.path = new_path.as_str().to_owned();
                }
                Ok(user)
            })
            .await
        })
        .await
    }

    /// Adds tags; one whose key the user has (in any case) replaces it.
    pub async fn tag_user(&self, request: TagUser) -> Result<(), IamError> {
        let user = request.name.clone();
        self.audited(Operation::TagUser, Some(&user), async move {
            self.change_user(&request.name, None, |mut user| {
                user.tags = tags::merged(&user.tags, &request.tags)?;
                Ok(user)
            })
            .await
        })
        .await
    }

    /// Removes the tags with the given keys (in any case); keys the user lacks are ignored.
    pub async fn untag_user(&self, request: UntagUser) -> Result<(), IamError> {
        let user = request.name.clone();
        self.audited(Operation::UntagUser, Some(&user), async move {
            self.change_user(&request.name, None, |mut user| {
                user.tags = tags::without(&user.tags, &request.keys);
                Ok(user)
            })
            .await
        })
        .await
    }

    pub async fn list_user_tags(&self, request: ListUserTags) -> Result<TagList, IamError> {
        let user = self
            .store
            .user(&request.name.key())
            .await?
            .ok_or_else(|| IamError::no_such_user(request.name.as_str()))?;
        let mut rest = tags::listed(user.tags)
            .into_iter()
            .filter(|t| request.after.as_ref().is_none_or(|after| t.key > *after))
            .peekable();
        let tags: Vec<Tag> = rest.by_ref().take(request.max_items).collect();
        let marker = match (rest.peek(), tags.last()) {
            (Some(_), Some(last)) => Some(USER_TAGS.issue_marker(&last.key)),
            _ => None,
        };
        Ok(TagList { tags, marker })
    }

    /// Applies `change` to the user named `name` and stores the result, under `new_name` when
    /// given (a rename), retrying when the user changed meanwhile.
    async fn change_user(
        &self,
        name: &UserName,
        new_name: Option<&UserName>,
        change: impl Fn(UserRecord) -> Result<UserRecord, IamError>,
    ) -> Result<(), IamError> {
        let key = name.key();
        let new_key = new_name.map_or_else(|| key.clone(), UserName::key);
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .store
                .user(&key)
                .await?
                .ok_or_else(|| IamError::no_such_user(name.as_str()))?;
            let changed = change(current.clone())?;
            if changed == current && new_key == key {
                return Ok(());
            }
            let replaced = self
                .store
                .replace_user(&key, &new_key, &current, changed)
                .await?;
            match replaced {
                ReplaceUser::Replaced => return Ok(()),
                ReplaceUser::NoUser => return Err(IamError::no_such_user(name.as_str())),
                ReplaceUser::NameTaken => {
                    let taken = new_name.map_or(name, |n| n);
                    return Err(IamError::EntityAlreadyExists(format!(
                        "User with name {taken} already exists."
                    )));
                }
                ReplaceUser::Stale => continue,
            }
        }
        Err(IamError::internal(anyhow::anyhow!(
            "the user kept changing during {MAX_ATTEMPTS} attempts to change it"
        )))
    }
}
