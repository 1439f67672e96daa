//! IAM users: the directory that login profiles belong to.

use std::time::SystemTime;

use rand::Rng as _;

use super::{
    IamError, Service, Tag, UserName, UserPath, Violations,
    clock::from_ms,
    input::{PathPrefix, check_range},
    marker::Listing,
    tags,
};
use crate::operation::Operation;
use crate::store::{DeleteUser, InsertUser, UserRecord};

/// What `max_items` 0 means in every listing.
const DEFAULT_MAX_ITEMS: usize = 100;
const USERS: Listing = Listing {
    operation: "ListUsers",
    prefix: "u1:",
};

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    pub path: String,
    pub create_date: SystemTime,
    pub password_last_used: Option<SystemTime>,
    /// In key order without regard to case; empty in listings, as IAM's ListUsers.
    pub tags: Vec<Tag>,
}

/// A validated CreateUser request.
#[derive(Debug, Clone)]
pub struct CreateUser {
    name: UserName,
    path: UserPath,
    tags: Vec<Tag>,
}

impl CreateUser {
    /// Validates the request; an empty path means `/`. Tag keys that repeat without regard to
    /// case are InvalidInput, checked after every field's shape.
    pub fn parse(user_name: &str, path: &str, tags: Vec<Tag>) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let name = violations.check(UserName::parse("userName", user_name));
        let path = violations.check(UserPath::parse("path", path));
        let tags = violations.check(tags::parse_tags("tags", tags, false));
        match (name, path, tags) {
            (Some(name), Some(path), Some(tags)) => Ok(Self {
                name,
                path,
                tags: tags::unique(tags)?,
            }),
            _ => Err(violations.into()),
        }
    }
}

/// A validated ListUsers request.
#[derive(Debug, Clone)]
pub struct ListUsers {
    prefix: PathPrefix,
    after: Option<String>,
    max_items: usize,
}

impl ListUsers {
    /// Validates the request: an empty prefix lists everyone, an empty marker starts at the
    /// beginning, and `max_items` 0 means 100.
    pub fn parse(path_prefix: &str, marker: &str, max_items: i32) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let prefix = violations.check(PathPrefix::parse("pathPrefix", path_prefix));
        let after = violations.check(USERS.parse_marker(marker));
        let max_items = violations.check(parse_max_items(max_items));
        match (prefix, after, max_items) {
            (Some(prefix), Some(after), Some(max_items)) => Ok(Self {
                prefix,
                after,
                max_items,
            }),
            _ => Err(violations.into()),
        }
    }
}

/// A listing's `maxItems`: 0 means 100; otherwise 1 to 1000.
pub(super) fn parse_max_items(max_items: i32) -> Result<usize, Violations> {
    if max_items == 0 {
        return Ok(DEFAULT_MAX_ITEMS);
    }
    check_range("maxItems", max_items.into(), 1, 1000)?;
    // 1 to 1000 by now, so the conversion cannot fail.
    Ok(usize::try_from(max_items).unwrap_or(DEFAULT_MAX_ITEMS))
}

/// One page of ListUsers.
#[derive(Debug, Clone, PartialEq)]
pub struct UserList {
    pub users: Vec<User>,
    /// Present when more users follow; pass it back to get them.
    pub marker: Option<String>,
}

impl Service {
    pub async fn create_user(&self, request: CreateUser) -> Result<User, IamError> {
        let user = request.name.clone();
        self.audited(Operation::CreateUser, Some(&user), async move {
            // IAM echoes the tags in the order the caller gave them (later reads list them by
            // key); the record keeps its own order.
            let given = request.tags.clone();
            let record = UserRecord {
                user_name: request.name.as_str().to_owned(),
                user_id: new_user_id(),
                path: request.path.as_str().to_owned(),
                create_date_ms: self.clock.now_ms(),
                password_last_used_ms: None,
                tags: tags::sorted_records(request.tags),
            };
            match self
                .store
                .insert_user(&request.name.key(), record.clone())
                .await?
            {
                InsertUser::Inserted => Ok(User {
                    tags: given,
                    ..self.user_view(record)
                }),
                InsertUser::AlreadyExists => Err(IamError::EntityAlreadyExists(format!(
                    "User with name {} already exists.",
                    request.name
                ))),
            }
        })
        .await
    }

    pub async fn get_user(&self, name: UserName) -> Result<User, IamError> {
        match self.store.user(&name.key()).await? {
            Some(record) => Ok(self.user_view(record)),
            None => Err(IamError::no_such_user(name.as_str())),
        }
    }

    pub async fn delete_user(&self, name: UserName) -> Result<(), IamError> {
        let user = name.clone();
        self.audited(Operation::DeleteUser, Some(&user), async move {
            match self.store.delete_user(&name.key()).await? {
                DeleteUser::Deleted => Ok(()),
                DeleteUser::NoUser => Err(IamError::no_such_user(name.as_str())),
                DeleteUser::HasProfile => Err(IamError::DeleteConflict(
                    "Cannot delete entity, must delete login profile first.".to_owned(),
                )),
                DeleteUser::HasDevice => Err(IamError::DeleteConflict(
                    "Cannot delete entity, must delete MFA device first.".to_owned(),
                )),
            }
        })
        .await
    }

    pub async fn list_users(&self, request: ListUsers) -> Result<UserList, IamError> {
        let page = self
            .store
            .list_users(
                request.prefix.as_str(),
                request.after.as_deref(),
                request.max_items,
            )
            .await?;
        let untagged = |mut user: UserRecord| {
            user.tags.clear();
            self.user_view(user)
        };
        Ok(UserList {
            users: page.users.into_iter().map(untagged).collect(),
            marker: page.next_after.map(|key| USERS.issue_marker(&key)),
        })
    }

    pub(super) fn user_view(&self, record: UserRecord) -> User {
        User {
            arn: format!(
                "arn:aws:iam::{}:user{}{}",
                self.settings.account_id, record.path, record.user_name
            ),
            create_date: from_ms(record.create_date_ms),
            password_last_used: record.password_last_used_ms.map(from_ms),
            user_name: record.user_name,
            user_id: record.user_id,
            path: record.path,
            tags: tags::listed(record.tags),
        }
    }
}

/// `AIDA` followed by 17 random upper-case letters and digits, as IAM user ids look.
fn new_user_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..17)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("AIDA{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_have_the_iam_form() {
        let id = new_user_id();
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AIDA"));
        assert!(
            id[4..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn list_parameters_are_checked_together() {
        let err = ListUsers::parse("no-slash", "", 1001).unwrap_err();
        assert_eq!(
            err.to_string(),
            "2 validation errors detected: Value at 'pathPrefix' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*; Value at \
             'maxItems' failed to satisfy constraint: Member must have value less than or equal \
             to 1000"
        );
    }
}
