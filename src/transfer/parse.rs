//! Reading an export file whole and checking it before anything is written: every problem is
//! reported with its line number, and never with a password hash.

use std::{
    collections::{HashMap, HashSet},
    io::BufRead,
    sync::LazyLock,
};

use regex::Regex;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

use super::lines::{self, End, Header, Policy, Profile, User};
use crate::{
    domain::{Echo, MAX_TAGS, UserName, UserPath},
    password,
    store::{Snapshot, SnapshotUser},
};

/// The most previous hashes a profile keeps.
const MAX_HISTORY: usize = 24;

static USER_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^AIDA[A-Z0-9]{17}$").expect("a valid pattern"));
/// A JSON string inside a parser's message: it may hold a value from the file (a hash).
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""(?:[^"\\]|\\.)*""#).expect("a valid pattern"));

/// A name inside a parser's message longer than an echo may be.
static NAMED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"`([^`]{65,})`").expect("a valid pattern"));

/// Whether an export without a checksum in its trailer (format version 1) is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trailer {
    /// Only a trailer with a SHA-256 that agrees is accepted.
    #[default]
    Checked,
    /// A version 1 export, whose trailer has no SHA-256, is accepted too (its damage cannot be
    /// detected); a version 2 export is checked all the same.
    MayLackChecksum,
}

/// A checked export, and whether a checksum vouched for it.
#[derive(Debug)]
pub struct Checked {
    pub snapshot: Snapshot,
    /// False when an accepted version 1 export had no checksum to verify.
    pub checksum_verified: bool,
}

/// Reads and checks a whole export; the error names the first bad line.
pub(super) fn parse(input: impl BufRead, trailer: Trailer) -> anyhow::Result<Checked> {
    let mut reader = Reader {
        trailer,
        ..Reader::default()
    };
    let mut number = 0;
    for line in input.lines() {
        number += 1;
        let line = line.map_err(|e| anyhow::anyhow!("reading line {number}: {e}"))?;
        reader
            .line(&line)
            .map_err(|problem| anyhow::anyhow!("line {number}: {problem}"))?;
        reader.digest.update(line.as_bytes());
        reader.digest.update(b"\n");
    }
    match reader.state {
        State::Ended => Ok(Checked {
            snapshot: reader.snapshot,
            checksum_verified: reader.version != lines::VERSION_WITHOUT_CHECKSUM,
        }),
        State::Start => anyhow::bail!("the input is empty: it is not a loginprofiled export"),
        State::Records => anyhow::bail!(
            "line {}: the input ends without its \"end\" line: it is truncated, nothing was \
             imported",
            number + 1
        ),
    }
}

#[derive(Default)]
enum State {
    #[default]
    Start,
    Records,
    Ended,
}

#[derive(Default)]
struct Reader {
    trailer: Trailer,
    /// The header's format version.
    version: u32,
    /// SHA-256 of the lines read so far, each with its `\n`.
    digest: Sha256,
    state: State,
    snapshot: Snapshot,
    /// Index in `snapshot.users` by key.
    keys: HashMap<String, usize>,
    user_ids: HashSet<String>,
    profiles: u64,
    /// Keys of the devices so far, and how many are enabled for each user key.
    device_keys: HashSet<String>,
    enabled: HashMap<String, usize>,
}

impl Reader {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let mut object = match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => return Err("not a JSON object".into()),
            Err(e) => return Err(format!("not JSON ({})", redacted(&e))),
        };
        let kind = match object.remove("type") {
            Some(serde_json::Value::String(kind)) => kind,
            _ => return Err("no \"type\" field with a string".into()),
        };
        let value = serde_json::Value::Object(object);
        match (&self.state, kind.as_str()) {
            (State::Start, "header") => self.header(fields(value, "header")?),
            (State::Start, _) => {
                Err("the first line must be the header: this is not a loginprofiled export".into())
            }
            (State::Ended, _) => Err("a line after the \"end\" line".into()),
            (State::Records, "user") => self.user(fields(value, "user")?),
            (State::Records, "profile") => self.profile(fields(value, "profile")?),
            (State::Records, "device") => self.device(fields(value, "device")?),
            (State::Records, "policy") => self.policy(fields(value, "policy")?),
            (State::Records, "end") => self.end(fields(value, "end")?),
            (State::Records, "header") => Err("a second header".into()),
            (State::Records, _) => Err("an unknown line type".into()),
        }
    }

    fn header(&mut self, header: Header) -> Result<(), String> {
        if header.format != lines::FORMAT {
            return Err(format!(
                "the format is not {:?}: this is not a loginprofiled export",
                lines::FORMAT
            ));
        }
        match header.version {
            lines::VERSION => {}
            lines::VERSION_WITHOUT_CHECKSUM if self.trailer == Trailer::MayLackChecksum => {}
            lines::VERSION_WITHOUT_CHECKSUM => {
                return Err(format!(
                    "format version {}, an export from before exports carried a checksum: its \
                     damage cannot be detected; to import it all the same, give \
                     --accept-export-without-checksum",
                    header.version
                ));
            }
            version => {
                return Err(format!(
                    "format version {version} (this build reads version {})",
                    lines::VERSION
                ));
            }
        }
        self.version = header.version;
        self.state = State::Records;
        Ok(())
    }

    fn user(&mut self, user: User) -> Result<(), String> {
        let name = UserName::parse("user_name", &user.user_name)
            .map_err(|v| format!("user {}: {v}", Echo(&user.user_name)))?;
        let problem = |what: String| format!("user {}: {what}", Echo(&user.user_name));
        UserPath::parse("path", &user.path).map_err(|v| problem(v.to_string()))?;
        if !USER_ID.is_match(&user.user_id) {
            return Err(problem("user_id is not AIDA and 17 of [A-Z0-9]".into()));
        }
        if !self.user_ids.insert(user.user_id.clone()) {
            return Err(problem("its user_id belongs to an earlier user too".into()));
        }
        check_tags(&user.tags).map_err(problem)?;
        let key = name.key();
        if self.keys.contains_key(&key) {
            return Err(problem(
                "an earlier user has this name (names are unique without regard to case)".into(),
            ));
        }
        self.keys.insert(key.clone(), self.snapshot.users.len());
        self.snapshot.users.push(SnapshotUser {
            key,
            user: user.into(),
            profile: None,
        });
        Ok(())
    }

    fn profile(&mut self, profile: Profile) -> Result<(), String> {
        let problem = |what: &str| format!("login profile of {}: {what}", Echo(&profile.user_name));
        let key = profile.user_name.to_ascii_lowercase();
        let Some(&index) = self.keys.get(&key) else {
            return Err(problem("no user line with this name before it"));
        };
        let owner = &mut self.snapshot.users[index];
        if owner.user.user_name != profile.user_name {
            return Err(problem("the name is spelled differently on the user line"));
        }
        if owner.profile.is_some() {
            return Err(problem("the user has a login profile on an earlier line"));
        }
        if let Err(refusal) = password::check_stored(&profile.password_hash) {
            return Err(problem(&format!("password_hash is {refusal}")));
        }
        if profile.previous_hashes.len() > MAX_HISTORY {
            return Err(problem("more than 24 previous_hashes"));
        }
        if let Some(refusal) = profile
            .previous_hashes
            .iter()
            .find_map(|h| password::check_stored(h).err())
        {
            return Err(problem(&format!(
                "an entry of previous_hashes is {refusal}"
            )));
        }
        owner.profile = Some(profile.into_record());
        self.profiles += 1;
        Ok(())
    }

    fn policy(&mut self, policy: Policy) -> Result<(), String> {
        if self.snapshot.policy.is_some() {
            return Err("a second policy line".into());
        }
        let ranges = [
            (
                "minimum_password_length",
                Some(policy.minimum_password_length),
                6,
                128,
            ),
            ("max_password_age", policy.max_password_age, 1, 1095),
            (
                "password_reuse_prevention",
                policy.password_reuse_prevention,
                1,
                24,
            ),
        ];
        for (field, value, min, max) in ranges {
            if let Some(value) = value
                && !(min..=max).contains(&value)
            {
                return Err(format!("policy: {field} {value} is not in {min}..={max}"));
            }
        }
        self.snapshot.policy = Some(policy.into());
        Ok(())
    }

    fn end(&mut self, end: End) -> Result<(), String> {
        let found = End {
            users: self.snapshot.users.len() as u64,
            profiles: self.profiles,
            devices: self.snapshot.devices.len() as u64,
            policy: self.snapshot.policy.is_some(),
            sha256: Some(hex::encode(self.digest.clone().finalize())),
        };
        match (&end.sha256, self.version) {
            (None, lines::VERSION_WITHOUT_CHECKSUM) => {}
            (None, _) => {
                return Err(
                    "the \"end\" line carries no sha256: the file was changed after \
                            export; nothing was imported"
                        .into(),
                );
            }
            (Some(_), lines::VERSION_WITHOUT_CHECKSUM) => {
                return Err("a sha256 on the \"end\" line of a version 1 export".into());
            }
            (Some(sha256), _) if Some(sha256) != found.sha256.as_ref() => {
                return Err(
                    "the SHA-256 of the lines before the \"end\" line disagrees with \
                            the one it carries: a line was changed after export; nothing was \
                            imported"
                        .into(),
                );
            }
            (Some(_), _) => {}
        }
        let counts = |end: &End| (end.users, end.profiles, end.devices, end.policy);
        if counts(&end) != counts(&found) {
            return Err(format!(
                "the \"end\" line counts {} users, {} login profiles, {} MFA devices and policy \
                 {}, but the file holds {}, {}, {} and {}",
                end.users,
                end.profiles,
                end.devices,
                end.policy,
                found.users,
                found.profiles,
                found.devices,
                found.policy
            ));
        }
        self.state = State::Ended;
        Ok(())
    }
}

/// The fields of a line of type `kind`.
fn fields<T: DeserializeOwned>(value: serde_json::Value, kind: &str) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| format!("a bad {kind:?} line: {}", redacted(&e)))
}

/// A parser's message without the JSON strings it quotes (a value could be a hash), and with
/// the names it quotes (`unknown field` ...) cut to [`crate::domain::ECHO_LIMIT`] characters.
fn redacted(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let message = QUOTED.replace_all(&message, "a string");
    NAMED
        .replace_all(&message, |name: &regex::Captures<'_>| {
            format!("`{}…`", Echo::cut(&name[1]))
        })
        .into_owned()
}

fn check_tags(tags: &[lines::Tag]) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!("more than {MAX_TAGS} tags"));
    }
    let mut keys = HashSet::new();
    for tag in tags {
        let key_len = tag.key.chars().count();
        if !(1..=128).contains(&key_len) || tag.value.chars().count() > 256 {
            return Err(format!(
                "tag {}: a key of 1-128 and a value of 0-256 characters",
                Echo(&tag.key)
            ));
        }
        if !keys.insert(tag.key.to_lowercase()) {
            return Err(format!("tag {}: another tag has this key", Echo(&tag.key)));
        }
    }
    Ok(())
}

mod device_lines;
#[cfg(test)]
mod tests;
