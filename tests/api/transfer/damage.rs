//! Import files damaged or hostile, written by hand: every refusal names its line, and no
//! message repeats more than 64 characters of a value from the file.

use std::path::Path;

use super::{path_str, run};

const HEADER: &str = r#"{"type":"header","format":"loginprofiled-export","version":2}"#;

/// Runs `import` of `lines` into a new sled store under `dir`; its stderr (and asserts it failed).
fn refused_import(dir: &Path, lines: &[String]) -> String {
    let input = dir.join("input.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let target = dir.join("target");
    let output = run(
        &[
            "import",
            "--data-dir",
            path_str(&target),
            "--input",
            path_str(&input),
        ],
        None,
    );
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_ten_megabyte_value_in_an_import_file_is_echoed_at_most_64_characters() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(10 * 1024 * 1024);
    let user = |name: &str, extra: &str| {
        format!(
            r#"{{"type":"user","user_name":"{name}","user_id":"AIDAAAAAAAAAAAAAAAAAA","path":"/","create_date_ms":0{extra}}}"#
        )
    };
    let cases = [
        // A name far too long.
        user(&huge, ""),
        // A field nobody knows, with a 10 MB name.
        user("bob", &format!(r#","{huge}":1"#)),
        // A tag key far too long.
        user(
            "bob",
            &format!(r#","tags":[{{"key":"{huge}","value":""}}]"#),
        ),
    ];
    for line in cases {
        let stderr = refused_import(dir.path(), &[HEADER.to_owned(), line]);
        assert!(
            stderr.contains("line 2: "),
            "{}",
            &stderr[..stderr.len().min(300)]
        );
        assert!(
            !stderr.contains(&"x".repeat(65)),
            "more than 64 characters echoed: {} bytes on stderr",
            stderr.len()
        );
        assert!(stderr.len() < 1024, "{} bytes on stderr", stderr.len());
    }
}

#[test]
fn a_huge_flag_value_is_echoed_at_most_64_characters() {
    let huge = "9".repeat(100_000);
    for args in [
        vec!["serve", "--account-id", huge.as_str()],
        vec!["serve", "--listen", huge.as_str()],
        vec!["serve", "--database-statement-timeout", huge.as_str()],
    ] {
        let output = run(&args, None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{}",
            &stderr[..stderr.len().min(300)]
        );
        assert!(
            stderr.len() < 2048,
            "{args:.2?}: {} bytes on stderr",
            stderr.len()
        );
    }
}

/// An export of the filled store under `dir`: its lines.
async fn exported_lines(dir: &Path) -> Vec<String> {
    let server = crate::binary::Binary::start(dir, &[]).await;
    super::fill(&server).await;
    server.stop().await;
    let file = dir.join("users.jsonl");
    let exported = super::export_to(&dir.join("data"), &file);
    assert!(exported.status.success(), "{exported:?}");
    std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `lines` with one character of the first line of type `kind` holding `within` changed, just
/// after it.
fn flipped(lines: &[String], kind: &str, within: &str) -> Vec<String> {
    let mut lines = lines.to_vec();
    let kind = format!("\"type\":\"{kind}\"");
    let line = lines
        .iter_mut()
        .find(|l| l.contains(&kind) && l.contains(within))
        .unwrap();
    let at = line.find(within).unwrap() + within.len();
    let old = line.as_bytes()[at];
    // Another character of the same kind, so that the line still parses.
    let new = match old {
        b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => old + 1,
        _ => b'0',
    };
    line.replace_range(at..=at, std::str::from_utf8(&[new]).unwrap());
    lines
}

#[tokio::test]
async fn an_export_changed_by_one_byte_or_cut_short_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let lines = exported_lines(dir.path()).await;
    let end = lines.len();
    assert!(lines[end - 1].contains("\"sha256\":"), "{}", lines[end - 1]);
    let cases = [
        // A byte in a hash's salt (after "$m=...,t=...,p=...$"), a date, a name, a version.
        // A changed line that still parses is caught by the trailer's checksum, on the last
        // line; one that no longer matches another (a renamed user) on its own line.
        ("salt", flipped(&lines, "profile", ",p=1$"), None),
        (
            "date",
            flipped(&lines, "user", "\"create_date_ms\":1"),
            Some(end),
        ),
        ("name", flipped(&lines, "user", "\"user_name\":\"b"), None),
        (
            "version",
            flipped(&lines, "profile", "\"version\":"),
            Some(end),
        ),
        ("last line removed", lines[..end - 1].to_vec(), Some(end)),
    ];
    for (what, damaged, line) in cases {
        assert_ne!(damaged, lines, "{what}: nothing was changed");
        let stderr = refused_import(dir.path(), &damaged);
        let named = match line {
            Some(line) => stderr.contains(&format!("line {line}: ")),
            None => stderr.contains("line "),
        };
        assert!(named, "{what}: {stderr}");
        eprintln!("{what}: {}", stderr.trim());
        assert!(!dir.path().join("target").exists(), "{what}: {stderr}");
    }
}

#[tokio::test]
async fn an_export_without_a_checksum_is_imported_only_when_told_and_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let lines = exported_lines(dir.path()).await;
    // What an export of a version 1 binary looked like: no sha256 on its end line.
    let mut old = lines.clone();
    old[0] = old[0].replace("\"version\":2", "\"version\":1");
    let end = old.len() - 1;
    let cut = old[end].find(",\"sha256\"").unwrap();
    old[end] = format!("{}}}", &old[end][..cut]);

    let stderr = refused_import(dir.path(), &old);
    assert!(stderr.contains("line 1: "), "{stderr}");
    assert!(
        stderr.contains("--accept-export-without-checksum"),
        "{stderr}"
    );

    let input = dir.path().join("input.jsonl");
    let target = dir.path().join("target");
    let output = run(
        &[
            "import",
            "--data-dir",
            path_str(&target),
            "--input",
            path_str(&input),
            "--accept-export-without-checksum",
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("WARN"), "{stderr}");
    assert!(stderr.contains("cannot be detected"), "{stderr}");
}
