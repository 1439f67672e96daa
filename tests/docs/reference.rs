//! The flag reference, generated from the clap definitions: docs/configuration-reference.md (a
//! table per subcommand) and docs/man/*.1 (man pages by `clap_mangen`). The test fails when the
//! checked-in files differ from what the definitions give, and says how to regenerate them.

use std::{collections::BTreeSet, fmt::Write as _, fs, path::PathBuf, process::Command as Process};

use clap::{Arg, ArgAction, Command, CommandFactory as _};
use loginprofiled::config::Cli;

use crate::markdown::root;

/// Set to 1 to write the generated files instead of comparing them.
const UPDATE: &str = "LOGINPROFILED_UPDATE_REFERENCE";
pub const REFERENCE: &str = "docs/configuration-reference.md";
const MAN_DIR: &str = "docs/man";

/// The binary's command tree, as `--help` and the parser see it.
pub fn cli() -> Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

/// Every command with flags of its own, depth first: `(["serve"], command)`, `(["token",
/// "new"], command)`; the root has none but --help and --version.
pub fn leaves(command: &Command) -> Vec<(Vec<String>, Command)> {
    fn walk(command: &Command, path: &[String], out: &mut Vec<(Vec<String>, Command)>) {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut path = path.to_vec();
            path.push(sub.get_name().to_owned());
            if sub.has_subcommands() {
                walk(sub, &path, out);
            } else {
                out.push((path, sub.clone()));
            }
        }
    }
    let mut out = Vec::new();
    walk(command, &[], &mut out);
    out
}

/// The flags a command documents (not clap's own --help and --version).
pub fn documented_args(command: &Command) -> impl Iterator<Item = &Arg> {
    command
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
}

fn help_text(arg: &Arg) -> String {
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    help.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Ends a text with a full stop (clap drops the one of a one-line help).
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() || text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn markdown(command: &Command) -> String {
    let mut out = String::new();
    let regenerate = format!("{UPDATE}=1 cargo test --test docs");
    writeln!(
        out,
        "# Configuration reference\n\n\
         <!-- Generated from the clap definitions (src/config.rs, src/config/) by \
         tests/docs/reference.rs: do not edit. Regenerate with `{regenerate}`. -->\n\n\
         Every flag of every subcommand, generated from the definitions `loginprofiled \
         SUBCOMMAND --help` prints, so it cannot drift from the binary. A flag with a variable \
         can be set by the variable instead; the flag wins when both are given. Durations are \
         written like `500ms`, `10s`, `15m`. The same text as man pages: [docs/man/](man/) \
         (`man -l docs/man/loginprofiled-serve.1`). What the flags are for, and how they work \
         together: [Configuration](configuration.md).\n"
    )
    .unwrap();
    for (path, _) in leaves(command) {
        let name = format!("loginprofiled {}", path.join(" "));
        let anchor = crate::markdown::slug(&name);
        writeln!(out, "- [`{name}`](#{anchor})").unwrap();
    }
    for (path, sub) in leaves(command) {
        let name = format!("loginprofiled {}", path.join(" "));
        writeln!(out, "\n## `{name}`\n").unwrap();
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        for paragraph in about.split("\n\n") {
            let words = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
            writeln!(out, "{}\n", sentence(&words)).unwrap();
        }
        writeln!(
            out,
            "| flag | variable | default | meaning |\n|---|---|---|---|"
        )
        .unwrap();
        for arg in documented_args(&sub) {
            let long = arg
                .get_long()
                .expect("every documented argument is a --flag");
            let takes_value = !matches!(
                arg.get_action(),
                ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count
            );
            let flag = match arg.get_value_names() {
                Some(names) if takes_value => format!("`--{long} <{}>`", names.join(" ")),
                _ => format!("`--{long}`"),
            };
            let variable = arg
                .get_env()
                .map(|e| format!("`{}`", e.to_string_lossy()))
                .unwrap_or_default();
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|d| format!("`{}`", d.to_string_lossy()))
                .collect();
            let default = if arg.is_required_set() {
                "required".to_owned()
            } else {
                defaults.join(", ")
            };
            let mut meaning = sentence(&help_text(arg));
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| format!("`{}`", v.get_name()))
                .collect();
            if takes_value && !values.is_empty() {
                write!(meaning, " One of {}.", values.join(", ")).unwrap();
            }
            if matches!(arg.get_action(), ArgAction::Append) {
                meaning.push_str(" May be given more than once.");
            }
            writeln!(
                out,
                "| {flag} | {variable} | {} | {} |",
                cell(&default),
                cell(&meaning)
            )
            .unwrap();
        }
    }
    out
}

/// The man pages: one per command, as `clap_mangen::generate_to` names them.
fn man_pages(command: &Command) -> Vec<(PathBuf, String)> {
    fn walk(command: &Command, out: &mut Vec<(PathBuf, String)>) {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out);
        }
        let man = clap_mangen::Man::new(command.clone());
        let mut page = Vec::new();
        man.render(&mut page)
            .expect("rendering into memory should not fail");
        out.push((
            PathBuf::from(MAN_DIR).join(man.get_filename()),
            String::from_utf8(page).expect("a man page is UTF-8"),
        ));
    }
    let mut out = Vec::new();
    walk(command, &mut out);
    out.sort();
    out
}

fn generated() -> Vec<(PathBuf, String)> {
    let command = cli();
    let mut files = man_pages(&command);
    files.push((PathBuf::from(REFERENCE), markdown(&command)));
    files
}

#[test]
fn the_checked_in_reference_is_what_the_clap_definitions_give() {
    let files = generated();
    if std::env::var(UPDATE).is_ok_and(|v| v == "1") {
        fs::create_dir_all(root().join(MAN_DIR)).unwrap();
        for entry in fs::read_dir(root().join(MAN_DIR)).unwrap() {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
        for (path, text) in &files {
            fs::write(root().join(path), text).unwrap();
        }
        return;
    }
    let mut stale: Vec<String> = files
        .iter()
        .filter(|(path, text)| fs::read_to_string(root().join(path)).ok().as_ref() != Some(text))
        .map(|(path, _)| path.display().to_string())
        .collect();
    let expected: BTreeSet<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    if let Ok(entries) = fs::read_dir(root().join(MAN_DIR)) {
        for entry in entries {
            let path = PathBuf::from(MAN_DIR).join(entry.unwrap().file_name());
            if !expected.contains(&path) {
                stale.push(format!("{} (no such command any more)", path.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the flag reference differs from the clap definitions: {}\n\
         regenerate it with `{UPDATE}=1 cargo test --test docs`, and commit the result",
        stale.join(", ")
    );
}

/// The flags one `--help` lists (the lines clap starts with `-x, --flag` or `--flag`).
fn help_flags(path: &[String]) -> BTreeSet<String> {
    let output = Process::new(env!("CARGO_BIN_EXE_loginprofiled"))
        .args(path)
        .arg("--help")
        .output()
        .expect("running loginprofiled --help");
    assert!(output.status.success(), "{path:?} --help failed");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = line
                .strip_prefix("-h, ")
                .or(line.strip_prefix("-V, "))
                .unwrap_or(line);
            let flag = line.strip_prefix("--")?;
            let end = flag
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(flag.len());
            Some(flag[..end].to_owned())
        })
        .filter(|flag| !matches!(flag.as_str(), "help" | "version"))
        .collect()
}

#[test]
fn the_reference_lists_exactly_the_flags_of_each_help() {
    let command = cli();
    for (path, sub) in leaves(&command) {
        let documented: BTreeSet<String> = documented_args(&sub)
            .filter_map(|a| a.get_long().map(str::to_owned))
            .collect();
        assert_eq!(
            help_flags(&path),
            documented,
            "loginprofiled {} --help",
            path.join(" ")
        );
    }
}
