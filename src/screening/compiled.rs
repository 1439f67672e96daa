//! The compiled blocklist file: a header, then binary fuse filters of 16-bit fingerprints, one
//! per shard of the key space. Written by `loginprofiled blocklist build`, read at start and at
//! each reload.
//!
//! Layout, little-endian: `MAGIC`; format version (u32); flags (u32, bit 0: keys are of
//! case-folded text); entries (u64); shard bits (u32: 2^bits shards, chosen by the top bits of a
//! key); fingerprint bits (u32: 16, one false positive in 65,536, or 32); CRC-32 (u32) of every other
//! byte of the file; zeros to byte 64. Each shard: the xorf
//! descriptor (20 bytes), the fingerprint count (u64), the fingerprints (u16 each).

use std::{
    fs::File,
    io::{self, BufReader, Read, Seek, SeekFrom, Write},
    path::Path,
};

use anyhow::{Context as _, ensure};
use xorf::{
    BinaryFuse16, BinaryFuse16Ref, BinaryFuse32, BinaryFuse32Ref, DmaSerializable as _,
    Filter as _, FilterRef as _,
};

/// The first bytes of every compiled list. The first is not UTF-8, so no text list starts so.
pub(super) const MAGIC: &[u8; 8] = b"\x89LPBL\r\n\x1a";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 64;
const DESCRIPTOR_LEN: usize = 20;
const FLAG_FOLDED: u32 = 1;
const DAMAGED: &str =
    "the compiled blocklist is damaged: its checksum or shape does not match its contents";

/// How the keys of a list were made from its passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// SHA-1 of the password lower-cased (plain-text lists): matched without regard to case.
    Folded,
    /// SHA-1 of the password exactly as given (Pwned Passwords lists).
    Exact,
}

/// A loaded compiled list: lookups only.
#[derive(Debug)]
pub struct CompiledList {
    kind: KeyKind,
    entries: u64,
    shard_bits: u32,
    shards: Vec<Shard>,
}

/// The size of a list's fingerprints: 16 bits (one false positive in 65,536, about 2.25 bytes
/// an entry) or 32 (one in 4.3 billion, twice the size: the built-in list, so that it adds next
/// to nothing to an operator's list's rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Width {
    #[default]
    Bits16,
    Bits32,
}

impl Width {
    pub fn bits(self) -> u32 {
        match self {
            Self::Bits16 => 16,
            Self::Bits32 => 32,
        }
    }

    pub fn from_bits(bits: u32) -> Option<Self> {
        match bits {
            16 => Some(Self::Bits16),
            32 => Some(Self::Bits32),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Shard {
    descriptor: [u8; DESCRIPTOR_LEN],
    fingerprints: Fingerprints,
}

#[derive(Debug)]
enum Fingerprints {
    Bits16(Vec<u16>),
    Bits32(Vec<u32>),
}

impl CompiledList {
    /// Reads a compiled list held in memory (the built-in one).
    pub fn parse(bytes: &[u8]) -> anyhow::Result<Self> {
        Self::read_from(bytes, bytes.len() as u64)
    }

    /// Reads a compiled list file straight into its filters, never holding the file's bytes
    /// besides (a 10M-entry list takes its 22 MB, not twice that).
    pub fn read_file(path: &Path) -> anyhow::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Self::read_from(BufReader::with_capacity(1 << 16, file), len)
    }

    /// Reads `len` bytes of a compiled list from `reader`, refusing one whose checksum, version
    /// or shape is wrong.
    fn read_from(mut reader: impl Read, len: u64) -> anyhow::Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        ensure!(len >= HEADER_LEN as u64, "not a compiled blocklist");
        reader.read_exact(&mut header)?;
        ensure!(header.starts_with(MAGIC), "not a compiled blocklist");
        let u32_at = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4"));
        let version = u32_at(8);
        ensure!(
            version == VERSION,
            "compiled blocklist format version {version} is not supported (this build reads {VERSION}); rebuild it"
        );
        let kind = if u32_at(12) & FLAG_FOLDED != 0 {
            KeyKind::Folded
        } else {
            KeyKind::Exact
        };
        let entries = u64::from_le_bytes(header[16..24].try_into().expect("8"));
        let (shard_bits, fingerprint_bits, stored_crc) = (u32_at(24), u32_at(28), u32_at(32));
        ensure!(shard_bits <= 16, DAMAGED);
        let width = Width::from_bits(fingerprint_bits).context(DAMAGED)?;
        let mut crc = header_checksum(&header);
        let mut remaining = len - HEADER_LEN as u64;
        let mut shards = Vec::with_capacity(1 << shard_bits);
        for _ in 0..1u32 << shard_bits {
            let mut head = [0u8; DESCRIPTOR_LEN + 8];
            ensure!(remaining >= head.len() as u64, DAMAGED);
            reader.read_exact(&mut head)?;
            crc.update(&head);
            remaining -= head.len() as u64;
            let count = u64::from_le_bytes(head[DESCRIPTOR_LEN..].try_into().expect("8"));
            let word = u64::from(width.bits() / 8);
            let bytes = count
                .checked_mul(word)
                .filter(|b| *b <= remaining)
                .context(DAMAGED)?;
            remaining -= bytes;
            let count = usize::try_from(count)?;
            let fingerprints = match width {
                Width::Bits16 => Fingerprints::Bits16(read_words(&mut reader, &mut crc, count)?),
                Width::Bits32 => Fingerprints::Bits32(read_words(&mut reader, &mut crc, count)?),
            };
            shards.push(Shard {
                descriptor: head[..DESCRIPTOR_LEN].try_into().expect("20"),
                fingerprints,
            });
        }
        ensure!(remaining == 0, DAMAGED);
        ensure!(crc.finalize() == stored_crc, DAMAGED);
        Ok(Self {
            kind,
            entries,
            shard_bits,
            shards,
        })
    }

    /// The distinct entries the list was built from.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The size of its fingerprints.
    pub fn width(&self) -> Width {
        match self.shards.first().map(|s| &s.fingerprints) {
            Some(Fingerprints::Bits32(_)) => Width::Bits32,
            _ => Width::Bits16,
        }
    }

    /// Bytes of memory the fingerprints take.
    pub fn memory_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| match &s.fingerprints {
                Fingerprints::Bits16(f) => f.len() * 2,
                Fingerprints::Bits32(f) => f.len() * 4,
            })
            .sum()
    }

    /// True when `password` is on the list (or, once in 65,536, a false positive).
    pub fn contains(&self, password: &str) -> bool {
        self.contains_key(super::key(self.kind, password))
    }

    /// True when `key` (see [`super::key`]) is in the filter.
    pub fn contains_key(&self, key: u64) -> bool {
        let shard = &self.shards[shard_of(key, self.shard_bits)];
        let descriptor = &shard.descriptor;
        match &shard.fingerprints {
            Fingerprints::Bits16(f) if !f.is_empty() => {
                BinaryFuse16Ref::from_dma(descriptor, bytemuck::cast_slice(f)).contains(&key)
            }
            Fingerprints::Bits32(f) if !f.is_empty() => {
                BinaryFuse32Ref::from_dma(descriptor, bytemuck::cast_slice(f)).contains(&key)
            }
            _ => false,
        }
    }
}

/// Which shard `key` belongs to: its top `bits` bits.
pub(super) fn shard_of(key: u64, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        (key >> (64 - bits)) as usize
    }
}

/// The CRC-32 of a header but for the checksum's own bytes (32..36); the body follows it.
fn header_checksum(header: &[u8]) -> crc32fast::Hasher {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[..32]);
    crc.update(&header[36..HEADER_LEN]);
    crc
}

/// Writes a compiled list shard by shard: the header is written last, when the entries and the
/// checksum are known.
#[derive(Debug)]
pub(super) struct Writer<W> {
    out: W,
    kind: KeyKind,
    shard_bits: u32,
    width: Width,
    entries: u64,
    crc: crc32fast::Hasher,
}

impl<W: Write + Seek> Writer<W> {
    pub(super) fn new(
        mut out: W,
        kind: KeyKind,
        shard_bits: u32,
        width: Width,
    ) -> io::Result<Self> {
        out.write_all(&[0; HEADER_LEN])?;
        Ok(Self {
            out,
            kind,
            shard_bits,
            width,
            entries: 0,
            crc: crc32fast::Hasher::new(),
        })
    }

    /// Adds the next shard, built from `keys`: sorted, distinct, and all of this shard.
    pub(super) fn shard(&mut self, keys: &[u64]) -> anyhow::Result<()> {
        let mut bytes = Vec::with_capacity(DESCRIPTOR_LEN + 8 + keys.len() * 9 / 4);
        if keys.is_empty() {
            bytes.extend_from_slice(&[0; DESCRIPTOR_LEN + 8]);
        } else {
            let failed = |e| anyhow::anyhow!("building a binary fuse filter: {e}");
            let mut descriptor = [0; DESCRIPTOR_LEN];
            match self.width {
                Width::Bits16 => {
                    let filter = BinaryFuse16::try_from(keys).map_err(failed)?;
                    filter.dma_copy_descriptor_to(&mut descriptor);
                    bytes.extend_from_slice(&descriptor);
                    bytes.extend_from_slice(&(filter.fingerprints.len() as u64).to_le_bytes());
                    for fingerprint in filter.fingerprints.iter() {
                        bytes.extend_from_slice(&fingerprint.to_le_bytes());
                    }
                }
                Width::Bits32 => {
                    let filter = BinaryFuse32::try_from(keys).map_err(failed)?;
                    filter.dma_copy_descriptor_to(&mut descriptor);
                    bytes.extend_from_slice(&descriptor);
                    bytes.extend_from_slice(&(filter.fingerprints.len() as u64).to_le_bytes());
                    for fingerprint in filter.fingerprints.iter() {
                        bytes.extend_from_slice(&fingerprint.to_le_bytes());
                    }
                }
            }
        }
        self.crc.update(&bytes);
        self.out.write_all(&bytes)?;
        self.entries += keys.len() as u64;
        Ok(())
    }

    /// Writes the header and returns the output and the entries written.
    pub(super) fn finish(mut self) -> io::Result<(W, u64)> {
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&VERSION.to_le_bytes());
        let flags = match self.kind {
            KeyKind::Folded => FLAG_FOLDED,
            KeyKind::Exact => 0,
        };
        header[12..16].copy_from_slice(&flags.to_le_bytes());
        header[16..24].copy_from_slice(&self.entries.to_le_bytes());
        header[24..28].copy_from_slice(&self.shard_bits.to_le_bytes());
        header[28..32].copy_from_slice(&self.width.bits().to_le_bytes());
        let mut crc = header_checksum(&header);
        crc.combine(&self.crc);
        header[32..36].copy_from_slice(&crc.finalize().to_le_bytes());
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&header)?;
        self.out.flush()?;
        Ok((self.out, self.entries))
    }
}

/// Reads `count` little-endian words of a shard's fingerprints, adding their bytes to `crc`.
fn read_words<T: Word>(
    reader: &mut impl Read,
    crc: &mut crc32fast::Hasher,
    count: usize,
) -> io::Result<Vec<T>> {
    let mut words = vec![T::default(); count];
    let mut buffer = [0u8; 8192];
    for chunk in words.chunks_mut(buffer.len() / T::BYTES) {
        let raw = &mut buffer[..chunk.len() * T::BYTES];
        reader.read_exact(raw)?;
        crc.update(raw);
        for (word, bytes) in chunk.iter_mut().zip(raw.chunks_exact(T::BYTES)) {
            *word = T::from_le(bytes);
        }
    }
    Ok(words)
}

/// A fingerprint word: u16 or u32.
trait Word: Copy + Default {
    const BYTES: usize;
    fn from_le(bytes: &[u8]) -> Self;
}

impl Word for u16 {
    const BYTES: usize = 2;
    fn from_le(bytes: &[u8]) -> Self {
        u16::from_le_bytes([bytes[0], bytes[1]])
    }
}

impl Word for u32 {
    const BYTES: usize = 4;
    fn from_le(bytes: &[u8]) -> Self {
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
}
