use super::*;

/// A well-formed argon2id hash with the given parameter string.
fn argon2id(params: &str) -> String {
    format!("$argon2id$v=19${params}$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
}

#[test]
fn every_example_in_the_table_is_read_as_its_scheme() {
    for format in FORMATS {
        assert_eq!(
            check(format.example),
            Ok(format.scheme),
            "{}",
            format.example
        );
    }
    // Every scheme has a spelling in the table.
    for scheme in Scheme::ALL {
        assert!(FORMATS.iter().any(|f| f.scheme == scheme), "{scheme:?}");
    }
}

#[test]
fn the_identifier_the_store_counts_by_names_every_example_s_scheme() {
    for format in FORMATS {
        let identifier = crate::store::hash_identifier(format.example);
        assert_eq!(
            Scheme::from_identifier(identifier),
            Some(format.scheme),
            "{}",
            format.example
        );
    }
    assert_eq!(Scheme::from_identifier("sha1"), None);
}

#[test]
fn hashes_within_the_bounds_are_accepted() {
    for params in [
        "m=8,t=1,p=1",
        "m=19456,t=2,p=1",
        "m=262144,t=16,p=16",
        "m=128,t=16,p=16",
    ] {
        assert_eq!(check(&argon2id(params)), Ok(Scheme::Argon2id), "{params}");
    }
    // No version is version 0x13, as the argon2 crate reads it.
    let unversioned = "$argon2id$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    assert_eq!(check(unversioned), Ok(Scheme::Argon2id));
}

#[test]
fn costs_past_a_bound_are_refused_before_any_work() {
    let bcrypt =
        |cost: &str| format!("$2b${cost}$9nj6uLlK/ZtrL1dkiDTpgehrki6FLPBXytmFLe2RuP2fWR3pA/uwK");
    let hostile = [
        // The crash and the stall the bounds exist for.
        argon2id("m=4294967295,t=1,p=1"),
        argon2id("m=65536,t=4294967295,p=1"),
        argon2id("m=262145,t=1,p=1"),
        argon2id("m=65536,t=17,p=1"),
        argon2id("m=65536,t=1,p=17"),
        // Below argon2's own least: the hash could never have been made.
        argon2id("m=1,t=0,p=0"),
        argon2id("m=65536,t=0,p=1"),
        argon2id("m=65536,t=1,p=0"),
        argon2id("m=15,t=1,p=2"),
        "$argon2i$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
        bcrypt("15"),
        bcrypt("31"),
        bcrypt("03"),
        "pbkdf2_sha256$10000001$salt$Xw8uXO53VVIHNOtQEpf63c9+JbVmxAu29/EY70uapAk=".to_owned(),
        "pbkdf2_sha256$0$salt$Xw8uXO53VVIHNOtQEpf63c9+JbVmxAu29/EY70uapAk=".to_owned(),
        "pbkdf2_sha256$99999999999999999999999$salt$Xw8uXO53VVIHNOtQEpf63c9+JbVmxAu29/EY70uapAk="
            .to_owned(),
        "$pbkdf2-sha256$4294967295$OYewds7Zm9Nay1nrnROiVA$BN5cdodz1WBfqKkltTIFrRCSMxjJxjsYM4BO4aa/B0w"
            .to_owned(),
        // A 96-byte output: PBKDF2's time grows with the output's length.
        format!("$pbkdf2-sha256$i=1000,l=96$c2FsdA${}", "A".repeat(128)),
        "$scrypt$ln=18,r=8,p=1$BuB8jxHCOCckBKA0ZmxNyQ$AwD52NF36fMi59BunipJ8nfznCA+9JIsNpToIvSZr3o"
            .to_owned(),
        "$scrypt$ln=15,r=9,p=1$BuB8jxHCOCckBKA0ZmxNyQ$AwD52NF36fMi59BunipJ8nfznCA+9JIsNpToIvSZr3o"
            .to_owned(),
        "$scrypt$ln=15,r=8,p=11$BuB8jxHCOCckBKA0ZmxNyQ$AwD52NF36fMi59BunipJ8nfznCA+9JIsNpToIvSZr3o"
            .to_owned(),
        "$scrypt$ln=0,r=8,p=1$BuB8jxHCOCckBKA0ZmxNyQ$AwD52NF36fMi59BunipJ8nfznCA+9JIsNpToIvSZr3o"
            .to_owned(),
        "$6$rounds=10000001$BSI.MFiAuDUFAv9P$WPpYG7HGS6HSvYE1gsqLd8KqDlOhwkkwKn5cRoWX9fGB698.Xw3MEiBrp38FHvw1whcW./gcs/LzawTR9TX0s0".to_owned(),
        "$5$rounds=999$iha8O/ZL/s6tQ0Y.$OWuRwRzW6Yton0VHu.QWQofcjl9jonMmVRLFWtYMmv.".to_owned(),
    ];
    for hash in hostile {
        assert_eq!(check(&hash), Err(HashRefusal::OutOfBounds), "{hash}");
    }
}

#[test]
fn malformed_hashes_and_other_formats_are_unsupported() {
    for hash in [
        String::new(),
        "not a hash".to_owned(),
        "$argon2id$secret-looking-hash-value".to_owned(),
        "$argon2x$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
        // A cost missing, misspelled or not a number.
        argon2id("m=64,t=1"),
        argon2id("m=64,t=1,p=x"),
        argon2id("m=64,t=1,p=1,q=1"),
        // No salt or no output; an unknown version.
        "$argon2id$v=19$m=64,t=1,p=1".to_owned(),
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ".to_owned(),
        "$argon2id$v=20$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
        // bcrypt: a short hash, a variant not listed, a cost of one digit.
        "$2b$10$9nj6uLlK/ZtrL1dkiDTpgehrki6FLPBXytmFLe2RuP2fWR3pA/uw".to_owned(),
        "$2x$10$9nj6uLlK/ZtrL1dkiDTpgehrki6FLPBXytmFLe2RuP2fWR3pA/uwK".to_owned(),
        "$2b$9$9nj6uLlK/ZtrL1dkiDTpgehrki6FLPBXytmFLe2RuP2fWR3pA/uwKa".to_owned(),
        // PBKDF2: an unknown digest, a length that disagrees, bad base64, a field too many.
        "pbkdf2_sha512$1000$salt$Xw8uXO53VVIHNOtQEpf63c9+JbVmxAu29/EY70uapAk=".to_owned(),
        "$pbkdf2-sha256$i=1000,l=31$6L2Pht+SH6Y3TUmjluVjJg$KO133SqR80VknOIcgI88VAKKECBlEQh+2pbFP5AorKk".to_owned(),
        "$pbkdf2-sha256$1000$!!!!$BN5cdodz1WBfqKkltTIFrRCSMxjJxjsYM4BO4aa/B0w".to_owned(),
        "$pbkdf2-sha256$1000$c2FsdA$BN5cdodz1WBfqKkltTIFrRCSMxjJxjsYM4BO4aa/B0w$x".to_owned(),
        "$pbkdf2-sha256$i=1000$c2FsdA$BN5cdodz1WBfqKkltTIFrRCSMxjJxjsYM4BO4aa/B0w".to_owned(),
        // scrypt without its r; sha-crypt with a short hash or a long salt.
        "$scrypt$ln=15,p=1$BuB8jxHCOCckBKA0ZmxNyQ$AwD52NF36fMi59BunipJ8nfznCA+9JIsNpToIvSZr3o".to_owned(),
        "$6$saltsalt$CPgxBHZBXfhC6lX1yxpdEsbQfXmg3WXVj8AoVwyNFLfb5AtbfM8k6A8yehv1z6sgzoH".to_owned(),
        "$5$saltsaltsaltsaltX$LicSx2J5NQu/p2q0R/v.IMafSI1wieZYwXpDndHmf16".to_owned(),
        "$1$saltsaltX$GHuQvFtes0N59BuVUXEeC.".to_owned(),
        format!("$pbkdf2-sha256$1000${}$aGFzaA", "c2Fsd".repeat(200)),
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
