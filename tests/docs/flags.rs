//! No chapter mentions a flag the binary does not have: every `--flag` in README.md and docs/
//! is one that some `loginprofiled SUBCOMMAND --help` lists, or one of the other programs'
//! flags listed below; and in a command line that runs `loginprofiled SUBCOMMAND`, every flag
//! is one of that subcommand's.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;

use crate::{
    markdown::{self, Doc},
    reference::{cli, documented_args, leaves},
};

/// Flags of other programs that the docs show, with the program; anything else that looks like
/// a flag must be loginprofiled's.
const OTHER_PROGRAMS: &[(&str, &[&str])] = &[
    (
        "cargo",
        &[
            "release",
            "locked",
            "test",
            "bin",
            "bins",
            "check",
            "all-targets",
            "no-deps",
            "all",
            "workspace",
        ],
    ),
    (
        "the aws CLI",
        &[
            "endpoint-url",
            "profile",
            "ca-bundle",
            "no-sign-request",
            "query",
            "output",
            "user-name",
            "new-user-name",
            "path",
            "new-path",
            "password",
            "password-reset-required",
            "no-password-reset-required",
            "minimum-password-length",
            "tags",
            "virtual-mfa-device-name",
            "outfile",
            "bootstrap-method",
            "serial-number",
            "authentication-code1",
            "authentication-code2",
            "assignment-status",
        ],
    ),
    // docs/mfa.md makes TOTP codes with oathtool, as an authenticator app would.
    ("oathtool", &["totp", "base32", "window", "now"]),
    ("kubectl", &["from-file", "from-literal", "for", "timeout"]),
    ("docker", &["rm"]),
    (
        "loginprofiled-bench (docs/benchmark.md)",
        &[
            "big-users",
            "small-users",
            "no-flood",
            "no-imported",
            "mfa-users",
            "flood-only",
            "flood-calls",
            "flood-queue",
            "duration",
            "raw-seconds",
            "concurrency",
            "connections",
            "json",
            "output",
            "work-dir",
        ],
    ),
    ("screening-bench (docs/screening.md)", &["entries", "dir"]),
    // deploy/check.py's report on a manifest with a misspelt flag, pasted as an example.
    ("a deliberately misspelt flag", &["hash-concurency"]),
];

/// The flags of each leaf command (`serve`, `token new`, ...), by its words.
fn flags_by_command() -> BTreeMap<Vec<String>, BTreeSet<String>> {
    let command = cli();
    leaves(&command)
        .into_iter()
        .map(|(path, sub)| {
            let flags = documented_args(&sub)
                .filter_map(|a| a.get_long().map(str::to_owned))
                .chain(["help".to_owned()])
                .collect();
            (path, flags)
        })
        .collect()
}

/// The command lines of a document: `$ ` lines of any code block (a trailing `\` continues
/// one), every line of a `sh` block, and inline code that starts with `loginprofiled `.
pub fn command_lines(text: &str) -> Vec<(usize, String)> {
    let (blocks, prose) = markdown::split(text);
    let mut lines = Vec::new();
    for block in &blocks {
        let shell = matches!(block.info.as_str(), "sh" | "bash" | "shell");
        let mut i = 0;
        while i < block.lines.len() {
            let at = block.line + 1 + i;
            let line = block.lines[i].trim();
            let command = match line.strip_prefix("$ ") {
                Some(command) => command,
                None if shell && !line.is_empty() && !line.starts_with('#') => line,
                None => {
                    i += 1;
                    continue;
                }
            };
            let mut command = command.to_owned();
            while command.ends_with('\\') && i + 1 < block.lines.len() {
                i += 1;
                command.pop();
                command.push(' ');
                command.push_str(block.lines[i].trim());
            }
            lines.push((at, command));
            i += 1;
        }
    }
    for (line, span) in markdown::code_spans(&prose) {
        if span.starts_with("loginprofiled ") {
            lines.push((line, span));
        }
    }
    lines
}

/// What is wrong with the flags of the documents.
pub fn problems(docs: &[Doc]) -> Vec<String> {
    let by_command = flags_by_command();
    let ours: BTreeSet<&String> = by_command.values().flatten().collect();
    let others: BTreeMap<&str, &str> = OTHER_PROGRAMS
        .iter()
        .flat_map(|(program, flags)| flags.iter().map(move |f| (*f, *program)))
        .collect();
    let mention =
        Regex::new(r"(?:^|[^A-Za-z0-9_-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)(-\*)?").unwrap();
    let mut problems = Vec::new();
    for doc in docs {
        for (n, line) in doc.text.lines().enumerate() {
            for found in mention.captures_iter(line) {
                let flag = &found[1];
                let known = if found.get(2).is_some() {
                    // `--database-*`: a family of flags.
                    ours.iter().any(|f| f.starts_with(&format!("{flag}-")))
                } else {
                    ours.contains(&flag.to_owned()) || others.contains_key(flag)
                };
                if !known {
                    problems.push(format!(
                        "{}:{}: --{flag} is not a flag of any `loginprofiled SUBCOMMAND --help`, \
                         nor one of the other programs' flags in tests/docs/flags.rs",
                        doc.path.display(),
                        n + 1
                    ));
                }
            }
        }
        for (line, command) in command_lines(&doc.text) {
            for (path, flags) in commands_run(&command, &by_command) {
                for flag in flags {
                    if !by_command[&path].contains(&flag) {
                        problems.push(format!(
                            "{}:{line}: `loginprofiled {}` has no flag --{flag}: {command}",
                            doc.path.display(),
                            path.join(" ")
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// Each `loginprofiled SUBCOMMAND` a shell command line runs, with the flags given to it.
fn commands_run(
    command: &str,
    by_command: &BTreeMap<Vec<String>, BTreeSet<String>>,
) -> Vec<(Vec<String>, Vec<String>)> {
    let separators = Regex::new(r"\|\||&&|[|;&()]").unwrap();
    let mut runs = Vec::new();
    for segment in separators.split(command) {
        let mut words = segment
            .split_whitespace()
            .skip_while(|w| w.contains('=') && !w.starts_with('-'));
        let Some(program) = words.next() else {
            continue;
        };
        if program.rsplit('/').next() != Some("loginprofiled") {
            continue;
        }
        let words: Vec<&str> = words.collect();
        let Some(path) = by_command
            .keys()
            .filter(|path| {
                path.iter().zip(&words).all(|(p, w)| p == w) && path.len() <= words.len()
            })
            .max_by_key(|path| path.len())
        else {
            continue;
        };
        let flags = words[path.len()..]
            .iter()
            .filter_map(|w| w.strip_prefix("--"))
            .map(|w| w.split('=').next().unwrap_or(w).to_owned())
            .collect();
        runs.push((path.clone(), flags));
    }
    runs
}

#[test]
fn every_flag_the_docs_mention_exists() {
    let docs = markdown::docs();
    let problems = problems(&docs);
    assert!(
        problems.is_empty(),
        "flags the binary does not have:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_flag_check_notices_a_made_up_flag_and_a_flag_of_another_subcommand() {
    let docs = [Doc {
        path: "docs/x.md".into(),
        text: "Set `--lockout-thresold 5`.\n\n```console\n$ loginprofiled check --data-dir d \\\n    --output x.jsonl\n```\n\nor `loginprofiled migrate --data-dir d`, \
               `--database-*`, `--endpoint-url`.\n"
            .to_owned(),
    }];
    let problems = problems(&docs);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].contains("docs/x.md:1: --lockout-thresold"),
        "{problems:#?}"
    );
    assert!(
        problems[1].contains("docs/x.md:4: `loginprofiled check` has no flag --output"),
        "{problems:#?}"
    );
    assert!(
        problems[2].contains("`loginprofiled migrate` has no flag --data-dir"),
        "{problems:#?}"
    );
}
