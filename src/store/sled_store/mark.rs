//! The acknowledged-write mark: a small file beside sled's own (`ACKNOWLEDGED`) holding the
//! number of the last write acknowledged to a caller, advanced only once that write is on disk.
//! It lives outside sled's log on purpose: damage that makes sled drop the end of its log cannot
//! take the mark with it, so a store that recovers less than the mark has lost acknowledged
//! writes and says so.
//!
//! Two 512-byte slots (one disk sector each), written in turn with `pwrite` + `fdatasync`, each
//! with a CRC-32. A write torn by a crash can spoil only the slot being written; the other still
//! holds the mark before it, which never exceeds what the store holds. So a read is never torn.

use std::{
    fs::{File, OpenOptions},
    io::{self, Read as _, Write as _},
    os::unix::fs::FileExt as _,
    path::Path,
};

/// The mark's file name inside the data directory.
pub(super) const FILE_NAME: &str = "ACKNOWLEDGED";
const SLOT_BYTES: u64 = 512;
const MAGIC: &[u8; 8] = b"lpd-ack1";
/// magic, store id, seq, CRC-32 of the three.
const RECORD_BYTES: usize = 8 + 16 + 8 + 4;

/// What a mark says: in the store `store_id`, write number `seq` was acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mark {
    pub(super) store_id: [u8; 16],
    pub(super) seq: u64,
}

/// What reading the mark file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MarkRead {
    Missing,
    /// Neither slot holds a valid record.
    Damaged,
    Found {
        mark: Mark,
        slot: u64,
    },
}

/// Reads the mark in `dir`: the valid slot with the higher number.
pub(super) fn read(dir: &Path) -> io::Result<MarkRead> {
    let file = match File::open(dir.join(FILE_NAME)) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(MarkRead::Missing),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    (&file).take(2 * SLOT_BYTES).read_to_end(&mut bytes)?;
    let found = (0..2)
        .filter_map(|slot| {
            let start = usize::try_from(slot * SLOT_BYTES).ok()?;
            let record = bytes.get(start..start + RECORD_BYTES)?;
            decode(record).map(|mark| (mark, slot))
        })
        .max_by_key(|(mark, _)| mark.seq);
    Ok(match found {
        Some((mark, slot)) => MarkRead::Found { mark, slot },
        None => MarkRead::Damaged,
    })
}

/// Writes a new mark file in `dir` holding `mark` in both slots, atomically: a crash leaves
/// the old file or the new one.
pub(super) fn create(dir: &Path, mark: &Mark) -> io::Result<()> {
    let temporary = dir.join(format!("{FILE_NAME}.new"));
    let mut file = File::create(&temporary)?;
    let mut bytes = vec![0; 2 * SLOT_BYTES as usize];
    for slot in 0..2 {
        let start = slot * SLOT_BYTES as usize;
        bytes[start..start + RECORD_BYTES].copy_from_slice(&encode(mark));
    }
    file.write_all(&bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, dir.join(FILE_NAME))?;
    // The rename is durable once the directory is.
    File::open(dir)?.sync_all()
}

/// The open mark file, advanced one slot at a time.
#[derive(Debug)]
pub(super) struct MarkFile {
    file: File,
    store_id: [u8; 16],
    /// The slot the next write goes to: never the one holding the newest valid mark.
    next_slot: u64,
}

impl MarkFile {
    /// Opens the mark in `dir` for advancing; `current_slot` holds its newest valid record.
    pub(super) fn open(dir: &Path, store_id: [u8; 16], current_slot: u64) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join(FILE_NAME))?;
        Ok(Self {
            file,
            store_id,
            next_slot: 1 - current_slot,
        })
    }

    /// Makes `seq` the mark, durably: returns once it is on disk.
    pub(super) fn advance(&mut self, seq: u64) -> io::Result<()> {
        let mark = Mark {
            store_id: self.store_id,
            seq,
        };
        self.file
            .write_all_at(&encode(&mark), self.next_slot * SLOT_BYTES)?;
        self.file.sync_data()?;
        self.next_slot = 1 - self.next_slot;
        Ok(())
    }
}

fn encode(mark: &Mark) -> [u8; RECORD_BYTES] {
    let mut record = [0; RECORD_BYTES];
    record[..8].copy_from_slice(MAGIC);
    record[8..24].copy_from_slice(&mark.store_id);
    record[24..32].copy_from_slice(&mark.seq.to_le_bytes());
    let crc = crc32fast::hash(&record[..32]);
    record[32..].copy_from_slice(&crc.to_le_bytes());
    record
}

fn decode(record: &[u8]) -> Option<Mark> {
    let record: &[u8; RECORD_BYTES] = record.try_into().ok()?;
    let crc = u32::from_le_bytes(record[32..].try_into().ok()?);
    if &record[..8] != MAGIC || crc32fast::hash(&record[..32]) != crc {
        return None;
    }
    Some(Mark {
        store_id: record[8..24].try_into().ok()?,
        seq: u64::from_le_bytes(record[24..32].try_into().ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: [u8; 16] = *b"0123456789abcdef";

    fn mark(seq: u64) -> Mark {
        Mark { store_id: ID, seq }
    }

    fn flip(dir: &Path, offset: u64) {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join(FILE_NAME))
            .unwrap();
        let mut byte = [0];
        file.read_exact_at(&mut byte, offset).unwrap();
        file.write_all_at(&[byte[0] ^ 0x40], offset).unwrap();
    }

    #[test]
    fn a_missing_file_reads_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), MarkRead::Missing);
    }

    #[test]
    fn advancing_alternates_slots_and_the_newest_wins() {
        let dir = tempfile::tempdir().unwrap();
        create(dir.path(), &mark(3)).unwrap();
        let MarkRead::Found { mark: found, slot } = read(dir.path()).unwrap() else {
            panic!("no mark")
        };
        assert_eq!(found, mark(3));
        let mut file = MarkFile::open(dir.path(), ID, slot).unwrap();
        for seq in 4..=9 {
            file.advance(seq).unwrap();
            assert!(
                matches!(read(dir.path()).unwrap(), MarkRead::Found { mark: m, .. } if m.seq == seq)
            );
        }
    }

    #[test]
    fn a_torn_write_leaves_the_mark_before_it_never_a_larger_one() {
        let dir = tempfile::tempdir().unwrap();
        create(dir.path(), &mark(10)).unwrap();
        let mut file = MarkFile::open(dir.path(), ID, 0).unwrap();
        for seq in 11..=15 {
            file.advance(seq).unwrap();
        }
        let MarkRead::Found { slot: newest, .. } = read(dir.path()).unwrap() else {
            panic!("no mark")
        };
        // A byte of the newest record's seq, as if its write was torn.
        flip(dir.path(), newest * SLOT_BYTES + 26);

        assert_eq!(
            read(dir.path()).unwrap(),
            MarkRead::Found {
                mark: mark(14),
                slot: 1 - newest
            }
        );
    }

    #[test]
    fn both_slots_spoiled_read_as_damaged() {
        let dir = tempfile::tempdir().unwrap();
        create(dir.path(), &mark(5)).unwrap();
        flip(dir.path(), 30);
        flip(dir.path(), SLOT_BYTES + 3);

        assert_eq!(read(dir.path()).unwrap(), MarkRead::Damaged);
    }

    #[test]
    fn a_truncated_file_reads_as_damaged() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"lpd-ack1").unwrap();
        assert_eq!(read(dir.path()).unwrap(), MarkRead::Damaged);
    }
}
