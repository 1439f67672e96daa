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
