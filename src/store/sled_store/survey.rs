//! A full read of a store: every record of every tree, decoded and checked against the
//! invariants the writes keep (every user under its lower-cased name, every profile with its
//! user, the ledger's counts). A page sled cannot read (a failed checksum) shows up here, not
//! at the first caller that needs it. No value ever reaches a problem's text: only keys.

use std::fmt;

use prost::Message;

use super::ledger;
use crate::store::{LedgerRecord, LockoutRecord, PolicyRecord, ProfileRecord, UserRecord};

/// Problems listed one by one; past this many only their number is given.
const LISTED_PROBLEMS: usize = 20;

/// What a full read found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Survey {
    pub users: u64,
    pub profiles: u64,
    pub lockouts: u64,
    pub policy: bool,
    /// Records read in every tree, sled's own included.
    pub records: u64,
    pub problems: Problems,
}

/// Problems found, the first few spelled out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    pub listed: Vec<String>,
    pub more: usize,
}

impl Problems {
    pub(super) fn push(&mut self, problem: String) {
        if self.listed.len() < LISTED_PROBLEMS {
            self.listed.push(problem);
        } else {
            self.more += 1;
        }
    }

    pub(super) fn extend(&mut self, other: &Problems) {
        for problem in &other.listed {
            self.push(problem.clone());
        }
        self.more += other.more;
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.listed {
            writeln!(f, "  - {problem}")?;
        }
        if self.more > 0 {
            writeln!(f, "  - and {} more of the same kinds", self.more)?;
        }
        Ok(())
    }
}

impl Survey {
    /// Reads all of `db`.
    pub(super) fn of(db: &sled::Db) -> Self {
        let mut survey = Self::default();
        let names = match db.tree_names().into_iter().map(tree_name).collect() {
            Ok(names) => names,
            Err(problem) => {
                survey.problems.push(problem);
                return survey;
            }
        };
        let names: Vec<String> = names;
        let users = match db.open_tree("users") {
            Ok(users) => users,
            Err(e) => {
                survey
                    .problems
                    .push(format!("the users tree cannot be opened: {e}"));
                return survey;
            }
        };
        for name in &names {
            match db.open_tree(name) {
                Ok(tree) => survey.read_tree(&users, name, &tree),
                Err(e) => survey
                    .problems
                    .push(format!("the {name} tree cannot be opened: {e}")),
            }
        }
        survey
    }

    /// Compares the counts with what the ledger recorded, adding any difference to `problems`.
    pub(super) fn compare_with(&self, ledger: &LedgerRecord, problems: &mut Problems) {
        for (what, found, recorded) in [
            ("users", self.users, ledger.users),
            ("login profiles", self.profiles, ledger.profiles),
        ] {
            if found != recorded {
                problems.push(format!(
                    "the store holds {found} {what}, but its ledger recorded {recorded}"
                ));
            }
        }
        if self.policy != ledger.policy {
            problems.push(format!(
                "the account password policy is {}, but the ledger recorded it {}",
                present(self.policy),
                present(ledger.policy)
            ));
        }
    }

    fn read_tree(&mut self, users: &sled::Tree, name: &str, tree: &sled::Tree) {
        for (read, entry) in tree.iter().enumerate() {
            let (key, value) = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.problems.push(format!(
                        "the {name} tree cannot be read past its first {read} records: {e}"
                    ));
                    return;
                }
            };
            self.records += 1;
            let problem = match name {
                "users" => self.user(&key, &value),
                "profiles" => self.profile(users, &key, &value),
                "policy" => self.policy(&key, &value),
                "lockouts" => self.lockout(&key, &value),
                ledger::TREE => (!decodes::<LedgerRecord>(&value))
                    .then(|| "the ledger record does not decode".to_owned()),
                _ => None,
            };
            if let Some(problem) = problem {
                self.problems.push(problem);
            }
        }
    }

    fn user(&mut self, key: &[u8], value: &[u8]) -> Option<String> {
        self.users += 1;
        let shown = String::from_utf8_lossy(key);
        let Ok(user) = UserRecord::decode(value) else {
            return Some(format!("the user record of {shown:?} does not decode"));
        };
        (user.user_name.to_ascii_lowercase().as_bytes() != key).then(|| {
            format!(
                "the user record of {shown:?} holds the name {:?}, whose key would differ",
                user.user_name
            )
        })
    }

    fn profile(&mut self, users: &sled::Tree, key: &[u8], value: &[u8]) -> Option<String> {
        self.profiles += 1;
        let shown = String::from_utf8_lossy(key);
        if ProfileRecord::decode(value).is_err() {
            return Some(format!("the login profile of {shown:?} does not decode"));
        }
        match users.contains_key(key) {
            Ok(true) => None,
            Ok(false) => Some(format!("the login profile of {shown:?} has no user")),
            Err(e) => Some(format!("the user of the login profile {shown:?}: {e}")),
        }
    }

    fn lockout(&mut self, key: &[u8], value: &[u8]) -> Option<String> {
        self.lockouts += 1;
        (!decodes::<LockoutRecord>(value)).then(|| {
            format!(
                "the lockout state of {:?} does not decode",
                String::from_utf8_lossy(key)
            )
        })
    }

    fn policy(&mut self, key: &[u8], value: &[u8]) -> Option<String> {
        if key != super::POLICY_KEY {
            return Some(format!(
                "the policy tree holds an unknown key {:?}",
                String::from_utf8_lossy(key)
            ));
        }
        self.policy = true;
        (!decodes::<PolicyRecord>(value))
            .then(|| "the account password policy does not decode".to_owned())
    }
}

fn decodes<T: Message + Default>(bytes: &[u8]) -> bool {
    T::decode(bytes).is_ok()
}

fn tree_name(name: sled::IVec) -> Result<String, String> {
    String::from_utf8(name.to_vec()).map_err(|_| "a tree name is not UTF-8".to_owned())
}

fn present(present: bool) -> &'static str {
    if present { "present" } else { "absent" }
}

#[cfg(test)]
mod tests;
