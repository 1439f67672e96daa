//! Request parameters: the query string and, for a form POST, the body, decoded from `+` and
//! `%20` alike, in any order. Values may hold passwords: `Debug` shows names only.

use std::{collections::BTreeMap, fmt};

use crate::domain::{IamError, Violations};

/// The parameters of one request, in the order received (query string first).
#[derive(Default)]
pub(super) struct Params(Vec<(String, String)>);

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

impl Params {
    /// Decodes the query string and, when given, a form-encoded body.
    pub(super) fn parse(query: Option<&str>, form_body: Option<&[u8]>) -> Self {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(query) = query {
            pairs.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
        }
        if let Some(body) = form_body {
            pairs.extend(form_urlencoded::parse(body).into_owned());
        }
        Self(pairs)
    }

    /// The first value of a parameter.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value, owned (passwords go into the domain's secret type from here).
    pub(super) fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// The members of the list parameter `name`, as the Query protocol spells them
    /// (`Tags.member.2.Key`, `TagKeys.member.1`): by position, each with what follows the
    /// position (`Key`, or empty) and its value. Malformed positions are ignored, as unknown
    /// parameters are.
    pub(super) fn list_members(&self, name: &str) -> BTreeMap<u32, Vec<(&str, &str)>> {
        let prefix = format!("{name}.member.");
        let mut members: BTreeMap<u32, Vec<(&str, &str)>> = BTreeMap::new();
        for (param, value) in &self.0 {
            let Some(rest) = param.strip_prefix(&prefix) else {
                continue;
            };
            let (position, suffix) = rest.split_once('.').unwrap_or((rest, ""));
            if let Ok(position) = position.parse::<u32>() {
                members
                    .entry(position)
                    .or_default()
                    .push((suffix, value.as_str()));
            }
        }
        members
    }

    /// A parameter the action needs: absent is a ValidationError naming `field`.
    pub(super) fn required(&self, name: &str, field: &'static str) -> Result<String, IamError> {
        self.string(name).ok_or_else(|| {
            let mut violations = Violations::default();
            violations.push(field, "Member must not be null");
            IamError::Validation(violations)
        })
    }

    /// An optional boolean: `true` or `false` in any case.
    pub(super) fn boolean(
        &self,
        name: &str,
        field: &'static str,
    ) -> Result<Option<bool>, IamError> {
        self.get(name)
            .map(|raw| match raw.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(invalid(field, "Member must be a boolean (true or false)")),
            })
            .transpose()
    }

    /// An optional integer.
    pub(super) fn integer(&self, name: &str, field: &'static str) -> Result<Option<i32>, IamError> {
        self.get(name)
            .map(|raw| {
                raw.trim()
                    .parse::<i32>()
                    .map_err(|_| invalid(field, "Member must be an integer"))
            })
            .transpose()
    }
}

fn invalid(field: &'static str, constraint: &str) -> IamError {
    let mut violations = Violations::default();
    violations.push(field, constraint);
    IamError::Validation(violations)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn plus_and_percent_20_both_decode_to_a_space() {
        let params = Params::parse(Some("A=x+y&B=x%20y&C=%C3%A9%2B"), None);
        assert_eq!(params.get("A"), Some("x y"));
        assert_eq!(params.get("B"), Some("x y"));
        assert_eq!(params.get("C"), Some("é+"));
    }

    #[test]
    fn the_body_adds_to_the_query_and_order_does_not_matter() {
        let params = Params::parse(
            Some("X-Amz-Date=1"),
            Some(b"Version=2010-05-08&UserName=Bob&Action=GetUser"),
        );
        assert_eq!(params.get("Action"), Some("GetUser"));
        assert_eq!(params.get("UserName"), Some("Bob"));
        assert_eq!(params.get("X-Amz-Date"), Some("1"));
        assert_eq!(params.get("Password"), None);
    }

    #[test]
    fn list_members_come_in_position_order_with_their_suffixes() {
        let params = Params::parse(
            Some(
                "Tags.member.10.Key=b&Tags.member.2.Key=a&Tags.member.2.Value=1&TagKeys.member.1=k&Tags.member.x.Key=z",
            ),
            None,
        );
        let tags = params.list_members("Tags");
        assert_eq!(
            tags.into_iter().collect::<Vec<_>>(),
            vec![
                (2, vec![("Key", "a"), ("Value", "1")]),
                (10, vec![("Key", "b")])
            ]
        );
        let keys = params.list_members("TagKeys");
        assert_eq!(
            keys.into_iter().collect::<Vec<_>>(),
            vec![(1, vec![("", "k")])]
        );
    }

    #[test]
    fn typed_values_are_checked() {
        let params = Params::parse(Some("T=TRUE&F=false&B=yes&N=12&M=x"), None);
        assert_eq!(params.boolean("T", "t").unwrap(), Some(true));
        assert_eq!(params.boolean("F", "f").unwrap(), Some(false));
        assert_eq!(params.boolean("Z", "z").unwrap(), None);
        assert!(params.boolean("B", "b").is_err());
        assert_eq!(params.integer("N", "n").unwrap(), Some(12));
        assert!(params.integer("M", "m").is_err());
        let missing = params.required("Password", "password").unwrap_err();
        assert_eq!(
            missing.to_string(),
            "1 validation error detected: Value at 'password' failed to satisfy constraint: \
             Member must not be null"
        );
    }

    /// botocore's encoding: `+` for a space, `%XX` for the rest.
    fn encode_botocore(pairs: &[(String, String)]) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }

    /// smithy-rs' encoding: `%20` for a space, everything but unreserved characters escaped.
    fn encode_smithy(pairs: &[(String, String)]) -> String {
        const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, SET).to_string();
        pairs
            .iter()
            .map(|(n, v)| format!("{}={}", enc(n), enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn distinct_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::btree_map("[A-Za-z][A-Za-z0-9]{0,12}", any::<String>(), 0..8)
            .prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #[test]
        fn both_sdk_encodings_decode_to_the_same_values_in_any_order(
            pairs in distinct_pairs(),
            rotate in 0usize..8,
            in_body in any::<bool>(),
        ) {
            let mut shuffled = pairs.clone();
            if !shuffled.is_empty() {
                let by = rotate % shuffled.len();
                shuffled.rotate_left(by);
            }
            for encoded in [encode_botocore(&shuffled), encode_smithy(&shuffled)] {
                let params = if in_body {
                    Params::parse(None, Some(encoded.as_bytes()))
                } else {
                    Params::parse(Some(&encoded), None)
                };
                for (name, value) in &pairs {
                    prop_assert_eq!(params.get(name), Some(value.as_str()));
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(query in any::<String>(), body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let params = Params::parse(Some(&query), Some(&body));
            let _ = params.boolean("PasswordResetRequired", "passwordResetRequired");
            let _ = params.integer("MaxItems", "maxItems");
            let _ = params.required("UserName", "userName");
        }
    }

    #[test]
    fn debug_never_shows_values() {
        let params = Params::parse(Some("Password=hunter2"), None);
        assert_eq!(format!("{params:?}"), "[\"Password\"]");
    }
}
