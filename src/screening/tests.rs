use std::io::{Cursor, Write as _};

use super::*;

fn compile(text: &str) -> CompiledList {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    read_list(file.path()).unwrap()
}

#[test]
fn a_plain_list_matches_without_regard_to_case() {
    let list = compile("Tr0ub4dor&3\r\nCorrectHorse\n\nÉTÉ2024\n");
    assert_eq!(list.entries(), 3);
    assert!(list.contains("tr0ub4dor&3"));
    assert!(list.contains("CORRECTHORSE"));
    assert!(list.contains("été2024"));
    assert!(!list.contains("CorrectHorse1"));
}

#[test]
fn a_pwned_list_matches_the_exact_password() {
    // SHA-1("P@ssw0rd") and SHA-1("hunter2").
    let list = compile(
        "21BD12DC183F740EE76F27B78EB39C8AD972A757:52579\nf3bbbd66a63d4bf1747940578ec3d0103530e21d:3\n",
    );
    assert_eq!(list.kind(), KeyKind::Exact);
    assert!(list.contains("P@ssw0rd"));
    assert!(list.contains("hunter2"));
    assert!(!list.contains("p@ssw0rd"));
}

#[test]
fn a_damaged_compiled_list_is_refused() {
    let (out, _) = build_from("alpha\nbeta\n");
    let mut bytes = out.into_inner();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let error = CompiledList::parse(&bytes).unwrap_err();
    assert!(error.to_string().contains("damaged"), "{error}");
}

#[test]
fn a_spilled_build_finds_every_key_it_was_given() {
    let keys: Vec<u64> = (0..(build::SPILL_AT as u64 + 1000))
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .collect();
    let mut lines = String::new();
    for key in &keys {
        lines.push_str(&format!("{key:016X}{:024X}:{}\n", 0, 1));
    }
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(lines.as_bytes()).unwrap();
    let list = read_list(file.path()).unwrap();
    assert_eq!(list.entries(), keys.len() as u64);
    assert!(keys.iter().all(|k| list.contains_key(*k)));
}

#[test]
fn min_count_leaves_out_rare_pwned_lines() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"21BD12DC183F740EE76F27B78EB39C8AD972A757:52579\nf3bbbd66a63d4bf1747940578ec3d0103530e21d:3\n")
        .unwrap();
    let options = BuildOptions {
        min_count: 10,
        ..BuildOptions::default()
    };
    let (out, built) = build(&[file.path().to_owned()], Cursor::new(Vec::new()), &options).unwrap();
    assert_eq!((built.entries, built.below_min_count), (1, 1));
    let list = CompiledList::parse(out.get_ref()).unwrap();
    assert!(list.contains("P@ssw0rd"));
}

fn build_from(text: &str) -> (Cursor<Vec<u8>>, Built) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    build(
        &[file.path().to_owned()],
        Cursor::new(Vec::new()),
        &BuildOptions::default(),
    )
    .unwrap()
}

#[test]
fn the_builtin_list_is_the_one_the_script_makes() {
    use sha2::{Digest as _, Sha256};
    // scripts/build-blocklist.py prints both; regenerate the list and update them together.
    assert_eq!(builtin().entries(), 100_802);
    // 32-bit fingerprints: the built-in list adds next to nothing to an operator's list's rate.
    assert_eq!(builtin().width(), Width::Bits32);
    assert_eq!(
        hex::encode(Sha256::digest(BUILTIN_BYTES)),
        "e30f5e02d39cec3956cf462d7c46afdef7f09b81e256e7aa48ca736980dca22f"
    );
}

#[test]
fn the_builtin_list_holds_the_passwords_attackers_try_first() {
    for password in [
        "Password1",
        "Qwerty123",
        "Welcome1",
        "Passw0rd",
        "P@ssw0rd",
        "letmein",
    ] {
        assert!(builtin().contains(password), "{password}");
    }
    assert!(!builtin().contains("x7Gq-Vemo-Rupa-4"));
}

#[test]
fn screening_off_lists_nothing() {
    assert!(!Screening::off().listed("Password1"));
    assert!(Screening::builtin().listed("Password1"));
}

#[test]
fn a_changed_list_is_taken_at_the_second_look_and_a_bad_one_keeps_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.txt");
    std::fs::write(&path, "first-entry\n").unwrap();
    let list = watch::WatchedList::open(&path).unwrap();
    std::fs::write(&path, "second-entry\nthird-entry\n").unwrap();
    assert!(
        list.reload_if_changed().unwrap().is_none(),
        "one look is not enough"
    );
    assert_eq!(list.reload_if_changed().unwrap().unwrap().entries, 2);
    assert!(list.current().contains("Second-Entry"));

    let mut damaged = compiled::MAGIC.to_vec();
    damaged.resize(200, 7);
    std::fs::write(&path, damaged).unwrap();
    assert!(list.reload_if_changed().unwrap().is_none());
    assert!(list.reload_if_changed().is_err());
    assert!(
        list.current().contains("third-entry"),
        "the old list stays in use"
    );
    assert!(
        list.reload_if_changed().unwrap().is_none(),
        "a bad version is not retried"
    );
}
