//! The README stays a front page: short, its test command the one CI runs, and a table of
//! contents that reaches every chapter in one click.

use std::fs;

use crate::{
    links::links,
    markdown::{self, root},
    reference::REFERENCE,
};

/// About what fits on two screens: what it is, how to start, where to go next.
const README_MAX_LINES: usize = 250;

fn readme() -> String {
    fs::read_to_string(root().join("README.md")).unwrap()
}

#[test]
fn the_readme_is_short() {
    let lines = readme().lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, more than {README_MAX_LINES}: move the detail into a \
         chapter under docs/ and link to it"
    );
}

#[test]
fn the_readme_links_every_chapter() {
    let linked: Vec<String> = links(&readme())
        .into_iter()
        .map(|(_, target)| target)
        .collect();
    let missing: Vec<String> = markdown::docs()
        .into_iter()
        .map(|doc| doc.path.display().to_string())
        .filter(|path| path != "README.md")
        .filter(|path| {
            !linked
                .iter()
                .any(|t| t.split('#').next() == Some(path.as_str()))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "chapters the README's table of contents does not link: {missing:?}"
    );
}

#[test]
fn ci_runs_the_readmes_test_command() {
    let (blocks, _) = markdown::split(&readme());
    let tests: Vec<&String> = blocks
        .iter()
        .filter(|b| b.info == "sh")
        .flat_map(|b| &b.lines)
        .filter(|l| l.starts_with("cargo test"))
        .collect();
    assert_eq!(
        tests.len(),
        1,
        "the README should show one test command: {tests:?}"
    );
    let ci = fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == tests[0].trim()),
        ".ci/run does not run the README's test command `{}`",
        tests[0]
    );
}

#[test]
fn the_configuration_chapter_links_the_reference_rather_than_restating_it() {
    let chapter = fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    let reference = REFERENCE.trim_start_matches("docs/");
    assert!(
        links(&chapter)
            .iter()
            .any(|(_, t)| t.split('#').next() == Some(reference)),
        "docs/configuration.md should link {REFERENCE}"
    );
    // A table row per flag is the reference's job.
    let rows = chapter.lines().filter(|l| l.starts_with("| `--")).count();
    assert!(
        rows == 0,
        "docs/configuration.md restates {rows} flags in a table: link {REFERENCE}"
    );
}
