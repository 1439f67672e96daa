use super::*;

#[test]
fn the_default_policy_names_what_is_missing_in_iam_order() {
    assert_eq!(
        Rules::Default.violation("Ab1!"),
        Some("Password should have a minimum length of 8".to_owned())
    );
    assert_eq!(
        Rules::Default.violation("lowercase123"),
        Some(
            "Password should meet 1 more of the following requirements: Password should have at least one \
             uppercase letter, Password should have at least one symbol"
                .to_owned()
        )
    );
    assert_eq!(Rules::Default.violation("Lowercase123"), None);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn classes(password: &str) -> [bool; 4] {
        [
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| SYMBOLS.contains(c)),
        ]
    }

    fn password() -> impl Strategy<Value = String> {
        "[A-Za-z0-9!@#$%^&*()_+=\\[\\]{}|'~`\"<> .,;:?/é-]{0,24}"
    }

    fn policy() -> impl Strategy<Value = PasswordPolicy> {
        (0u32..30, any::<[bool; 4]>()).prop_map(|(minimum, [upper, lower, number, symbol])| {
            PasswordPolicy {
                minimum_password_length: minimum,
                require_symbols: symbol,
                require_numbers: number,
                require_uppercase_characters: upper,
                require_lowercase_characters: lower,
                allow_users_to_change_password: false,
                max_password_age: None,
                password_reuse_prevention: None,
                hard_expiry: None,
            }
        })
    }

    proptest! {
        #[test]
        fn the_default_policy_wants_8_characters_and_3_classes(password in password()) {
            let present = classes(&password).iter().filter(|c| **c).count();
            let passes = password.chars().count() >= 8 && present >= 3;
            let violation = Rules::Default.violation(&password);
            prop_assert_eq!(violation.is_none(), passes, "{:?}", violation);
            if password.chars().count() < 8 {
                prop_assert!(violation.unwrap().contains("minimum length of 8"));
            }
        }

        #[test]
        fn a_custom_policy_wants_its_length_and_each_required_class(
            password in password(),
            policy in policy(),
        ) {
            let [upper, lower, number, symbol] = classes(&password);
            let too_short = password.chars().count() < policy.minimum_password_length as usize;
            let passes = !too_short
                && (upper || !policy.require_uppercase_characters)
                && (lower || !policy.require_lowercase_characters)
                && (number || !policy.require_numbers)
                && (symbol || !policy.require_symbols);
            let minimum = policy.minimum_password_length;
            let violation = Rules::Custom(policy).violation(&password);
            prop_assert_eq!(violation.is_none(), passes, "{:?}", violation);
            if too_short {
                let expected = format!("minimum length of {minimum}");
                prop_assert!(violation.unwrap().contains(&expected));
            }
        }

        #[test]
        fn adding_characters_never_breaks_a_password_that_passed(
            password in password(),
            more in password(),
            policy in policy(),
        ) {
            for rules in [Rules::Default, Rules::Custom(policy)] {
                if rules.violation(&password).is_none() {
                    prop_assert_eq!(rules.violation(&format!("{password}{more}")), None);
                }
            }
        }
    }
}
