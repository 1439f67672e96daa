use super::*;

fn refusal(hash: &str) -> String {
    let error = ImportLoginProfile::parse("Ann", hash.to_owned(), false).unwrap_err();
    assert_eq!(error.code(), "ValidationError");
    error.to_string()
}

#[test]
fn a_hash_in_no_supported_format_is_a_validation_error_on_password_hash() {
    for hash in [
        "",
        "plain-text-password",
        "$argon2x$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
    ] {
        let message = refusal(hash);
        assert_eq!(
            message,
            "1 validation error detected: Value at 'passwordHash' failed to satisfy constraint: \
             Member must be a password hash in a supported format"
        );
    }
}

#[test]
fn a_hash_past_the_bounds_names_the_bounds_and_never_the_hash() {
    let hash = "$2b$31$9nj6uLlK/ZtrL1dkiDTpgehrki6FLPBXytmFLe2RuP2fWR3pA/uwK";
    let message = refusal(hash);
    assert_eq!(
        message,
        "1 validation error detected: Value at 'passwordHash' failed to satisfy constraint: \
         Member must be a password hash whose cost is within the supported bounds"
    );
}

#[test]
fn the_user_name_and_the_hash_are_checked_together() {
    let error = ImportLoginProfile::parse("", "nope".to_owned(), false).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("2 validation errors detected"),
        "{message}"
    );
    assert!(message.contains("'userName'") && message.contains("'passwordHash'"));
}

#[test]
fn debug_never_shows_the_hash() {
    let hash = crate::password::FORMATS[3].example;
    let request = ImportLoginProfile::parse("Ann", hash.to_owned(), true).unwrap();
    let shown = format!("{request:?}");
    assert!(!shown.contains(hash) && !shown.contains("$2b$"), "{shown}");
}
