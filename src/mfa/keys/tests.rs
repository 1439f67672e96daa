use std::{
    os::unix::fs::PermissionsExt as _,
    sync::{Arc, Mutex},
};

use super::*;

const KEY_A: [u8; KEY_LEN] = [0xA1; KEY_LEN];
const KEY_B: [u8; KEY_LEN] = [0xB2; KEY_LEN];

fn device(device_key: &str) -> SeedBinding<'_> {
    SeedBinding {
        device_key,
        user_id: None,
    }
}

fn assigned<'a>(device_key: &'a str, user_id: &'a str) -> SeedBinding<'a> {
    SeedBinding {
        device_key,
        user_id: Some(user_id),
    }
}

fn line(key: &[u8; KEY_LEN]) -> String {
    STANDARD.encode(key)
}

fn parse_error(text: &str) -> String {
    format!("{:#}", Keyring::parse(text).unwrap_err())
}

#[test]
fn a_sealed_seed_opens_to_the_same_seed() {
    let keyring = Keyring::from_keys(vec![KEY_A]);
    let seed = Seed::generate();
    let binding = assigned("alice-phone", "AIDAEXAMPLE");

    let sealed = keyring.seal(&seed, &binding);

    assert_eq!(sealed.key_id, keyring.primary_id());
    assert_eq!(sealed.nonce.len(), 12);
    assert_eq!(sealed.ciphertext.len(), SEED_LEN + 16);
    assert_eq!(
        keyring.open(&sealed, &binding).unwrap().bytes(),
        seed.bytes()
    );
}

#[test]
fn each_sealing_takes_a_fresh_nonce() {
    let keyring = Keyring::from_keys(vec![KEY_A]);
    let seed = Seed::generate();
    let (one, two) = (
        keyring.seal(&seed, &device("d")),
        keyring.seal(&seed, &device("d")),
    );
    assert_ne!(one.nonce, two.nonce);
    assert_ne!(one.ciphertext, two.ciphertext);
}

#[test]
fn a_seed_moved_to_another_device_or_user_does_not_open() {
    let keyring = Keyring::from_keys(vec![KEY_A]);
    let sealed = keyring.seal(&Seed::generate(), &assigned("phone", "AIDA1"));
    let elsewhere = [
        assigned("tablet", "AIDA1"),
        assigned("phone", "AIDA2"),
        device("phone"),
        assigned("phone", ""),
    ];
    for binding in elsewhere {
        let error = keyring.open(&sealed, &binding).unwrap_err();
        assert!(
            matches!(error, OpenError::Damaged { ref key_id } if key_id == keyring.primary_id())
        );
    }
    // An unassigned seed does not open as assigned to a user with an empty id either.
    let unassigned = keyring.seal(&Seed::generate(), &device("phone"));
    assert!(keyring.open(&unassigned, &assigned("phone", "")).is_err());
}

#[test]
fn the_binding_is_not_a_concatenation_of_its_parts() {
    let keyring = Keyring::from_keys(vec![KEY_A]);
    let sealed = keyring.seal(&Seed::generate(), &assigned("ab", "c"));
    assert!(keyring.open(&sealed, &assigned("a", "bc")).is_err());
    // Were the parts not length-prefixed, these two would both read "a", 1, "b", 0.
    let sealed = keyring.seal(&Seed::generate(), &device("a\u{1}b"));
    assert!(keyring.open(&sealed, &assigned("a", "b\0")).is_err());
}

#[test]
fn an_altered_record_does_not_open_and_does_not_panic() {
    let keyring = Keyring::from_keys(vec![KEY_A]);
    let binding = device("phone");
    let sealed = keyring.seal(&Seed::generate(), &binding);
    let alterations: [fn(&mut SealedSeedRecord); 4] = [
        |s| s.ciphertext[0] ^= 1,
        |s| s.nonce[11] ^= 1,
        |s| s.nonce.truncate(8),
        |s| s.ciphertext.truncate(10),
    ];
    for alter in alterations {
        let mut altered = sealed.clone();
        alter(&mut altered);
        assert!(matches!(
            keyring.open(&altered, &binding),
            Err(OpenError::Damaged { .. })
        ));
    }
}

#[test]
fn a_seed_sealed_under_a_key_not_in_the_file_is_an_unknown_key() {
    let sealed = Keyring::from_keys(vec![KEY_A]).seal(&Seed::generate(), &device("phone"));
    let other = Keyring::from_keys(vec![KEY_B]);

    assert!(!other.knows(&sealed.key_id));
    let error = other.open(&sealed, &device("phone")).unwrap_err();
    assert!(matches!(error, OpenError::UnknownKey { ref key_id } if *key_id == sealed.key_id));
    assert_eq!(
        error.to_string(),
        format!(
            "sealed under key {}, which the key file does not hold",
            sealed.key_id
        )
    );
}

#[test]
fn after_rotation_old_seeds_open_and_new_seals_use_the_new_key() {
    let before = Keyring::from_keys(vec![KEY_A]);
    let after = Keyring::from_keys(vec![KEY_B, KEY_A]);
    let binding = device("phone");
    let seed = Seed::generate();
    let old = before.seal(&seed, &binding);

    let opened = after.open(&old, &binding).unwrap();
    let resealed = after.seal(&opened, &binding);

    assert_eq!(opened.bytes(), seed.bytes());
    assert_eq!(resealed.key_id, after.primary_id());
    assert_ne!(resealed.key_id, old.key_id);
    assert!(after.knows(&old.key_id) && after.knows(&resealed.key_id));
    assert!(before.open(&resealed, &binding).is_err());
}

#[test]
fn key_ids_are_a_fixed_fingerprint_that_shows_nothing_of_the_key() {
    // SHA-256("loginprofiled mfa key id\0" || key)[..8], computed with Python's hashlib.
    assert_eq!(key_id(&[0; KEY_LEN]), "36422ba3779d1410");
    let counting: [u8; KEY_LEN] = std::array::from_fn(|i| i as u8);
    assert_eq!(key_id(&counting), "1dc92fb525f04e8f");
    assert_ne!(key_id(&KEY_A), key_id(&KEY_B));
}

#[test]
fn debug_shows_key_ids_only() {
    let keyring = Keyring::from_keys(vec![KEY_A, KEY_B]);
    let shown = format!("{keyring:?}");
    assert_eq!(
        shown,
        format!(
            "Keyring {{ key_ids: [{:?}, {:?}] }}",
            key_id(&KEY_A),
            key_id(&KEY_B)
        )
    );
}

#[test]
fn the_key_file_skips_comments_blank_lines_and_surrounding_whitespace() {
    let text = format!(
        "# rotated 2025-01-01\n\n{}   \r\n  # the old key\n\t{}\n\n",
        line(&KEY_B),
        line(&KEY_A)
    );
    let keyring = Keyring::parse(&text).unwrap();
    assert_eq!(
        keyring.key_ids().collect::<Vec<_>>(),
        [key_id(&KEY_B), key_id(&KEY_A)]
    );
}

#[test]
fn a_line_that_is_not_base64_is_named_by_number_not_content() {
    let text = format!("# keys\n{}\nnot-base64!secretish\n", line(&KEY_A));
    let error = parse_error(&text);
    assert!(error.contains("line 3"), "{error}");
    assert!(
        !error.contains("secretish") && !error.contains("offset"),
        "{error}"
    );
}

#[test]
fn a_key_of_the_wrong_length_is_refused() {
    let error = parse_error(&format!("{}\n", STANDARD.encode([7u8; 16])));
    assert!(error.contains("line 1") && error.contains("16"), "{error}");
    assert!(!error.contains(&STANDARD.encode([7u8; 16])), "{error}");
}

#[test]
fn a_file_without_keys_is_refused() {
    for text in ["", "\n\n", "# only a comment\n"] {
        assert!(parse_error(text).contains("holds no key"));
    }
}

#[test]
fn a_key_given_twice_is_refused_naming_both_lines() {
    let text = format!("{}\n{}\n\n{}\n", line(&KEY_A), line(&KEY_B), line(&KEY_A));
    let error = parse_error(&text);
    assert!(
        error.contains("line 4") && error.contains("line 1"),
        "{error}"
    );
}

#[test]
fn a_generated_line_is_a_key_the_file_accepts() {
    let first = Keyring::generate_key_line();
    let second = Keyring::generate_key_line();
    assert_ne!(first, second);
    assert_eq!(first.len(), 44);
    let keyring = Keyring::parse(&format!("{first}\n{second}\n")).unwrap();
    assert_eq!(keyring.key_ids().count(), 2);
}

/// A log writer that keeps what it is given.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Loads a key file of `KEY_A` with this mode; answers the result and what was logged.
fn load_with_mode(mode: u32) -> (anyhow::Result<Keyring>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mfa.keys");
    std::fs::write(&path, format!("{}\n", line(&KEY_A))).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let loaded = tracing::subscriber::with_default(subscriber, || {
        let loaded = Keyring::load(&path);
        if let Ok(keyring) = &loaded {
            keyring.warn_if_exposed();
        }
        loaded
    });
    let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    (loaded, logged)
}

#[test]
fn a_key_file_open_to_others_loads_with_a_warning_naming_file_and_mode() {
    let (loaded, logged) = load_with_mode(0o644);
    assert_eq!(loaded.unwrap().primary_id(), key_id(&KEY_A));
    assert!(
        logged.contains("WARN") && logged.contains("mfa.keys"),
        "{logged}"
    );
    assert!(
        logged.contains("0644") && logged.contains("0600"),
        "{logged}"
    );
    assert!(!logged.contains(&line(&KEY_A)), "{logged}");
}

#[test]
fn a_private_key_file_loads_without_a_warning() {
    let (loaded, logged) = load_with_mode(0o600);
    assert!(loaded.is_ok());
    assert_eq!(logged, "");
}

#[test]
fn load_errors_name_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.keys");
    assert!(format!("{:#}", Keyring::load(&missing).unwrap_err()).contains("absent.keys"));

    let bad = dir.path().join("bad.keys");
    std::fs::write(&bad, "# header\nAAAA\n").unwrap();
    let error = format!("{:#}", Keyring::load(&bad).unwrap_err());
    assert!(
        error.contains("bad.keys") && error.contains("line 2"),
        "{error}"
    );
}
