//! `loginprofiled blocklist build` and `blocklist check`: the work behind the subcommands.

use std::{io::BufRead as _, os::unix::fs::PermissionsExt as _, path::Path, time::Instant};

use anyhow::Context as _;

use super::{BuildOptions, Built, Width, build, builtin, read_list};
use crate::config::{BuildArgs, CheckListArgs};

/// Compiles the inputs into a file beside the output, then moves it into place, so a server
/// watching the output never reads half of it. Returns the summary line.
pub fn build_file(args: &BuildArgs) -> anyhow::Result<String> {
    let started = Instant::now();
    let dir = args
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let partial = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    let options = BuildOptions {
        min_count: args.min_count,
        progress: true,
        width: Width::from_bits(args.fingerprint_bits).context("--fingerprint-bits is 16 or 32")?,
    };
    let (out, built) = build(&args.inputs, std::io::BufWriter::new(partial), &options)?;
    let partial = out.into_inner().map_err(|e| e.into_error())?;
    // A list is no secret (fingerprints of published passwords); readable like any data file.
    std::fs::set_permissions(partial.path(), std::fs::Permissions::from_mode(0o644))?;
    partial.as_file().sync_all()?;
    partial
        .persist(&args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let Built {
        lines,
        entries,
        below_min_count,
    } = built;
    let seconds = started.elapsed().as_secs_f64();
    Ok(format!(
        "{entries} distinct entries from {lines} lines ({below_min_count} below --min-count) in {seconds:.1} s, {:.0} lines/s, written to {}",
        lines as f64 / seconds.max(1e-9),
        args.output.display()
    ))
}

/// Reads one password (the first line of standard input, without its line end) and names the
/// lists that hold it; Ok(false) when none does.
pub fn check(args: &CheckListArgs) -> anyhow::Result<(bool, String)> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    let mut holders = Vec::new();
    if builtin().contains(password) {
        holders.push("the built-in list".to_owned());
    }
    for path in &args.password_blocklist {
        let list = read_list(path).with_context(|| format!("reading {}", path.display()))?;
        if list.contains(password) {
            holders.push(path.display().to_string());
        }
    }
    if holders.is_empty() {
        Ok((false, "not listed".to_owned()))
    } else {
        Ok((true, format!("listed: {}", holders.join(", "))))
    }
}
