//! The compiled blocklist file: a header, then binary fuse filters of 16-bit fingerprints, one
//! per shard of the key space. Written by `loginprofiled blocklist build`, read at start and at
//! each reload.
//!
//! Layout, little-endian: `MAGIC`; format version (u32); flags (u32, bit 0: keys are of
//! case-folded text); entries (u64); shard bits (u32: 2^bits shards, chosen by the top bits of a
//! key); fingerprint bits (u32, 16: one false positive in 65,536); CRC-32 (u32) of every other
//! byte of the file; zeros to byte 64. Each shard: the xorf
//! descriptor (20 bytes), the fingerprint count (u64), the fingerprints (u16 each).

use std::io::{self, Seek, SeekFrom, Write};

use anyhow::{Context as _, bail, ensure};
use xorf::{BinaryFuse16, BinaryFuse16Ref, DmaSerializable as _, Filter as _, FilterRef as _};

/// The first bytes of every compiled list. The first is not UTF-8, so no text list starts so.
pub(super) const MAGIC: &[u8; 8] = b"\x89LPBL\r\n\x1a";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 64;
const FINGERPRINT_BITS: u32 = 16;
const DESCRIPTOR_LEN: usize = 20;
const FLAG_FOLDED: u32 = 1;

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

#[derive(Debug)]
struct Shard {
    descriptor: [u8; DESCRIPTOR_LEN],
    fingerprints: Vec<u16>,
}

impl CompiledList {
    /// Reads a compiled list, refusing one whose checksum, version or shape is wrong.
    pub fn parse(bytes: &[u8]) -> anyhow::Result<Self> {
        ensure!(
            bytes.len() >= HEADER_LEN && bytes.starts_with(MAGIC),
            "not a compiled blocklist"
        );
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let version = u32_at(8);
        ensure!(
            version == VERSION,
            "compiled blocklist format version {version} is not supported (this build reads {VERSION}); rebuild it"
        );
        let stored_crc = u32_at(32);
        if checksum(&bytes[..HEADER_LEN], &bytes[HEADER_LEN..]) != stored_crc {
            bail!("the compiled blocklist is damaged: its checksum does not match its contents");
        }
        let kind = if u32_at(12) & FLAG_FOLDED != 0 {
            KeyKind::Folded
        } else {
            KeyKind::Exact
        };
        let entries = u64::from_le_bytes(bytes[16..24].try_into().expect("8"));
        let shard_bits = u32_at(24);
        ensure!(
            shard_bits <= 16,
            "compiled blocklist: {shard_bits} shard bits"
        );
        ensure!(
            u32_at(28) == FINGERPRINT_BITS,
            "compiled blocklist: fingerprints of {} bits",
            u32_at(28)
        );
        let mut rest = &bytes[HEADER_LEN..];
        let mut shards = Vec::with_capacity(1 << shard_bits);
        for _ in 0..1u32 << shard_bits {
            ensure!(
                rest.len() >= DESCRIPTOR_LEN + 8,
                "compiled blocklist is truncated"
            );
            let descriptor: [u8; DESCRIPTOR_LEN] = rest[..DESCRIPTOR_LEN].try_into().expect("20");
            let count = u64::from_le_bytes(rest[DESCRIPTOR_LEN..DESCRIPTOR_LEN + 8].try_into()?);
            rest = &rest[DESCRIPTOR_LEN + 8..];
            let len = usize::try_from(count)?
                .checked_mul(2)
                .filter(|len| *len <= rest.len())
                .context("compiled blocklist is truncated")?;
            let fingerprints = rest[..len]
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                .collect();
            rest = &rest[len..];
            shards.push(Shard {
                descriptor,
                fingerprints,
            });
        }
        ensure!(rest.is_empty(), "compiled blocklist has trailing bytes");
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

    /// Bytes of memory the fingerprints take.
    pub fn memory_bytes(&self) -> usize {
        self.shards.iter().map(|s| s.fingerprints.len() * 2).sum()
    }

    /// True when `password` is on the list (or, once in 65,536, a false positive).
    pub fn contains(&self, password: &str) -> bool {
        self.contains_key(super::key(self.kind, password))
    }

    /// True when `key` (see [`super::key`]) is in the filter.
    pub fn contains_key(&self, key: u64) -> bool {
        let shard = &self.shards[shard_of(key, self.shard_bits)];
        if shard.fingerprints.is_empty() {
            return false;
        }
        BinaryFuse16Ref::from_dma(&shard.descriptor, bytemuck::cast_slice(&shard.fingerprints))
            .contains(&key)
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

/// The CRC-32 of a file: its header but for the checksum's own bytes (32..36), then its body.
fn checksum(header: &[u8], body: &[u8]) -> u32 {
    let mut crc = header_checksum(header);
    crc.update(body);
    crc.finalize()
}

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
    entries: u64,
    crc: crc32fast::Hasher,
}

impl<W: Write + Seek> Writer<W> {
    pub(super) fn new(mut out: W, kind: KeyKind, shard_bits: u32) -> io::Result<Self> {
        out.write_all(&[0; HEADER_LEN])?;
        Ok(Self {
            out,
            kind,
            shard_bits,
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
            let filter = BinaryFuse16::try_from(keys)
                .map_err(|e| anyhow::anyhow!("building a binary fuse filter: {e}"))?;
            let mut descriptor = [0; DESCRIPTOR_LEN];
            filter.dma_copy_descriptor_to(&mut descriptor);
            bytes.extend_from_slice(&descriptor);
            bytes.extend_from_slice(&(filter.fingerprints.len() as u64).to_le_bytes());
            for fingerprint in filter.fingerprints.iter() {
                bytes.extend_from_slice(&fingerprint.to_le_bytes());
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
        header[28..32].copy_from_slice(&FINGERPRINT_BITS.to_le_bytes());
        let mut crc = header_checksum(&header);
        crc.combine(&self.crc);
        header[32..36].copy_from_slice(&crc.finalize().to_le_bytes());
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&header)?;
        self.out.flush()?;
        Ok((self.out, self.entries))
    }
}
