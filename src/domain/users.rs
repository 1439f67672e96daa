//! IAM users: the directory that login profiles belong to.

use std::time::SystemTime;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::Rng as _;

use super::{
    IamError, Service, UserName, UserPath, Violations,
    clock::from_ms,
    input::{PathPrefix, check_range},
};
use crate::store::{DeleteUser, InsertUser, UserRecord};

const DEFAULT_MAX_ITEMS: usize = 100;
const MARKER_PREFIX: &str = "u1:";

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    pub path: String,
    pub create_date: SystemTime,
    pub password_last_used: Option<SystemTime>,
}

/// A validated CreateUser request.
#[derive(Debug, Clone)]
pub struct CreateUser {
    name: UserName,
    path: UserPath,
}

impl CreateUser {
    /// Validates the request; an empty path means `/`.
    pub fn parse(user_name: &str, path: &str) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let name = violations.check(UserName::parse("userName", user_name));
        let path = violations.check(UserPath::parse("path", path));
        match (name, path) {
            (Some(name), Some(path)) => Ok(Self { name, path }),
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
        let after = violations.check(parse_marker(marker));
        let max_items = match max_items {
            0 => Some(DEFAULT_MAX_ITEMS),
            n => violations
                .check(check_range("maxItems", n.into(), 1, 1000))
                .and_then(|()| usize::try_from(n).ok()),
        };
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

fn parse_marker(marker: &str) -> Result<Option<String>, Violations> {
    if marker.is_empty() {
        return Ok(None);
    }
    URL_SAFE_NO_PAD
        .decode(marker)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.strip_prefix(MARKER_PREFIX).map(str::to_owned))
        .map(Some)
        .ok_or_else(|| {
            let mut violations = Violations::default();
            violations.push(
                "marker",
                "Member must be a marker returned by a previous ListUsers call",
            );
            violations
        })
}

fn issue_marker(after_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{MARKER_PREFIX}{after_key}"))
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
        let record = UserRecord {
            user_name: request.name.as_str().to_owned(),
            user_id: new_user_id(),
            path: request.path.as_str().to_owned(),
            create_date_ms: self.clock.now_ms(),
            password_last_used_ms: None,
        };
        match self
            .store
            .insert_user(&request.name.key(), record.clone())
            .await?
        {
            InsertUser::Inserted => Ok(self.user_view(record)),
            InsertUser::AlreadyExists => Err(IamError::EntityAlreadyExists(format!(
                "User with name {} already exists.",
                request.name
            ))),
        }
    }

    pub async fn get_user(&self, name: UserName) -> Result<User, IamError> {
        match self.store.user(&name.key()).await? {
            Some(record) => Ok(self.user_view(record)),
            None => Err(IamError::no_such_user(name.as_str())),
        }
    }

    pub async fn delete_user(&self, name: UserName) -> Result<(), IamError> {
        match self.store.delete_user(&name.key()).await? {
            DeleteUser::Deleted => Ok(()),
            DeleteUser::NoUser => Err(IamError::no_such_user(name.as_str())),
            DeleteUser::HasProfile => Err(IamError::DeleteConflict(
                "Cannot delete entity, must delete login profile first.".to_owned(),
            )),
        }
    }

    pub async fn list_users(&self, request: ListUsers) -> Result<UserList, IamError> {
        let prefix = request.prefix.clone();
        let filter = move |user: &UserRecord| prefix.matches(&user.path);
        let page = self
            .store
            .list_users(request.after.as_deref(), request.max_items, &filter)
            .await?;
        Ok(UserList {
            users: page.users.into_iter().map(|u| self.user_view(u)).collect(),
            marker: page.next_after.as_deref().map(issue_marker),
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
    fn markers_round_trip_and_foreign_ones_are_refused() {
        let marker = issue_marker("bob");
        assert_eq!(parse_marker(&marker).unwrap(), Some("bob".to_owned()));
        assert_eq!(parse_marker("").unwrap(), None);
        assert!(parse_marker("not-a-marker!").is_err());
        assert!(parse_marker(&URL_SAFE_NO_PAD.encode("bob")).is_err());
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
