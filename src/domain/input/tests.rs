use super::*;

#[test]
fn user_names_take_the_iam_alphabet_and_length() {
    assert!(UserName::parse("userName", "a.b-c_d+e=f,g@h").is_ok());
    assert!(UserName::parse("userName", &"a".repeat(64)).is_ok());
    assert!(UserName::parse("userName", &"a".repeat(65)).is_err());
    assert!(UserName::parse("userName", "").is_err());
    assert!(UserName::parse("userName", "with space").is_err());
    assert!(UserName::parse("userName", "caf\u{e9}").is_err());
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn is_name_char(c: char) -> bool {
        c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
    }

    /// Strings mostly near the rules' edges: the allowed alphabets, a few others, any length.
    fn near(alphabet: &'static str, max: usize) -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::string::string_regex(&format!("{alphabet}{{0,{max}}}")).unwrap(),
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn a_user_name_parses_exactly_when_iam_allows_it(raw in near("[A-Za-z0-9_+=,.@ é-]", 70)) {
            let allowed = (1..=64).contains(&raw.chars().count()) && raw.chars().all(is_name_char);
            let parsed = UserName::parse("userName", &raw);
            prop_assert_eq!(parsed.is_ok(), allowed);
            if let Ok(name) = parsed {
                prop_assert_eq!(name.as_str(), raw.as_str());
                prop_assert_eq!(name.key(), raw.to_ascii_lowercase());
            }
        }

        #[test]
        fn a_password_parses_exactly_when_iam_allows_it(raw in near("[\t\n\r -\u{FF}\u{100}\u{7}]", 140)) {
            let allowed = (1..=128).contains(&raw.chars().count())
                && raw.chars().all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}'));
            match Password::parse("password", raw.clone()) {
                Ok(password) => {
                    prop_assert!(allowed);
                    prop_assert_eq!(password.expose(), raw.as_str());
                    prop_assert_eq!(format!("{password:?}"), "Password(<redacted>)");
                }
                Err(violations) => {
                    prop_assert!(!allowed);
                    // Messages name constraints, never the value.
                    for v in violations.iter() {
                        prop_assert!(v.constraint.starts_with("Member must"));
                    }
                }
            }
        }

        #[test]
        fn a_path_parses_exactly_when_iam_allows_it(raw in near("[/a-z!~ \u{7F}]", 520)) {
            let allowed = raw.is_empty()
                || (raw.chars().count() <= 512
                    && raw.starts_with('/')
                    && raw.ends_with('/')
                    && raw.chars().all(|c| ('\u{21}'..='\u{7E}').contains(&c)));
            let parsed = UserPath::parse("path", &raw);
            prop_assert_eq!(parsed.is_ok(), allowed);
            if let Ok(path) = parsed {
                let expected = if raw.is_empty() { "/" } else { raw.as_str() };
                prop_assert_eq!(path.as_str(), expected);
            }
        }

        #[test]
        fn a_path_prefix_parses_when_allowed_and_an_empty_one_means_everyone(
            raw in near("[/a-z!~ \u{7F}\u{80}]", 520),
        ) {
            let allowed = raw.is_empty()
                || (raw.chars().count() <= 512
                    && raw.starts_with('/')
                    && raw.chars().all(|c| ('\u{21}'..='\u{7F}').contains(&c)));
            let parsed = PathPrefix::parse("pathPrefix", &raw);
            prop_assert_eq!(parsed.is_ok(), allowed);
            if let Ok(prefix) = parsed {
                let effective = if raw.is_empty() { "/" } else { raw.as_str() };
                prop_assert_eq!(prefix.as_str(), effective);
            }
        }
    }
}
