//! Callers and their rights: the tokens file (bearer tokens and client certificates for gRPC,
//! access keys for the Query API) and the scopes that decide which operations a caller may call.

use std::{fmt, path::Path};

use anyhow::Context as _;
use secrecy::SecretString;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

mod error;

pub use error::AuthError;
// The scopes are the operation list's (it says which operations each allows); callers and the
// tokens file name them from here too.
pub use crate::operation::Scope;
use crate::{domain::Echo, operation::Operation};

/// Who is calling, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The IAM user an access key belongs to (Query API only).
    pub user: Option<String>,
}

impl Caller {
    /// Whether any of the caller's scopes allows the operation; an operation that is not in the
    /// list (an unknown gRPC method) is left to `admin`, which then hears it does not exist.
    pub fn may(&self, operation: Option<Operation>) -> bool {
        self.scopes.iter().any(|&scope| match operation {
            Some(operation) => scope.permits(operation),
            None => scope == Scope::Admin,
        })
    }
}

/// A bearer token as configured: its name, the SHA-256 of the secret, and its scopes.
#[derive(Clone)]
struct Token {
    name: String,
    sha256: [u8; 32],
    scopes: Vec<Scope>,
}

/// An access key for SigV4-signed Query API requests. SigV4 needs the raw secret.
#[derive(Clone)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub user: Option<String>,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A client certificate caller: a verified certificate naming `subject` (a SAN URI such as a
/// SPIFFE ID, or a SAN DNS name) calls as `name` with `scopes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateCaller {
    name: String,
    subject: String,
    scopes: Vec<Scope>,
}

/// The callers a tokens file admits.
#[derive(Clone, Default)]
pub struct Tokens {
    tokens: Vec<Token>,
    access_keys: Vec<AccessKey>,
    certificates: Vec<CertificateCaller>,
    /// The file holds raw access-key secrets and others than its owner may read it.
    secrets_exposed: bool,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.tokens.iter().map(|t| &t.name).collect();
        f.debug_struct("Tokens")
            .field("tokens", &names)
            .field("access_keys", &self.access_keys)
            .field("certificates", &self.certificates)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
    #[serde(default)]
    access_key: Vec<AccessKeyEntry>,
    #[serde(default)]
    certificate: Vec<CertificateCaller>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: String,
    sha256: String,
    scopes: Vec<Scope>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessKeyEntry {
    access_key_id: String,
    secret_access_key: String,
    scopes: Vec<Scope>,
    name: Option<String>,
    user: Option<String>,
}

impl Tokens {
    /// Reads and checks a tokens file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the tokens file {}", path.display()))?;
        let mut tokens =
            Self::parse(&text).with_context(|| format!("in the tokens file {}", path.display()))?;
        tokens.secrets_exposed = !tokens.access_keys.is_empty() && readable_by_others(path);
        Ok(tokens)
    }

    /// Whether the file holds access-key secrets (SigV4 needs them raw) and is readable by group
    /// or others; the server warns about it at start.
    pub fn secrets_exposed(&self) -> bool {
        self.secrets_exposed
    }

    /// Parses the TOML of a tokens file.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: TokensFile = toml::from_str(text)?;
        let mut tokens = Vec::new();
        for entry in file.token {
            let digest = hex::decode(entry.sha256.trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .with_context(|| {
                    format!("token {}: sha256 must be 64 hex digits", Echo(&entry.name))
                })?;
            anyhow::ensure!(
                !entry.scopes.is_empty(),
                "token {} has no scopes",
                Echo(&entry.name)
            );
            tokens.push(Token {
                name: entry.name,
                sha256: digest,
                scopes: entry.scopes,
            });
        }
        let access_keys = file
            .access_key
            .into_iter()
            .map(|entry| AccessKey {
                name: entry.name.unwrap_or_else(|| entry.access_key_id.clone()),
                access_key_id: entry.access_key_id,
                secret_access_key: SecretString::from(entry.secret_access_key),
                scopes: entry.scopes,
                user: entry.user,
            })
            .collect();
        for entry in &file.certificate {
            anyhow::ensure!(
                !entry.scopes.is_empty(),
                "certificate {} has no scopes",
                Echo(&entry.name)
            );
            anyhow::ensure!(
                !entry.subject.is_empty(),
                "certificate {} has an empty subject",
                Echo(&entry.name)
            );
        }
        Ok(Self {
            tokens,
            access_keys,
            certificates: file.certificate,
            secrets_exposed: false,
        })
    }

    /// Whether the file names any certificate callers (which only mutual TLS can present).
    pub fn has_certificate_callers(&self) -> bool {
        !self.certificates.is_empty()
    }

    /// The caller a bearer token belongs to. Compares digests in constant time and looks at
    /// every configured token, so timing tells nothing about which one matched.
    pub fn authenticate(&self, presented: &str) -> Option<Caller> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for token in &self.tokens {
            if bool::from(token.sha256.ct_eq(&digest)) {
                found = Some(token);
            }
        }
        found.map(|t| Caller {
            name: t.name.clone(),
            scopes: t.scopes.clone(),
            user: None,
        })
    }

    /// The caller a verified client certificate is, by its SAN URIs and DNS names (exact match;
    /// the first entry that matches any of them).
    pub fn certificate_caller(&self, subject_names: &[String]) -> Option<Caller> {
        self.certificates
            .iter()
            .find(|entry| subject_names.contains(&entry.subject))
            .map(|entry| Caller {
                name: entry.name.clone(),
                scopes: entry.scopes.clone(),
                user: None,
            })
    }

    /// The access key with this id, for SigV4 verification.
    pub fn access_key(&self, access_key_id: &str) -> Option<&AccessKey> {
        self.access_keys
            .iter()
            .find(|k| k.access_key_id == access_key_id)
    }
}

fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
}

/// A fresh random token and the tokens-file entry that admits it.
pub fn new_token(name: &str, scopes: &[Scope]) -> (String, String) {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("lpd_{}", hex::encode(bytes));
    let digest = hex::encode(Sha256::digest(token.as_bytes()));
    let scopes: Vec<_> = scopes.iter().map(|s| format!("{:?}", s.as_str())).collect();
    let entry = format!(
        "[[token]]\nname = {}\nsha256 = \"{digest}\"\nscopes = [{}]\n",
        toml::Value::String(name.to_owned()),
        scopes.join(", ")
    );
    (token, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_key_secrets_readable_by_others_are_flagged() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        std::fs::write(
            &path,
            "[[access_key]]\naccess_key_id = 'AKIA1'\nsecret_access_key = 's'\nscopes = ['read']\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Tokens::load(&path).unwrap().secrets_exposed());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(!Tokens::load(&path).unwrap().secrets_exposed());
    }

    #[test]
    fn a_new_token_authenticates_through_its_own_entry() {
        let (token, entry) = new_token("frontend", &[Scope::Signin, Scope::Read]);
        let tokens = Tokens::parse(&entry).unwrap();
        let caller = tokens.authenticate(&token).unwrap();
        assert_eq!(caller.name, "frontend");
        assert_eq!(caller.scopes, vec![Scope::Signin, Scope::Read]);
        assert!(tokens.authenticate("lpd_wrong").is_none());
    }

    #[test]
    fn scopes_grant_what_the_design_lists() {
        use Operation::*;
        assert!(Scope::Signin.permits(VerifyPassword));
        assert!(!Scope::Signin.permits(ListUsers));
        assert!(Scope::Read.permits(ListUsers));
        assert!(Scope::Read.permits(ListUserTags));
        assert!(!Scope::Signin.permits(ListUserTags));
        for write in [UpdateUser, TagUser, UntagUser] {
            assert!(Scope::Admin.permits(write));
            assert!(!Scope::Read.permits(write));
            assert!(!Scope::Signin.permits(write));
        }
        assert!(!Scope::Read.permits(VerifyPassword));
        assert!(!Scope::Read.permits(CreateUser));
        assert!(Scope::Admin.permits(DeleteAccountPasswordPolicy));
        let signin = [
            VerifyPassword,
            ChangePassword,
            GetLoginProfile,
            GetUser,
            GetAccountPasswordPolicy,
        ];
        let read = [
            GetLoginProfile,
            GetUser,
            ListUsers,
            ListUserTags,
            GetAccountPasswordPolicy,
            ListMFADevices,
            ListVirtualMFADevices,
        ];
        for &op in Operation::ALL {
            assert_eq!(Scope::Signin.permits(op), signin.contains(&op), "{op:?}");
            assert_eq!(Scope::Read.permits(op), read.contains(&op), "{op:?}");
        }
        let caller = |scope| Caller {
            name: "c".to_owned(),
            scopes: vec![scope],
            user: None,
        };
        assert!(caller(Scope::Admin).may(None));
        assert!(!caller(Scope::Read).may(None));
    }

    #[test]
    fn a_certificate_caller_matches_one_of_its_subject_names_exactly() {
        let tokens = Tokens::parse(
            "[[certificate]]\nname = 'signin'\nsubject = 'spiffe://cluster.local/ns/app/sa/signin'\nscopes = ['signin']\n\
             [[certificate]]\nname = 'ops'\nsubject = 'ops.internal'\nscopes = ['admin']\n",
        )
        .unwrap();
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let caller = tokens
            .certificate_caller(&names(&[
                "other.internal",
                "spiffe://cluster.local/ns/app/sa/signin",
            ]))
            .unwrap();
        assert_eq!(
            (caller.name.as_str(), caller.scopes),
            ("signin", vec![Scope::Signin])
        );
        assert_eq!(
            tokens
                .certificate_caller(&names(&["ops.internal"]))
                .unwrap()
                .name,
            "ops"
        );
        assert!(
            tokens
                .certificate_caller(&names(&["spiffe://cluster.local/ns/app/sa/signin/x"]))
                .is_none()
        );
        assert!(
            tokens
                .certificate_caller(&names(&["OPS.internal"]))
                .is_none()
        );
        assert!(tokens.certificate_caller(&[]).is_none());
        assert!(tokens.has_certificate_callers());
    }

    #[test]
    fn malformed_entries_are_refused() {
        assert!(Tokens::parse("[[certificate]]\nname='a'\nsubject='x'\nscopes=[]").is_err());
        assert!(Tokens::parse("[[certificate]]\nname='a'\nsubject=''\nscopes=['read']").is_err());
        assert!(Tokens::parse("[[certificate]]\nname='a'\nscopes=['read']").is_err());
        assert!(Tokens::parse("[[token]]\nname='a'\nsha256='abc'\nscopes=['admin']").is_err());
        assert!(Tokens::parse("[[token]]\nname='a'\nsha256='00'\nscopes=['root']").is_err());
        assert!(Tokens::parse("[[tokens]]\nname='a'").is_err());
    }
}
