//! The table of imported-hash formats in docs/importing-hashes.md is rendered from the one list
//! in the code (`loginprofiled::password::FORMATS`): the test fails when they differ, and
//! `LOGINPROFILED_UPDATE_REFERENCE=1 cargo test --test docs` writes the table afresh.

use std::fs;

use crate::markdown::root;

const CHAPTER: &str = "docs/importing-hashes.md";
const START: &str = "<!-- formats table: generated from src/password/stored/formats.rs -->\n";
const END: &str = "<!-- end of the formats table -->";

#[test]
fn the_formats_table_is_the_one_the_code_gives() {
    let path = root().join(CHAPTER);
    let text = fs::read_to_string(&path).unwrap();
    let start = text
        .find(START)
        .expect("the chapter marks the table's start")
        + START.len();
    let end = start
        + text[start..]
            .find(END)
            .expect("the chapter marks the table's end");
    let generated = loginprofiled::password::markdown_table();
    if std::env::var("LOGINPROFILED_UPDATE_REFERENCE").is_ok_and(|v| v == "1") {
        fs::write(
            &path,
            format!("{}{generated}{}", &text[..start], &text[end..]),
        )
        .unwrap();
        return;
    }
    assert!(
        text[start..end] == generated,
        "{CHAPTER}'s table differs from password::FORMATS; regenerate it with \
         LOGINPROFILED_UPDATE_REFERENCE=1 cargo test --test docs"
    );
}
