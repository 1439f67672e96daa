//! `loginprofiled check`: what a stopped store holds and what is wrong with it, without changing
//! it; and, when asked, accepting a loss so that `serve` starts on what is left.
//!
//! sled has no read-only mode, and its recovery writes (it zeroes the log past the last record it
//! could read, and writes a snapshot), so the check opens a copy of the data directory in a
//! scratch directory, taken while it holds the lock a server would hold.

use std::{
    fmt,
    fs::File,
    path::{Path, PathBuf},
};

use anyhow::Context as _;
use fs2::FileExt as _;

use super::{
    SledStore,
    mark::{self, Mark},
    open::{Inspection, Origin, how_to_recover, seal},
};

/// sled's page cache while checking.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// What `check` found in a data directory.
#[derive(Debug)]
pub struct CheckReport {
    pub data_dir: PathBuf,
    pub inspection: Inspection,
    pub outcome: CheckOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Read on a copy; the data directory was not changed.
    Checked,
    /// `--accept-loss`: the store's record of acknowledged writes was reset to what it holds.
    /// The numbers, when known, are the last write acknowledged and the last one the store
    /// held before.
    LossAccepted {
        acknowledged: Option<u64>,
        recovered: Option<u64>,
    },
}

impl CheckReport {
    /// Whether `serve` starts on the store as it is now.
    pub fn healthy(&self) -> bool {
        matches!(self.outcome, CheckOutcome::LossAccepted { .. })
            || self.inspection.problems.is_empty()
    }
}

impl SledStore {
    /// Reads every record of the stopped store in `dir` on a copy made in `scratch` (the
    /// system's temporary directory when None) and reports what it holds and what is wrong;
    /// `dir` itself is not changed. Fails when a running process holds the store.
    pub fn check_dir(dir: &Path, scratch: Option<&Path>) -> anyhow::Result<CheckReport> {
        let copy = copy_stopped_store(dir, scratch)?;
        let (_db, inspection) = Self::inspect(&copy.path().join("data"), dir, CACHE_BYTES)?;
        Ok(CheckReport {
            data_dir: dir.to_owned(),
            inspection,
            outcome: CheckOutcome::Checked,
        })
    }

    /// Makes the stopped store in `dir` servable again after a loss, when every record it
    /// holds still reads: its ledger is reset to what it holds and the mark to that, so the
    /// acknowledged writes it lacks are given up for good. Checks a copy first and changes
    /// nothing unless that check allows it.
    pub fn accept_loss(dir: &Path, scratch: Option<&Path>) -> anyhow::Result<CheckReport> {
        let checked = Self::check_dir(dir, scratch)?;
        if checked.healthy() {
            return Ok(checked);
        }
        anyhow::ensure!(
            !checked.inspection.importing,
            "not accepting: an import into the store in {} did not finish, and serving part of \
             it would lose the rest without a word. Remove the data directory and run the \
             import again",
            dir.display()
        );
        anyhow::ensure!(
            checked.inspection.loss_can_be_accepted(),
            "not accepting: some records of the store in {} cannot be read or break its \
             invariants, and accepting would serve them\n{}{}",
            dir.display(),
            checked.inspection.problems,
            how_to_recover(dir, false)
        );
        let (db, inspection) = Self::inspect(dir, dir, CACHE_BYTES)?;
        anyhow::ensure!(
            inspection.loss_can_be_accepted(),
            "not accepting: the store changed since it was checked\n{}",
            inspection.problems
        );
        let survey = &inspection.survey;
        let last = inspection.ledger.as_ref().map_or(0, |l| l.seq);
        let store_id = inspection
            .ledger
            .as_ref()
            .and_then(|l| <[u8; 16]>::try_from(l.store_id.as_slice()).ok());
        let mut ledger = survey.ledger();
        if let Some(id) = store_id {
            ledger.store_id = id.to_vec();
        }
        // Numbers are never given out twice, so a later report cannot be mistaken for this one.
        ledger.seq = last.max(inspection.mark.unwrap_or(0)) + 1;
        seal(&db, dir, &ledger)?;
        drop(db);
        let new_mark = Mark {
            store_id: ledger.store_id.as_slice().try_into()?,
            seq: ledger.seq,
        };
        mark::create(dir, &new_mark).context("writing the new acknowledged-write mark")?;
        let (_db, inspection) = Self::inspect(dir, dir, CACHE_BYTES)?;
        anyhow::ensure!(
            inspection.problems.is_empty(),
            "the store still has problems after accepting the loss\n{}",
            inspection.problems
        );
        Ok(CheckReport {
            data_dir: dir.to_owned(),
            inspection,
            outcome: CheckOutcome::LossAccepted {
                acknowledged: checked.inspection.mark,
                recovered: checked.inspection.ledger.map(|l| l.seq),
            },
        })
    }
}

/// Copies the data directory, holding sled's lock on it meanwhile so that no server writes
/// during the copy. A directory with a mark but no sled file is copied too: the check then
/// reports what the mark says is missing.
fn copy_stopped_store(dir: &Path, scratch: Option<&Path>) -> anyhow::Result<tempfile::TempDir> {
    let db = dir.join("db");
    let lock = match File::open(&db) {
        Ok(lock) => Some(lock),
        Err(_) if dir.join(mark::FILE_NAME).is_file() => None,
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "{} holds no sled store (no readable {})",
                dir.display(),
                db.display()
            )));
        }
    };
    if let Some(lock) = &lock {
        lock.try_lock_exclusive().with_context(|| {
            format!(
                "{} is in use by a running loginprofiled; check reads a stopped store (stop \
                 the server, or check a copy taken while it was stopped)",
                dir.display()
            )
        })?;
    }
    let scratch = scratch.map_or_else(std::env::temp_dir, Path::to_owned);
    let copy = tempfile::Builder::new()
        .prefix("loginprofiled-check-")
        .tempdir_in(&scratch)
        .with_context(|| format!("making a scratch directory in {}", scratch.display()))?;
    copy_dir(dir, &copy.path().join("data"))
        .with_context(|| format!("copying {} to {}", dir.display(), copy.path().display()))?;
    // Dropping the file releases the lock.
    drop(lock);
    Ok(copy)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inspection = &self.inspection;
        let survey = &inspection.survey;
        writeln!(f, "data directory:   {}", self.data_dir.display())?;
        writeln!(f, "users:            {}", survey.users)?;
        writeln!(f, "login profiles:   {}", survey.profiles)?;
        writeln!(f, "MFA devices:      {}", survey.devices)?;
        writeln!(f, "lockout entries:  {}", survey.lockouts)?;
        writeln!(
            f,
            "password policy:  {}",
            if survey.policy { "present" } else { "absent" }
        )?;
        writeln!(f, "records read:     {} (every tree)", survey.records)?;
        let recorded = inspection.ledger.as_ref().map(|l| l.seq);
        match (inspection.origin, inspection.mark, recorded) {
            (Origin::New, ..) => writeln!(f, "store:            none yet (an empty one)")?,
            (Origin::Upgraded, ..) => writeln!(
                f,
                "store:            written by an earlier loginprofiled, without a record of \
                 acknowledged writes; `serve` takes what it holds as complete"
            )?,
            (Origin::Existing, Some(mark), Some(recorded)) => writeln!(
                f,
                "acknowledged:     up to write #{mark} ({}); the store holds up to #{recorded}",
                mark::FILE_NAME
            )?,
            (Origin::Existing, ..) => {}
        }
        match self.outcome {
            CheckOutcome::LossAccepted {
                acknowledged: Some(acknowledged),
                recovered: Some(recovered),
            } if acknowledged > recovered => writeln!(
                f,
                "loss accepted:    acknowledged writes #{} to #{acknowledged} are given up for \
                 good; the store now counts what it holds as complete, and `serve` starts on it",
                recovered + 1
            ),
            CheckOutcome::LossAccepted { .. } => writeln!(
                f,
                "loss accepted:    the store now counts what it holds as complete, and `serve` \
                 starts on it"
            ),
            CheckOutcome::Checked if inspection.problems.is_empty() => {
                writeln!(f, "healthy:          `serve` starts on this store")
            }
            CheckOutcome::Checked => write!(
                f,
                "PROBLEMS: `serve` refuses this store\n{}{}\n",
                inspection.problems,
                how_to_recover(&self.data_dir, inspection.loss_can_be_accepted())
            ),
        }
    }
}
