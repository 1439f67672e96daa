use secrecy::ExposeSecret as _;

use super::*;

/// The seed of RFC 6238's SHA-1 test vectors.
fn rfc_seed() -> Seed {
    Seed::from_bytes(b"12345678901234567890")
}

fn code(text: &str) -> Code {
    Code::parse(text).unwrap()
}

#[test]
fn codes_are_the_last_six_digits_of_the_rfc_6238_sha1_vectors() {
    // RFC 6238 Appendix B (8 digits there; a 6-digit code is the value mod 10^6).
    let vectors = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];
    let seed = rfc_seed();
    for (unix_seconds, eight_digits) in vectors {
        let step = step_at(unix_seconds * 1000);
        assert_eq!(
            code_at(&seed, step).as_str(),
            &eight_digits[2..],
            "T = {unix_seconds}"
        );
    }
}

#[test]
fn codes_agree_with_pyotp() {
    // (seed, its base32, step, code) computed by pyotp: TOTP(base32).at(step * 30).
    let vectors = [
        (
            "b9824640f9630da7644e99b4eddd2b837a478d5b",
            "XGBEMQHZMMG2OZCOTG2O3XJLQN5EPDK3",
            [
                (1, "559508"),
                (56_666_666, "475483"),
                (58_000_000, "338706"),
            ],
        ),
        (
            "6df7f3d14e655403849e3dedac46123635c55fb6",
            "NX37HUKOMVKAHBE6HXW2YRQSGY24KX5W",
            [
                (1, "069037"),
                (56_666_666, "843934"),
                (58_007_919, "879317"),
            ],
        ),
        (
            "6ce19db04e32233041eb355db2eca4ad43d9e9e7",
            "NTQZ3MCOGIRTAQPLGVO3F3FEVVB5T2PH",
            [
                (1, "908624"),
                (56_666_666, "101690"),
                (58_015_838, "378228"),
            ],
        ),
    ];
    for (seed_hex, base32, codes) in vectors {
        let bytes: [u8; 20] = hex::decode(seed_hex).unwrap().try_into().unwrap();
        let seed = Seed::from_bytes(&bytes);
        assert_eq!(seed.base32().expose_secret(), base32);
        for (step, expected) in codes {
            assert_eq!(
                code_at(&seed, step),
                code(expected),
                "{base32} at step {step}"
            );
        }
    }
}

#[test]
fn steps_are_floored_30_second_intervals_from_the_epoch() {
    assert_eq!(step_at(0), 0);
    assert_eq!(step_at(29_999), 0);
    assert_eq!(step_at(30_000), 1);
    assert_eq!(step_at(59_000), 1);
    assert_eq!(step_at(-1), -1);
    assert_eq!(step_at(1_700_000_000_000), 56_666_666);
}

#[test]
fn a_code_is_exactly_six_ascii_digits() {
    assert!(Code::parse("000000").is_some());
    assert!(Code::parse("123456").is_some());
    for bad in [
        "",
        "12345",
        "1234567",
        "12a456",
        "12345 ",
        " 12345",
        "+12345",
        "-12345",
        "123456\n",
        // Other scripts' digits: "1234" and ARABIC-INDIC DIGIT FIVE make six bytes.
        "1234\u{665}",
        "\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}",
        "１２３４５６",
    ] {
        assert!(Code::parse(bad).is_none(), "{bad:?} was accepted");
    }
}

#[test]
fn codes_debug_without_their_digits() {
    assert_eq!(format!("{:?}", code("287082")), "Code(..)");
}

#[test]
fn matching_step_accepts_exactly_the_steps_of_its_window() {
    let seed = rfc_seed();
    let now = 56_666_666;
    let window = || now - 1..=now + 1;
    for step in window() {
        assert_eq!(
            matching_step(&seed, &code_at(&seed, step), window()),
            Some(step)
        );
    }
    for outside in [now - 2, now + 2] {
        assert_eq!(
            matching_step(&seed, &code_at(&seed, outside), window()),
            None
        );
    }
}

#[test]
fn matching_step_answers_the_earliest_step_with_that_code() {
    // Found by search: the RFC seed gives steps 1 001 215 and 1 001 376 the same code.
    let seed = rfc_seed();
    let shared = code("631871");
    assert_eq!(code_at(&seed, 1_001_376), shared);
    assert_eq!(
        matching_step(&seed, &shared, 1_001_215..=1_001_376),
        Some(1_001_215)
    );
    assert_eq!(
        matching_step(&seed, &shared, 1_001_216..=1_001_376),
        Some(1_001_376)
    );
}

#[test]
fn matching_step_finds_nothing_in_an_empty_range_or_before_the_epoch() {
    let seed = rfc_seed();
    let at_zero = code_at(&seed, 0);
    #[allow(clippy::reversed_empty_ranges)]
    let empty = 5..=4;
    assert_eq!(matching_step(&seed, &at_zero, empty), None);
    assert_eq!(matching_step(&seed, &at_zero, -3..=0), Some(0));
    assert_eq!(matching_step(&seed, &at_zero, -3..=-1), None);
    // Not even the code of the step's absolute value.
    assert_eq!(matching_step(&seed, &code_at(&seed, 1), -1..=-1), None);
}

#[test]
fn consecutive_steps_finds_two_codes_in_order() {
    let seed = rfc_seed();
    let s = 56_666_666;
    let (first, second) = (code_at(&seed, s), code_at(&seed, s + 1));
    assert_eq!(
        consecutive_steps(&seed, &first, &second, s - 20..=s + 20),
        Some(s)
    );
    // The first code's step must be in the range; the second's may be one past its end.
    assert_eq!(
        consecutive_steps(&seed, &first, &second, s - 1..=s),
        Some(s)
    );
    assert_eq!(
        consecutive_steps(&seed, &first, &second, s + 1..=s + 20),
        None
    );
    assert_eq!(
        consecutive_steps(&seed, &first, &second, s - 20..=s - 1),
        None
    );
}

#[test]
fn consecutive_steps_refuses_codes_out_of_order_or_apart() {
    let seed = rfc_seed();
    let s = 56_666_666;
    let range = || s - 20..=s + 20;
    let (first, second, third) = (
        code_at(&seed, s),
        code_at(&seed, s + 1),
        code_at(&seed, s + 2),
    );
    assert_eq!(consecutive_steps(&seed, &second, &first, range()), None);
    assert_eq!(consecutive_steps(&seed, &first, &third, range()), None);
    assert_eq!(consecutive_steps(&seed, &first, &first, range()), None);
}

#[test]
fn consecutive_steps_starts_no_pair_before_the_epoch() {
    let seed = rfc_seed();
    let (first, second) = (code_at(&seed, 0), code_at(&seed, 1));
    assert_eq!(consecutive_steps(&seed, &first, &second, -5..=5), Some(0));
    assert_eq!(consecutive_steps(&seed, &first, &second, -5..=-1), None);
}
