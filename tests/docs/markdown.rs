//! Just enough Markdown for the checks: the documents, their fenced code blocks, the text
//! outside them, and the anchors GitHub-style forges give headings.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

/// The repository's root (where Cargo.toml is).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One Markdown document, its path relative to the root.
#[derive(Debug)]
pub struct Doc {
    pub path: PathBuf,
    pub text: String,
}

/// README.md and every `.md` file under docs/, in a stable order.
pub fn docs() -> Vec<Doc> {
    let mut paths = vec![PathBuf::from("README.md")];
    let mut dirs = vec![PathBuf::from("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(root().join(&dir)).expect("docs/ should be readable") {
            let path = dir.join(entry.expect("a docs/ entry should be readable").file_name());
            if root().join(&path).is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(root().join(&path))
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            Doc { path, text }
        })
        .collect()
}

/// A fenced code block: its info string, the line of its opening fence (1-based) and its lines.
#[derive(Debug)]
pub struct Block {
    pub info: String,
    pub line: usize,
    pub lines: Vec<String>,
}

/// Splits a document into its fenced code blocks and its prose, where each line inside a block
/// (fences included) is blanked, so that offsets and line numbers still match the file.
pub fn split(text: &str) -> (Vec<Block>, String) {
    let mut blocks = Vec::new();
    let mut prose = String::with_capacity(text.len());
    let mut open: Option<(String, Block)> = None;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        let fence: String = trimmed
            .chars()
            .take_while(|c| *c == '`' || *c == '~')
            .collect();
        let is_fence =
            fence.len() >= 3 && fence.chars().all(|c| c == fence.chars().next().unwrap());
        match &mut open {
            Some((opening, block)) => {
                if is_fence
                    && fence.starts_with(opening.as_str())
                    && trimmed[fence.len()..].trim().is_empty()
                {
                    blocks.push(std::mem::replace(
                        block,
                        Block {
                            info: String::new(),
                            line: 0,
                            lines: vec![],
                        },
                    ));
                    open = None;
                } else {
                    // Blocks indented in a list item keep their indentation out.
                    block.lines.push(line.trim_end_matches('\n').to_owned());
                }
                prose.push_str(&blank(line));
            }
            None if is_fence => {
                let info = trimmed[fence.len()..].trim().to_owned();
                open = Some((
                    fence,
                    Block {
                        info,
                        line: n + 1,
                        lines: vec![],
                    },
                ));
                prose.push_str(&blank(line));
            }
            None => prose.push_str(line),
        }
    }
    (blocks, prose)
}

fn blank(line: &str) -> String {
    if line.ends_with('\n') {
        "\n".to_owned()
    } else {
        String::new()
    }
}

/// The text with each inline code span replaced by spaces of its length.
pub fn without_code_spans(prose: &str) -> String {
    let mut out = String::with_capacity(prose.len());
    let mut rest = prose;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let after = &rest[start + ticks..];
        match after.find(&"`".repeat(ticks)) {
            Some(end) => {
                let span = &rest[start..start + ticks + end + ticks];
                out.extend(span.chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
                rest = &after[end + ticks..];
            }
            None => {
                out.push_str(&rest[start..start + ticks]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The inline code spans of the prose (single-backtick ones), each with its line.
pub fn code_spans(prose: &str) -> Vec<(usize, String)> {
    let mut spans = Vec::new();
    for (n, line) in prose.lines().enumerate() {
        let mut parts = line.split('`');
        parts.next();
        while let (Some(code), Some(_)) = (parts.next(), parts.next()) {
            spans.push((n + 1, code.to_owned()));
        }
    }
    spans
}

/// The anchors of a document's headings as GitHub renders them: the text in lower case,
/// punctuation dropped, spaces as hyphens, and `-1`, `-2` for repeats. Explicit
/// `<a id="...">` / `<a name="...">` anchors count too.
pub fn anchors(text: &str) -> BTreeSet<String> {
    let (_, prose) = split(text);
    let mut seen = BTreeSet::new();
    for line in prose.lines() {
        let trimmed = line.trim_start();
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            let base = slug(trimmed[hashes..].trim().trim_end_matches('#').trim());
            let mut anchor = base.clone();
            let mut n = 0;
            while seen.contains(&anchor) {
                n += 1;
                anchor = format!("{base}-{n}");
            }
            seen.insert(anchor);
        }
        for attr in ["id=\"", "name=\""] {
            let mut rest = line;
            while let Some(at) = rest.find(&format!("<a {attr}")) {
                let value = &rest[at + 3 + attr.len()..];
                if let Some(end) = value.find('"') {
                    seen.insert(value[..end].to_owned());
                }
                rest = &rest[at + 3..];
            }
        }
    }
    seen
}

/// GitHub's heading slug: lower case; letters, digits, `-` and `_` kept; spaces to `-`.
pub fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

#[test]
fn slugs_are_the_ones_github_renders() {
    assert_eq!(
        slug("The embedded store: what it guarantees, backups and `check`"),
        "the-embedded-store-what-it-guarantees-backups-and-check"
    );
    assert_eq!(
        slug("The IAM Query API: the aws CLI, boto3 and the AWS SDKs"),
        "the-iam-query-api-the-aws-cli-boto3-and-the-aws-sdks"
    );
    assert_eq!(slug("`loginprofiled token new`"), "loginprofiled-token-new");
}

#[test]
fn code_blocks_are_told_from_prose() {
    let (blocks, prose) = split("a\n```console\n$ x\n```\nb `c` [d](e)\n");
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].info, "console");
    assert_eq!(blocks[0].line, 2);
    assert_eq!(blocks[0].lines, ["$ x"]);
    assert_eq!(prose, "a\n\n\n\nb `c` [d](e)\n");
    assert_eq!(without_code_spans("b `c` d"), "b     d");
    assert_eq!(
        code_spans("b `c` d `e f`"),
        [(1, "c".to_owned()), (1, "e f".to_owned())]
    );
}
