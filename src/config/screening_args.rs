//! Screening's flags: `serve --password-screening` (checked here) and the `blocklist`
//! subcommands.

use std::path::PathBuf;

use clap::{
    Args, Subcommand, ValueEnum,
    builder::{PossibleValuesParser, TypedValueParser as _},
};

use super::ServeArgs;
use crate::screening::Screening;

/// `--password-screening`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

impl ServeArgs {
    /// The blocklists, each file read now: one that cannot be read or is damaged is a problem.
    pub(super) fn screening(&self) -> Result<Screening, Vec<String>> {
        match self.password_screening {
            Switch::On => Screening::load(&self.password_blocklist),
            Switch::Off if self.password_blocklist.is_empty() => Ok(Screening::off()),
            Switch::Off => Err(vec![
                "--password-blocklist is given with --password-screening off; screening off uses no list"
                    .to_owned(),
            ]),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum BlocklistCommand {
    /// Compiles plain-text or Pwned Passwords lists of any size into one compiled list (a
    /// binary fuse filter: one false positive in 65,536, about 2.25 bytes an entry) in bounded
    /// memory, with a progress line on a terminal.
    ///
    /// Needs temporary space of 8 bytes a line (TMPDIR) for inputs past a million lines.
    Build(BuildArgs),
    /// Reads one password from standard input and says whether a list holds it: exit 0 when
    /// listed, 1 when not, 2 on an error.
    Check(CheckListArgs),
}

/// Flags of `blocklist build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// A list to compile: plain text or Pwned Passwords SHA-1, told apart by content. Repeat
    /// for several; all must be of one of the two kinds.
    #[arg(long = "input", value_name = "FILE", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where to write the compiled list (replaced whole once it is complete).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// Leave out Pwned Passwords lines whose count is below N.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_count: u64,
    /// Bits of each fingerprint: 16 (one false positive in 65,536, about 2.25 bytes an entry)
    /// or 32 (one in 4.3 billion, twice the size; the built-in list uses 32).
    #[arg(
        long,
        value_name = "BITS",
        default_value = "16",
        value_parser = PossibleValuesParser::new(["16", "32"])
            .map(|bits| bits.parse::<u32>().expect("16 or 32 parse"))
    )]
    pub fingerprint_bits: u32,
}

/// Flags of `blocklist check`.
#[derive(Debug, Args)]
pub struct CheckListArgs {
    /// A list to check against besides the built-in one (any of the three formats); repeat for
    /// several.
    #[arg(long = "password-blocklist", value_name = "FILE")]
    pub password_blocklist: Vec<PathBuf>,
}
