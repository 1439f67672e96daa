//! Import files damaged or hostile, written by hand: every refusal names its line, and no
//! message repeats more than 64 characters of a value from the file.

use std::path::Path;

use super::{path_str, run};

const HEADER: &str = r#"{"type":"header","format":"loginprofiled-export","version":1}"#;

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
