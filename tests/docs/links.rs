//! Every relative link in README.md and docs/ points at a file or directory of the repository,
//! and every `#anchor` at a heading of its document. No network: links with a scheme
//! (`https:`, `mailto:`) are left alone.

use std::{collections::BTreeMap, path::Path};

use regex::Regex;

use crate::markdown::{self, Doc, line_of, root};

/// `(line, target)` of each link of a document: inline `[text](target)` and `![alt](target)`
/// (text may wrap over lines), and reference definitions `[label]: target`. Code blocks and
/// inline code are not links.
pub fn links(text: &str) -> Vec<(usize, String)> {
    let (_, prose) = markdown::split(text);
    let prose = markdown::without_code_spans(&prose);
    let inline = Regex::new(r#"\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)"#).unwrap();
    let definition = Regex::new(r"(?m)^ {0,3}\[[^\]]+\]:\s*(\S+)").unwrap();
    let mut found: Vec<(usize, String)> = inline
        .captures_iter(&prose)
        .chain(definition.captures_iter(&prose))
        .map(|c| {
            let m = c.get(1).unwrap();
            (line_of(&prose, m.start()), m.as_str().to_owned())
        })
        .collect();
    found.sort();
    found
}

/// What is wrong with each relative link of the documents: a missing file, a missing anchor,
/// a target outside the repository.
pub fn problems(docs: &[Doc]) -> Vec<String> {
    let anchors: BTreeMap<&Path, _> = docs
        .iter()
        .map(|d| (d.path.as_path(), markdown::anchors(&d.text)))
        .collect();
    let scheme = Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:").unwrap();
    let root = root().canonicalize().unwrap();
    let mut problems = Vec::new();
    for doc in docs {
        let dir = doc.path.parent().unwrap_or(Path::new(""));
        for (line, target) in links(&doc.text) {
            let at = format!("{}:{line}: link {target:?}", doc.path.display());
            if scheme.is_match(&target) {
                continue;
            }
            if target.is_empty() {
                problems.push(format!("{at}: empty target"));
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let linked = if file.is_empty() {
                doc.path.clone()
            } else if let Some(absolute) = file.strip_prefix('/') {
                Path::new(absolute).to_path_buf()
            } else {
                dir.join(file)
            };
            let normal = normalize(&linked);
            if normal.starts_with("..") {
                problems.push(format!("{at}: points outside the repository"));
                continue;
            }
            match root.join(&linked).canonicalize() {
                _ if anchors.contains_key(normal.as_path()) => {}
                Err(_) => {
                    problems.push(format!("{at}: no file {}", linked.display()));
                    continue;
                }
                Ok(real) if !real.starts_with(&root) => {
                    problems.push(format!("{at}: points outside the repository"));
                    continue;
                }
                Ok(_) => {}
            }
            let Some(anchor) = anchor else { continue };
            match anchors.get(normal.as_path()) {
                Some(known) if known.contains(anchor) => {}
                Some(_) => problems.push(format!(
                    "{at}: {} has no heading with the anchor #{anchor}",
                    normal.display()
                )),
                None => problems.push(format!(
                    "{at}: an anchor into {}, which is not a checked Markdown document",
                    normal.display()
                )),
            }
        }
    }
    problems
}

/// `docs/../README.md` as `README.md`, without touching the disk.
fn normalize(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                if out.as_os_str().is_empty() || out.ends_with("..") {
                    out.push("..");
                } else {
                    out.pop();
                }
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let docs = markdown::docs();
    let checked: usize = docs.iter().map(|d| links(&d.text).len()).sum();
    assert!(
        checked >= 20,
        "only {checked} links found: is the extraction broken?"
    );
    let problems = problems(&docs);
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_link_check_notices_a_missing_file_and_a_missing_anchor() {
    let doc = |path: &str, text: &str| Doc {
        path: path.into(),
        text: text.to_owned(),
    };
    let docs = [
        doc(
            "docs/a.md",
            "# A title\n\nSee [b](b.md#missing), [gone](nothing.md),\n[c](#a-title) and [d](../README.md).\n\n```sh\n[not](a-link.md)\n```\n",
        ),
        doc("docs/b.md", "# B\n"),
    ];
    let problems = problems(&docs);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].contains("docs/a.md:3") && problems[0].contains("#missing"),
        "{problems:#?}"
    );
    assert!(
        problems[1].contains("no file docs/nothing.md"),
        "{problems:#?}"
    );
}
