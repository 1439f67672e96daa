//! A full read of a store: every record of every tree, decoded and checked against the
//! invariants the writes keep (every user under its lower-cased name, every profile with its
//! user, every assigned MFA device with its user and in its user's index, the ledger's counts). A page sled cannot read (a failed checksum) shows up here, not
//! at the first caller that needs it. No value ever reaches a problem's text: only keys.

use std::fmt;

use prost::Message;

use super::{devices, ledger};
use crate::store::{LedgerRecord, LockoutRecord, PolicyRecord, ProfileRecord, UserRecord};

/// Problems listed one by one; past this many only their number is given.
const LISTED_PROBLEMS: usize = 20;

/// What a full read found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Survey {
    pub users: u64,
    pub profiles: u64,
    /// Virtual MFA devices, assigned or not.
    pub devices: u64,
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
        let open = |name: &str| db.open_tree(name).map_err(|e| (name.to_owned(), e));
        match open("users").and_then(|users| Ok((users, open("profiles")?))) {
            Ok((users, profiles)) => survey.read_users_and_profiles(&users, &profiles),
            Err((name, e)) => {
                survey
                    .problems
                    .push(format!("the {name} tree cannot be opened: {e}"));
                return survey;
            }
        }
        survey.read_devices(&open);
        let read_already = ["users", "profiles", devices::TREE, devices::INDEX_TREE];
        for name in names.iter().filter(|n| !read_already.contains(&n.as_str())) {
            match open(name) {
                Ok(tree) => survey.read_tree(name, &tree),
                Err((name, e)) => survey
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
            ("MFA devices", self.devices, ledger.devices),
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

    /// A ledger for a new store that counts what this survey found.
    pub(super) fn ledger(&self) -> LedgerRecord {
        LedgerRecord::new(self.users, self.profiles, self.devices, self.policy)
    }

    /// Reads the users and profiles trees side by side: both are in key order, so every
    /// profile's user is found without a lookup.
    fn read_users_and_profiles(&mut self, users: &sled::Tree, profiles: &sled::Tree) {
        let mut users = Reader::new("users", users);
        let mut profiles = Reader::new("profiles", profiles);
        let mut user = users.next(self);
        while let Some((key, value)) = profiles.next(self) {
            while let Some((user_key, user_value)) = user.take_if(|(k, _)| *k < key) {
                self.user(&user_key, &user_value);
                user = users.next(self);
            }
            // After a users tree that cannot be read on, whose profile this is stays unknown.
            let has_user = (!users.failed).then(|| user.as_ref().is_some_and(|(k, _)| *k == key));
            self.profile(&key, &value, has_user);
        }
        while let Some((user_key, user_value)) = user {
            self.user(&user_key, &user_value);
            user = users.next(self);
        }
    }

    fn read_tree(&mut self, name: &str, tree: &sled::Tree) {
        let mut reader = Reader::new(name, tree);
        while let Some((key, value)) = reader.next(self) {
            match name {
                "policy" => self.policy(&key, &value),
                "lockouts" => self.lockout(&key, &value),
                ledger::TREE if !decodes::<LedgerRecord>(&value) => self
                    .problems
                    .push("the ledger record does not decode".to_owned()),
                _ => {}
            }
        }
    }

    fn user(&mut self, key: &[u8], value: &[u8]) {
        self.users += 1;
        let shown = String::from_utf8_lossy(key);
        match UserRecord::decode(value) {
            Err(_) => self
                .problems
                .push(format!("the user record of {shown:?} does not decode")),
            Ok(user) if user.user_name.to_ascii_lowercase().as_bytes() != key => {
                self.problems.push(format!(
                    "the user record of {shown:?} holds the name {:?}, whose key would differ",
                    user.user_name
                ));
            }
            Ok(_) => {}
        }
    }

    /// `has_user` is None when it cannot be known.
    fn profile(&mut self, key: &[u8], value: &[u8], has_user: Option<bool>) {
        self.profiles += 1;
        let shown = String::from_utf8_lossy(key);
        if ProfileRecord::decode(value).is_err() {
            self.problems
                .push(format!("the login profile of {shown:?} does not decode"));
        }
        if has_user == Some(false) {
            self.problems
                .push(format!("the login profile of {shown:?} has no user"));
        }
    }

    fn lockout(&mut self, key: &[u8], value: &[u8]) {
        self.lockouts += 1;
        if !decodes::<LockoutRecord>(value) {
            self.problems.push(format!(
                "the lockout state of {:?} does not decode",
                String::from_utf8_lossy(key)
            ));
        }
    }

    fn policy(&mut self, key: &[u8], value: &[u8]) {
        if key != super::POLICY_KEY {
            self.problems.push(format!(
                "the policy tree holds an unknown key {:?}",
                String::from_utf8_lossy(key)
            ));
            return;
        }
        self.policy = true;
        if !decodes::<PolicyRecord>(value) {
            self.problems
                .push("the account password policy does not decode".to_owned());
        }
    }
}

/// One tree's records in key order, stopping at the first that cannot be read (sled's iterator
/// may go on failing for ever after one).
struct Reader<'a> {
    name: &'a str,
    iter: sled::Iter,
    read: u64,
    failed: bool,
}

impl<'a> Reader<'a> {
    fn new(name: &'a str, tree: &sled::Tree) -> Self {
        Self {
            name,
            iter: tree.iter(),
            read: 0,
            failed: false,
        }
    }

    /// The next record, counted in `survey`; a read failure becomes one of its problems.
    fn next(&mut self, survey: &mut Survey) -> Option<(sled::IVec, sled::IVec)> {
        if self.failed {
            return None;
        }
        match self.iter.next()? {
            Ok(record) => {
                self.read += 1;
                survey.records += 1;
                Some(record)
            }
            Err(e) => {
                self.failed = true;
                survey.problems.push(format!(
                    "the {} tree cannot be read past its first {} records: {e}",
                    self.name, self.read
                ));
                None
            }
        }
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

mod device_records;
#[cfg(test)]
mod tests;
