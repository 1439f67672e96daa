//! Opening a data directory safely: the format marker, a corrupt or held store, and the check
//! that sled recovered every acknowledged write (the ledger against the mark, then a full read);
//! and bulk loading prepared data sets.

use std::{
    panic::AssertUnwindSafe,
    path::Path,
    sync::{Arc, atomic::AtomicBool},
};

use anyhow::Context as _;
use prost::Message;
use sled::Transactional as _;

use super::{
    SledStore,
    commit::Committer,
    devices, import, ledger,
    mark::{self, Mark, MarkFile, MarkRead},
    survey::{Problems, Survey},
};
use crate::store::{LedgerRecord, ProfileRecord, StoreResult, UserRecord};

const FORMAT_KEY: &[u8] = b"format";
/// Format 2 added the ledger and the acknowledged-write mark.
const FORMAT_VERSION: &[u8] = b"loginprofiled/2";
/// Written by versions that kept neither; such a store is upgraded in place when opened.
const FORMAT_WITHOUT_LEDGER: &[u8] = b"loginprofiled/1";

/// How the store in a data directory came to be what was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// There was none: a new, empty store was made.
    New,
    /// Written by an earlier version without a ledger: it got one, counting what it holds.
    Upgraded,
    /// A store of this format.
    Existing,
}

/// What opening a store found before anything is served.
#[derive(Debug)]
pub struct Inspection {
    pub origin: Origin,
    /// None when a store of this format has lost its ledger.
    pub ledger: Option<LedgerRecord>,
    /// The acknowledged-write mark: Some(seq), or None when missing or damaged.
    pub mark: Option<u64>,
    pub survey: Survey,
    /// Everything wrong, the mark's verdict first.
    pub problems: Problems,
    /// An import into the store did not finish: part of what it imported is there, and
    /// only running the import again (into an empty directory) makes it whole.
    pub importing: bool,
    mark_read: MarkRead,
}

impl SledStore {
    /// Opens (or creates) the store in `dir` with a page cache of `cache_bytes`. Fails when
    /// another process holds the directory, when it holds data this version cannot read, and
    /// when what sled recovered is less than what was acknowledged before (the error says what
    /// is missing and how to recover). Reads every record first, so it takes a while on a
    /// large store: call it from a blocking context.
    pub fn open(dir: &Path, cache_bytes: u64) -> anyhow::Result<Self> {
        let (db, inspection) = Self::inspect(dir, dir, cache_bytes)?;
        if !inspection.problems.is_empty() {
            anyhow::bail!(refusal(dir, &inspection));
        }
        let ledger = inspection
            .ledger
            .context("the store has no ledger, yet no problem was reported")?;
        if inspection.origin == Origin::Upgraded {
            tracing::warn!(
                data_dir = %dir.display(),
                users = ledger.users,
                profiles = ledger.profiles,
                "the store was written by an earlier loginprofiled that kept no record of \
                 acknowledged writes: what it holds now is taken as complete, and loss from now \
                 on is detected"
            );
        }
        let store_id = store_id(&ledger)?;
        let (slot, durable) = match inspection.mark_read {
            MarkRead::Found { mark, slot } if mark.store_id == store_id => (slot, mark.seq),
            // No mark yet, or one that counted no writes (checked above): start one.
            _ => {
                let fresh = Mark {
                    store_id,
                    seq: ledger.seq,
                };
                mark::create(dir, &fresh).context("creating the acknowledged-write mark")?;
                (0, ledger.seq)
            }
        };
        let mark = MarkFile::open(dir, store_id, slot).context("opening the mark")?;
        Self::from_db(db, dir, mark, durable)
    }

    /// Opens sled in `dir`, makes or upgrades the ledger, reads every record and compares
    /// what it found with the ledger and the mark. Writes to the store as sled's recovery and
    /// an upgrade do; `check` runs it on a copy. Messages name the data directory `named`.
    pub(super) fn inspect(
        dir: &Path,
        named: &Path,
        cache_bytes: u64,
    ) -> anyhow::Result<(sled::Db, Inspection)> {
        // sled 0.34 panics on some damage instead of returning an error: that too is a damaged
        // store, to refuse with the same advice rather than a bare panic.
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            Self::inspect_unguarded(dir, named, cache_bytes)
        }))
        .unwrap_or_else(|_| {
            // The panic's own message went to stderr already.
            anyhow::bail!(
                "reading the sled store in {} made sled panic: it is damaged\n{}",
                named.display(),
                how_to_recover(named, false)
            )
        })
    }

    fn inspect_unguarded(
        dir: &Path,
        named: &Path,
        cache_bytes: u64,
    ) -> anyhow::Result<(sled::Db, Inspection)> {
        let mark_read = mark::read(dir)
            .with_context(|| format!("reading {}", named.join(mark::FILE_NAME).display()))?;
        // sled starts empty on a log it cannot read at all; a database file with content but
        // no format marker after opening is such a case, and must not pass as a fresh store.
        let had_data = std::fs::metadata(dir.join("db")).is_ok_and(|m| m.len() > 0);
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(200))
            .open()
            .map_err(|e| open_error(named, e))?;
        let (origin, ledger, survey) = match db.get(FORMAT_KEY)? {
            None if had_data => anyhow::bail!(
                "the store in {} has a database file but no readable loginprofiled data; \
                 it may be corrupt (refusing to start rather than serve an empty store)\n{}",
                named.display(),
                how_to_recover(named, false)
            ),
            None => {
                let ledger = LedgerRecord::new(0, 0, 0, false);
                seal(&db, dir, &ledger)?;
                (Origin::New, Some(ledger), Survey::of(&db))
            }
            Some(found) if found == FORMAT_WITHOUT_LEDGER => {
                let survey = Survey::of(&db);
                let ledger = survey.problems.is_empty().then(|| survey.ledger());
                if let Some(ledger) = &ledger {
                    seal(&db, dir, ledger)?;
                }
                (Origin::Upgraded, ledger, survey)
            }
            Some(found) if found == FORMAT_VERSION => {
                let mut survey = Survey::of(&db);
                let ledger = ledger::read(&db.open_tree(ledger::TREE)?).unwrap_or_else(|e| {
                    survey
                        .problems
                        .push(format!("the ledger cannot be read: {e:#}"));
                    None
                });
                (Origin::Existing, ledger, survey)
            }
            Some(found) => anyhow::bail!(
                "the data directory {} holds format {:?}, this build reads {:?}",
                named.display(),
                String::from_utf8_lossy(&found),
                String::from_utf8_lossy(FORMAT_VERSION)
            ),
        };
        let mut problems = Problems::default();
        if let Some(problem) = mark_problem(&mark_read, ledger.as_ref(), origin) {
            problems.push(problem);
        }
        let importing = ledger.as_ref().is_some_and(|l| l.importing)
            || import::marked(dir)
            || import::marked(named);
        if importing {
            problems.push(
                "an import into this store did not finish: it holds part of what was imported. \
                 Remove the data directory and run the import again"
                    .to_owned(),
            );
        }
        problems.extend(&survey.problems);
        if let Some(ledger) = &ledger {
            survey.compare_with(ledger, &mut problems);
        }
        let inspection = Inspection {
            origin,
            mark: match &mark_read {
                MarkRead::Found { mark, .. } => Some(mark.seq),
                _ => None,
            },
            ledger,
            survey,
            problems,
            importing,
            mark_read,
        };
        Ok((db, inspection))
    }

    /// Writes users and their profiles in large batches into a store that has no users yet,
    /// then makes them durable as one acknowledged write: for loading data sets made elsewhere
    /// (profiles carry precomputed PHC strings). The caller supplies consistent records with
    /// distinct keys.
    pub fn bulk_load(
        &self,
        records: impl IntoIterator<Item = (String, UserRecord, Option<ProfileRecord>)>,
    ) -> StoreResult<usize> {
        const BATCH: u64 = 10_000;
        anyhow::ensure!(
            self.users.is_empty(),
            "bulk loading needs a store without users"
        );
        let (mut users_loaded, mut profiles_loaded) = (0_u64, 0_u64);
        let mut users = sled::Batch::default();
        let mut profiles = sled::Batch::default();
        for (key, user, profile) in records {
            users.insert(key.as_bytes(), user.encode_to_vec());
            if let Some(profile) = profile {
                profiles.insert(key.as_bytes(), profile.encode_to_vec());
                profiles_loaded += 1;
            }
            users_loaded += 1;
            if users_loaded % BATCH == 0 {
                self.users.apply_batch(std::mem::take(&mut users))?;
                self.profiles.apply_batch(std::mem::take(&mut profiles))?;
            }
        }
        self.users.apply_batch(users)?;
        self.profiles.apply_batch(profiles)?;
        let mut ledger = ledger::read(&self.ledger)?.context("the store has no ledger")?;
        ledger.seq += 1;
        ledger.users += users_loaded;
        ledger.profiles += profiles_loaded;
        self.ledger.insert(ledger::KEY, ledger.encode_to_vec())?;
        self.committer
            .make_durable(ledger.seq)
            .context("making the bulk load durable")?;
        Ok(usize::try_from(users_loaded)?)
    }

    fn from_db(db: sled::Db, dir: &Path, mark: MarkFile, durable: u64) -> anyhow::Result<Self> {
        Ok(Self {
            users: db.open_tree("users")?,
            profiles: db.open_tree("profiles")?,
            policy: db.open_tree("policy")?,
            lockouts: db.open_tree("lockouts")?,
            devices: db.open_tree(devices::TREE)?,
            device_index: db.open_tree(devices::INDEX_TREE)?,
            ledger: db.open_tree(ledger::TREE)?,
            committer: Arc::new(Committer::new(db.clone(), dir, mark, durable)?),
            dir: Arc::new(dir.to_owned()),
            db,
            failed: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// Writes `ledger` and this version's format marker in one transaction, and makes them durable
/// (sled's file in `dir` is `fdatasync`ed, as in a commit).
pub(super) fn seal(db: &sled::Db, dir: &Path, ledger: &LedgerRecord) -> anyhow::Result<()> {
    let ledger_tree = db.open_tree(ledger::TREE)?;
    let bytes = ledger.encode_to_vec();
    (&**db, &ledger_tree)
        .transaction(|(meta, ledger)| {
            ledger.insert(ledger::KEY, bytes.as_slice())?;
            meta.insert(FORMAT_KEY, FORMAT_VERSION)?;
            Ok::<_, sled::transaction::ConflictableTransactionError>(())
        })
        .map_err(|e| anyhow::anyhow!("writing the ledger: {e:?}"))?;
    db.flush().context("flushing the ledger")?;
    std::fs::File::open(dir.join("db"))
        .and_then(|log| log.sync_data())
        .context("fdatasync of the sled store's file")
}

/// The mark's verdict on the ledger: None when every acknowledged write is there.
fn mark_problem(read: &MarkRead, ledger: Option<&LedgerRecord>, origin: Origin) -> Option<String> {
    let Some(ledger) = ledger else {
        return Some(
            "the store has lost its ledger (the record of its acknowledged writes)".into(),
        );
    };
    let file = mark::FILE_NAME;
    match read {
        MarkRead::Missing if ledger.seq > 0 => Some(format!(
            "{file} is missing, but the store records {} acknowledged writes: the file was \
             removed, or the directory was restored without it",
            ledger.seq
        )),
        MarkRead::Missing => None,
        MarkRead::Damaged => Some(format!(
            "{file} is damaged: neither of its two records passes its checksum"
        )),
        MarkRead::Found { mark, .. } if mark.seq == 0 => None,
        MarkRead::Found { mark, .. } if origin == Origin::New => Some(format!(
            "{file} says {} writes were acknowledged, but there is no store beside it: its \
             files were removed, or not restored with it",
            mark.seq
        )),
        MarkRead::Found { mark, .. } if origin == Origin::Upgraded => Some(format!(
            "{file} says {} writes were acknowledged, but the store was written by an earlier \
             loginprofiled: it was replaced by an older copy",
            mark.seq
        )),
        MarkRead::Found { mark, .. } if store_id(ledger).ok() != Some(mark.store_id) => {
            Some(format!(
                "{file} belongs to another store (its store id differs): the store or the mark \
                 was copied from elsewhere"
            ))
        }
        MarkRead::Found { mark, .. } if ledger.seq < mark.seq => Some(format!(
            "acknowledged write #{} ({file}), but the store recovered only up to #{}: {} \
             acknowledged write(s) missing (sled drops everything after a damaged or missing \
             part of its log)",
            mark.seq,
            ledger.seq,
            mark.seq - ledger.seq
        )),
        MarkRead::Found { .. } => None,
    }
}

fn store_id(ledger: &LedgerRecord) -> anyhow::Result<[u8; 16]> {
    ledger
        .store_id
        .as_slice()
        .try_into()
        .context("the ledger's store id is not 16 bytes")
}

impl Inspection {
    /// Whether `check --accept-loss` can make this store servable: every record reads and
    /// keeps the invariants, only the account of acknowledged writes disagrees, and no import
    /// was left half done (serving part of an import would lose the rest without a word).
    pub fn loss_can_be_accepted(&self) -> bool {
        self.survey.problems.is_empty() && !self.importing
    }
}

/// The error `serve` stops with when the store lacks acknowledged writes or cannot be read.
fn refusal(dir: &Path, inspection: &Inspection) -> String {
    let survey = &inspection.survey;
    format!(
        "refusing to serve the store in {}: it does not hold everything that was acknowledged, \
         or cannot be read whole (it reads as {} users and {} login profiles)\n{}{}",
        dir.display(),
        survey.users,
        survey.profiles,
        inspection.problems,
        how_to_recover(dir, inspection.loss_can_be_accepted())
    )
}

/// What an operator can do about a store that is refused.
pub(super) fn how_to_recover(dir: &Path, loss_can_be_accepted: bool) -> String {
    let dir = dir.display();
    let mut how = format!(
        "How to recover, with the server stopped:\n  \
         - restore the whole data directory from a backup taken while the server was stopped\n  \
         - `loginprofiled check --data-dir {dir}` reports what is left"
    );
    if loss_can_be_accepted {
        how.push_str(&format!(
            "\n  - to serve what is left and give up what is missing for good: \
             `loginprofiled check --data-dir {dir} --accept-loss`"
        ));
    }
    how
}

/// Says plainly what went wrong: sled reports a held lock as a bare I/O error.
fn open_error(dir: &Path, error: sled::Error) -> anyhow::Error {
    let held = matches!(&error, sled::Error::Io(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        || error.to_string().contains("lock");
    let corrupt = matches!(&error, sled::Error::Corruption { .. });
    let error = anyhow::Error::new(error);
    if held {
        error.context(format!(
            "opening the sled store in {}: another process holds it (only one loginprofiled \
             may use a data directory)",
            dir.display()
        ))
    } else if corrupt {
        error.context(format!(
            "opening the sled store in {}: its log is damaged and sled cannot recover it\n{}",
            dir.display(),
            how_to_recover(dir, false)
        ))
    } else {
        error.context(format!("opening the sled store in {}", dir.display()))
    }
}
