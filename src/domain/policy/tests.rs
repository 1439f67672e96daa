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
