use super::*;

/// A well-formed argon2id hash with the given parameter string.
fn argon2id(params: &str) -> String {
    format!("$argon2id$v=19${params}$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
}

#[test]
fn hashes_within_the_bounds_are_accepted() {
    for params in [
        "m=8,t=1,p=1",
        "m=19456,t=2,p=1",
        "m=262144,t=16,p=16",
        "m=128,t=16,p=16",
    ] {
        assert_eq!(check(&argon2id(params)), Ok(()), "{params}");
    }
    // No version is version 0x13, as the argon2 crate reads it.
    let unversioned = "$argon2id$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    assert_eq!(check(unversioned), Ok(()));
}

#[test]
fn costs_past_a_bound_are_refused_before_any_work() {
    for params in [
        // The crash and the stall the bounds exist for.
        "m=4294967295,t=1,p=1",
        "m=65536,t=4294967295,p=1",
        "m=262145,t=1,p=1",
        "m=65536,t=17,p=1",
        "m=65536,t=1,p=17",
        // Below argon2's own least: the hash could never have been made.
        "m=1,t=0,p=0",
        "m=65536,t=0,p=1",
        "m=65536,t=1,p=0",
        "m=15,t=1,p=2",
    ] {
        assert_eq!(
            check(&argon2id(params)),
            Err(HashRefusal::OutOfBounds),
            "{params}"
        );
    }
}

#[test]
fn other_formats_and_malformed_hashes_are_unsupported() {
    for hash in [
        String::new(),
        "not a hash".to_owned(),
        "$argon2id$secret-looking-hash-value".to_owned(),
        // Not yet verified by this service.
        "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
        // A cost missing, misspelled or not a number.
        argon2id("m=64,t=1"),
        argon2id("m=64,t=1,p=x"),
        argon2id("m=64,t=1,p=1,q=1"),
        // No salt or no output; an unknown version.
        "$argon2id$v=19$m=64,t=1,p=1".to_owned(),
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ".to_owned(),
        "$argon2id$v=20$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
    ] {
        assert_eq!(check(&hash), Err(HashRefusal::Unsupported), "{hash}");
    }
}

#[test]
fn refusals_quote_nothing_of_the_hash() {
    for refusal in [HashRefusal::Unsupported, HashRefusal::OutOfBounds] {
        let message = refusal.to_string();
        assert!(
            !message.contains('$') && !message.contains('='),
            "{message}"
        );
    }
}
