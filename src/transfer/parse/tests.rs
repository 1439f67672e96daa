use super::*;

const HASH: &str = "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn header() -> String {
    r#"{"type":"header","format":"loginprofiled-export","version":1}"#.to_owned()
}

fn user(name: &str, id: &str) -> String {
    format!(
        r#"{{"type":"user","user_name":"{name}","user_id":"{id}","path":"/","create_date_ms":5,"tags":[{{"key":"k","value":"v"}}]}}"#
    )
}

fn profile(name: &str, hash: &str) -> String {
    format!(
        r#"{{"type":"profile","user_name":"{name}","password_hash":"{hash}","previous_hashes":["{HASH}"],"password_reset_required":true,"create_date_ms":6,"password_set_ms":7,"version":3}}"#
    )
}

fn end(users: u64, profiles: u64, policy: bool) -> String {
    format!(r#"{{"type":"end","users":{users},"profiles":{profiles},"policy":{policy}}}"#)
}

const POLICY: &str = r#"{"type":"policy","minimum_password_length":12,"require_symbols":true,"require_numbers":false,"require_uppercase_characters":false,"require_lowercase_characters":false,"allow_users_to_change_password":true,"max_password_age":90}"#;

/// Parses a version 1 export (no checksum), as `--accept-export-without-checksum` does.
fn parse_lines(lines: &[String]) -> anyhow::Result<Snapshot> {
    parse(lines.join("\n").as_bytes(), Trailer::MayLackChecksum).map(|c| c.snapshot)
}

fn error(lines: &[String]) -> String {
    format!("{:#}", parse_lines(lines).unwrap_err())
}

fn valid() -> Vec<String> {
    vec![
        header(),
        user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
        profile("Ann", HASH),
        user("bob", "AIDAAAAAAAAAAAAAAAAA2"),
        POLICY.to_owned(),
        end(2, 1, true),
    ]
}

#[test]
fn a_whole_file_reads_into_a_snapshot() {
    let snapshot = parse_lines(&valid()).unwrap();
    assert_eq!(snapshot.users.len(), 2);
    let ann = &snapshot.users[0];
    assert_eq!(
        (ann.key.as_str(), ann.user.user_name.as_str()),
        ("ann", "Ann")
    );
    let profile = ann.profile.as_ref().unwrap();
    assert_eq!(profile.password_hash, HASH);
    assert_eq!(profile.previous_hashes, [HASH]);
    assert_eq!(
        (profile.version, profile.password_reset_required),
        (3, true)
    );
    assert_eq!(snapshot.users[1].profile, None);
    assert_eq!(snapshot.policy.unwrap().max_password_age, Some(90));
}

#[test]
fn a_truncated_file_is_refused_with_the_line_it_lacks() {
    let mut lines = valid();
    lines.pop();
    assert!(error(&lines).starts_with("line 6: the input ends without its \"end\" line"));
    // Cut inside a line: that line is not JSON.
    let mut lines = valid();
    let last = lines.pop().unwrap();
    lines.push(last[..10].to_owned());
    assert!(
        error(&lines).starts_with("line 6: not JSON"),
        "{}",
        error(&lines)
    );
}

#[test]
fn counts_that_disagree_with_the_end_line_are_refused() {
    let mut lines = valid();
    lines.remove(3);
    assert!(error(&lines).starts_with("line 5: the \"end\" line counts 2 users"));
}

#[test]
fn every_misplaced_or_doubled_line_is_refused_with_its_number() {
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![user("Ann", "AIDAAAAAAAAAAAAAAAAA1")],
            "line 1: the first line must be the header",
        ),
        (
            vec![header(), profile("Ann", HASH)],
            "line 2: login profile of \"Ann\": no user line",
        ),
        (
            vec![
                header(),
                user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
                user("ANN", "AIDAAAAAAAAAAAAAAAAA2"),
            ],
            "line 3: user \"ANN\": an earlier user has this name",
        ),
        (
            vec![
                header(),
                user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
                user("Bob", "AIDAAAAAAAAAAAAAAAAA1"),
            ],
            "line 3: user \"Bob\": its user_id belongs to an earlier user",
        ),
        (
            vec![
                header(),
                user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
                profile("Ann", HASH),
                profile("Ann", HASH),
            ],
            "line 4: login profile of \"Ann\": the user has a login profile",
        ),
        (
            vec![header(), user("Ann", "AIDA1")],
            "line 2: user \"Ann\": user_id",
        ),
        (
            vec![header(), user("A n", "AIDAAAAAAAAAAAAAAAAA1")],
            "line 2: user \"A n\"",
        ),
        (
            vec![header(), POLICY.to_owned(), POLICY.to_owned()],
            "line 3: a second policy line",
        ),
        (
            vec![header(), end(0, 0, false), end(0, 0, false)],
            "line 3: a line after the \"end\"",
        ),
        (vec![header(), header()], "line 2: a second header"),
        (
            vec![header(), r#"{"type":"lockout"}"#.to_owned()],
            "line 2: an unknown line type",
        ),
        (
            vec![header(), "[1]".to_owned()],
            "line 2: not a JSON object",
        ),
        (
            vec![r#"{"type":"header","format":"x","version":1}"#.to_owned()],
            "line 1: the format",
        ),
        (
            vec![r#"{"type":"header","format":"loginprofiled-export","version":3}"#.to_owned()],
            "line 1: format version 3",
        ),
    ];
    for (lines, expected) in cases {
        let got = error(&lines);
        assert!(
            got.starts_with(expected),
            "{got:?} should start with {expected:?}"
        );
    }
    assert!(error(&[]).contains("empty"));
}

#[test]
fn no_error_quotes_a_hash() {
    let not_phc = "$argon2id$secret-looking-hash-value";
    let cases = [
        vec![
            header(),
            user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
            profile("Ann", not_phc),
        ],
        // A hash where a number belongs: the parser's own message would quote it.
        vec![
            header(),
            user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
            profile("Ann", HASH).replace("\"version\":3", &format!("\"version\":\"{HASH}\"")),
        ],
        vec![
            header(),
            format!(r#"{{"type":"user","user_name":"{HASH}"}}"#),
        ],
    ];
    for lines in cases {
        let got = error(&lines);
        assert!(
            got.starts_with("line 3") || got.starts_with("line 2"),
            "{got}"
        );
        assert!(
            !got.contains("secret-looking") && !got.contains("c2FsdHNhbHQ"),
            "{got}"
        );
    }
}

#[test]
fn a_hash_past_the_cost_bounds_is_refused_with_its_line() {
    let hostile = [
        "m=4294967295,t=1,p=1",
        "m=19456,t=4294967295,p=1",
        "m=1,t=0,p=0",
    ];
    for params in hostile {
        let hash = format!("$argon2id$v=19${params}$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA");
        let current = vec![
            header(),
            user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
            profile("Ann", &hash),
        ];
        let got = error(&current);
        assert!(
            got.starts_with("line 3")
                && got.contains("password_hash is a password hash whose cost is outside"),
            "{got}"
        );
        let previous = vec![
            header(),
            user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
            profile("Ann", HASH).replace(&format!("[\"{HASH}\"]"), &format!("[\"{hash}\"]")),
        ];
        let got = error(&previous);
        assert!(
            got.starts_with("line 3") && got.contains("an entry of previous_hashes is a password"),
            "{got}"
        );
        assert!(!got.contains(params), "{got}");
    }
    // Formats this service does not verify are refused too, not imported to fail every sign-in.
    let ssha = "{SSHA}c2FsdHNhbHRoYXNoaGFzaA==";
    let got = error(&[
        header(),
        user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
        profile("Ann", ssha),
    ]);
    assert!(
        got.contains("not a password hash in a supported format"),
        "{got}"
    );
}

/// `lines` as a version 2 export: the header says 2 and the end line carries the SHA-256 of
/// every line before it.
fn signed(lines: &[String]) -> Vec<String> {
    let mut lines = lines.to_vec();
    lines[0] = lines[0].replace("\"version\":1", "\"version\":2");
    let (end, before) = lines.split_last_mut().unwrap();
    let mut digest = Sha256::new();
    for line in before.iter() {
        digest.update(line.as_bytes());
        digest.update(b"\n");
    }
    let sha256 = hex::encode(digest.finalize());
    *end = format!("{},\"sha256\":\"{sha256}\"}}", end.trim_end_matches('}'));
    lines
}

fn checked(lines: &[String]) -> anyhow::Result<Checked> {
    parse(lines.join("\n").as_bytes(), Trailer::Checked)
}

#[test]
fn a_checksum_that_agrees_is_accepted_and_one_changed_byte_is_refused() {
    let good = signed(&valid());
    assert!(checked(&good).unwrap().checksum_verified);
    let mut changed = good.clone();
    changed[1] = changed[1].replace("\"create_date_ms\":5", "\"create_date_ms\":6");
    let error = format!("{:#}", checked(&changed).unwrap_err());
    assert!(error.starts_with("line 6: the SHA-256"), "{error}");
}

#[test]
fn a_version_1_export_is_refused_unless_accepted_and_a_version_2_one_needs_its_checksum() {
    let error = format!("{:#}", checked(&valid()).unwrap_err());
    assert!(
        error.contains("--accept-export-without-checksum"),
        "{error}"
    );
    let accepted = parse(valid().join("\n").as_bytes(), Trailer::MayLackChecksum).unwrap();
    assert!(!accepted.checksum_verified);
    // A version 2 file whose checksum was taken off is refused even so.
    let mut stripped = valid();
    stripped[0] = stripped[0].replace("\"version\":1", "\"version\":2");
    let error = format!(
        "{:#}",
        parse(stripped.join("\n").as_bytes(), Trailer::MayLackChecksum).unwrap_err()
    );
    assert!(error.contains("carries no sha256"), "{error}");
}

mod devices;
