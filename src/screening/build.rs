//! Compiling text lists into a compiled list in bounded memory, whatever their size.
//!
//! Keys (8 bytes each) are collected in memory up to [`SPILL_AT`]; past it they are spread over
//! 256 temporary files by their top byte. Then the shards are built one at a time: the fewest
//! shards (a power of two, at most 256) that keep each under [`MAX_SHARD_KEYS`], each sorted,
//! deduplicated and turned into a binary fuse filter (about 34 bytes a key while building). So
//! the peak is some 40 MB up to 268 million lines, and past that 34 bytes for each 256th of the
//! input: about 130 MB for the full corpus's billion lines, 1 GiB only past 8 billion. The
//! temporary files take 8 bytes a line.

use std::{
    fs::File,
    io::{BufReader, BufWriter, IsTerminal as _, Read as _, Seek, Write},
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context as _, bail};

use super::{
    KeyKind,
    compiled::{Width, Writer, shard_of},
    input::{Format, Line, for_each_line},
};

/// Keys held in memory before they go to temporary files.
pub(super) const SPILL_AT: usize = 1 << 20;
/// Most keys in one shard: the filter's construction takes ~34 bytes a key.
const MAX_SHARD_KEYS: u64 = 1 << 20;
const PARTITIONS: usize = 256;

/// What `blocklist build` was asked for.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Pwned Passwords lines with a count below this are left out.
    pub min_count: u64,
    /// Show a progress line on standard error (when it is a terminal).
    pub progress: bool,
    /// The fingerprints' size.
    pub width: Width,
}

/// What a build read and wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Built {
    pub lines: u64,
    /// Distinct entries in the output.
    pub entries: u64,
    /// Lines left out by `--min-count`.
    pub below_min_count: u64,
}

/// Compiles `inputs` (all plain, or all Pwned Passwords) into `out`.
pub fn build<W: Write + Seek>(
    inputs: &[PathBuf],
    out: W,
    options: &BuildOptions,
) -> anyhow::Result<(W, Built)> {
    let mut progress = Progress::new(options.progress, inputs)?;
    let mut kind = None;
    let mut keys = Keys::default();
    let mut built = Built {
        lines: 0,
        entries: 0,
        below_min_count: 0,
    };
    for path in inputs {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let format = Format::sniff(std::io::BufRead::fill_buf(&mut reader)?);
        let Some(this_kind) = format.key_kind() else {
            bail!("{} is already a compiled list", path.display());
        };
        if kind.is_some_and(|k| k != this_kind) {
            bail!(
                "{} is {}, unlike the inputs before it: plain lists (matched without regard to case) and Pwned Passwords lists (SHA-1 of the exact password) go into separate compiled lists",
                path.display(),
                format.name()
            );
        }
        kind = Some(this_kind);
        for_each_line(reader, format, |line, bytes| {
            built.lines += 1;
            progress.read(bytes as u64);
            match line {
                Line::Blank => {}
                Line::Entry { count: Some(c), .. } if c < options.min_count => {
                    built.below_min_count += 1;
                }
                Line::Entry { key, .. } => keys.push(key)?,
            }
            Ok(())
        })
        .with_context(|| format!("reading {}", path.display()))?;
    }
    let kind = kind.unwrap_or(KeyKind::Folded);
    let (out, entries) = keys.write(out, kind, options.width, &mut progress)?;
    progress.done();
    built.entries = entries;
    Ok((out, built))
}

/// The keys read so far: in memory, then in 256 temporary files by top byte.
#[derive(Default)]
struct Keys {
    memory: Vec<u64>,
    spilled: Option<Spilled>,
}

struct Spilled {
    // Held so the files are removed with it.
    _dir: tempfile::TempDir,
    paths: Vec<PathBuf>,
    files: Vec<BufWriter<File>>,
    counts: Vec<u64>,
}

impl Keys {
    fn push(&mut self, key: u64) -> anyhow::Result<()> {
        match &mut self.spilled {
            Some(spilled) => spilled.push(key),
            None => {
                self.memory.push(key);
                if self.memory.len() >= SPILL_AT {
                    let mut spilled = Spilled::new()?;
                    for key in self.memory.drain(..) {
                        spilled.push(key)?;
                    }
                    self.memory = Vec::new();
                    self.spilled = Some(spilled);
                }
                Ok(())
            }
        }
    }

    /// Builds the shards and writes the list; returns the output and the entries.
    fn write<W: Write + Seek>(
        self,
        out: W,
        kind: KeyKind,
        width: Width,
        progress: &mut Progress,
    ) -> anyhow::Result<(W, u64)> {
        let Some(mut spilled) = self.spilled else {
            let mut keys = self.memory;
            keys.sort_unstable();
            keys.dedup();
            let mut writer = Writer::new(out, kind, 0, width)?;
            writer.shard(&keys)?;
            return Ok(writer.finish()?);
        };
        for file in &mut spilled.files {
            file.flush()?;
        }
        let bits = shard_bits(&spilled.counts);
        let shards = 1usize << bits;
        let per_shard = PARTITIONS / shards;
        let mut writer = Writer::new(out, kind, bits, width)?;
        for shard in 0..shards {
            progress.shard(shard, shards);
            let mut keys = Vec::new();
            for partition in shard * per_shard..(shard + 1) * per_shard {
                read_keys(&spilled.paths[partition], &mut keys)?;
            }
            keys.sort_unstable();
            keys.dedup();
            debug_assert!(keys.iter().all(|k| shard_of(*k, bits) == shard));
            writer.shard(&keys)?;
        }
        Ok(writer.finish()?)
    }
}

impl Spilled {
    fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("making a temporary directory for the build")?;
        let paths: Vec<PathBuf> = (0..PARTITIONS)
            .map(|i| dir.path().join(format!("{i:03}.keys")))
            .collect();
        let files = paths
            .iter()
            .map(|p| Ok(BufWriter::with_capacity(64 * 1024, File::create(p)?)))
            .collect::<std::io::Result<_>>()
            .context("creating the build's temporary files")?;
        Ok(Self {
            _dir: dir,
            paths,
            files,
            counts: vec![0; PARTITIONS],
        })
    }

    fn push(&mut self, key: u64) -> anyhow::Result<()> {
        let partition = (key >> 56) as usize;
        self.counts[partition] += 1;
        self.files[partition]
            .write_all(&key.to_le_bytes())
            .context("writing the build's temporary files (is the disk full?)")
    }
}

/// The fewest shard bits that keep every shard under [`MAX_SHARD_KEYS`] (counting repeats).
fn shard_bits(counts: &[u64]) -> u32 {
    (0..=8)
        .find(|bits| {
            counts
                .chunks(PARTITIONS >> bits)
                .all(|group| group.iter().sum::<u64>() <= MAX_SHARD_KEYS)
        })
        .unwrap_or(8)
}

fn read_keys(path: &Path, keys: &mut Vec<u64>) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .context("reading the build's temporary files")?;
    keys.extend(
        bytes
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))),
    );
    Ok(())
}

/// The progress line on standard error, when asked for and it is a terminal.
struct Progress {
    on: bool,
    total_bytes: u64,
    read_bytes: u64,
    started: Instant,
    shown: Instant,
}

impl Progress {
    fn new(wanted: bool, inputs: &[PathBuf]) -> anyhow::Result<Self> {
        let mut total_bytes = 0;
        for path in inputs {
            total_bytes += std::fs::metadata(path)
                .with_context(|| format!("reading {}", path.display()))?
                .len();
        }
        Ok(Self {
            on: wanted && std::io::stderr().is_terminal(),
            total_bytes,
            read_bytes: 0,
            started: Instant::now(),
            shown: Instant::now(),
        })
    }

    fn read(&mut self, bytes: u64) {
        self.read_bytes += bytes;
        if self.on && self.shown.elapsed().as_millis() >= 500 {
            self.shown = Instant::now();
            let percent = self.read_bytes * 100 / self.total_bytes.max(1);
            let rate = self.read_bytes as f64 / self.started.elapsed().as_secs_f64() / 1e6;
            eprint!(
                "\rreading: {percent:3}% of {} MB, {rate:.0} MB/s   ",
                self.total_bytes / 1_000_000
            );
        }
    }

    fn shard(&mut self, shard: usize, shards: usize) {
        if self.on {
            eprint!(
                "\rbuilding filter {} of {shards}...               ",
                shard + 1
            );
        }
    }

    fn done(&self) {
        if self.on {
            eprintln!();
        }
    }
}
