//! How an acknowledged write is made: one transaction that also counts it in the ledger, then a
//! group commit that makes it durable and advances the mark past it, sharing the disk flushes
//! among the writers that wait at the same time.
//!
//! One waiting writer at a time leads a round: it takes the highest write number registered so
//! far, flushes sled, `fdatasync`s sled's file (sled's own flush only `sync_file_range`s what it
//! wrote, which commits neither the file's size nor the drive's cache), then writes the mark.
//! Writers that arrive meanwhile wait for the next round, which covers all of them.

use std::{
    fs::File,
    path::Path,
    sync::{Condvar, Mutex, MutexGuard, PoisonError, atomic::Ordering},
};

use anyhow::Context as _;
use sled::{
    Transactional as _,
    transaction::{TransactionError, TransactionalTree},
};

use super::{
    SledStore, TxResult,
    ledger::{self, Change},
    mark::MarkFile,
};
use crate::store::StoreResult;

/// The trees a write transaction sees.
pub(super) struct Trees<'a> {
    pub(super) users: &'a TransactionalTree,
    pub(super) profiles: &'a TransactionalTree,
    pub(super) policy: &'a TransactionalTree,
    /// Written by a rename only, which moves the lockout state with the user.
    pub(super) lockouts: &'a TransactionalTree,
    pub(super) devices: &'a TransactionalTree,
    /// The keys of each user's devices, under the user's key (see `devices`).
    pub(super) device_index: &'a TransactionalTree,
    /// Read only (by an import, to see that the store is empty); `write` updates it.
    pub(super) ledger: &'a TransactionalTree,
}

impl SledStore {
    /// Runs `body` as one transaction over the users, profiles, policy, lockouts, devices and
    /// device index trees. When it
    /// returns a change, the ledger counts it in the same transaction; the write's number is
    /// returned, to pass to [`SledStore::acknowledge`] before the caller is answered.
    pub(super) fn write<T>(
        &self,
        body: impl Fn(&Trees<'_>) -> TxResult<(T, Option<Change>)>,
    ) -> StoreResult<(T, Option<u64>)> {
        (
            &self.users,
            &self.profiles,
            &self.policy,
            &self.lockouts,
            &self.devices,
            &self.device_index,
            &self.ledger,
        )
            .transaction(
                |(users, profiles, policy, lockouts, devices, device_index, ledger)| {
                    let trees = Trees {
                        users,
                        profiles,
                        policy,
                        lockouts,
                        devices,
                        device_index,
                        ledger,
                    };
                    let (outcome, change) = body(&trees)?;
                    let seq = change
                        .map(|change| ledger::record(ledger, change))
                        .transpose()?;
                    Ok((outcome, seq))
                },
            )
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => self.watch::<()>(Err(e)).unwrap_err(),
            })
    }

    /// Runs `body` as [`SledStore::write`] does, then returns once the write (if it changed
    /// anything) is on disk and the acknowledged-write mark covers it. Blocks: run it on the
    /// blocking pool.
    pub(super) fn write_acknowledged<T>(
        &self,
        body: impl Fn(&Trees<'_>) -> TxResult<(T, Option<Change>)>,
    ) -> StoreResult<T> {
        let (outcome, seq) = self.write(body)?;
        self.acknowledge(seq)?;
        Ok(outcome)
    }

    /// Returns once write `seq` (if any) is on disk and the acknowledged-write mark covers it;
    /// writers waiting at once share the disk flushes. Blocks.
    pub(super) fn acknowledge(&self, seq: Option<u64>) -> StoreResult<()> {
        let Some(seq) = seq else {
            return Ok(());
        };
        let durable = self.committer.make_durable(seq);
        if durable.is_err() {
            // The write may or may not be on disk, and sled's state after a failed flush
            // cannot be trusted: stop acknowledging until the process reopens the store.
            self.failed.store(true, Ordering::SeqCst);
        }
        durable
    }
}

/// Durability for acknowledged writes, shared by every handle on one store.
#[derive(Debug)]
pub(super) struct Committer {
    db: sled::Db,
    /// sled's log file, for `fdatasync`.
    log: File,
    state: Mutex<State>,
    round_done: Condvar,
}

#[derive(Debug)]
struct State {
    mark: MarkFile,
    /// The mark on disk: every write up to it is durable.
    durable: u64,
    /// The highest write number a writer waits for.
    wanted: u64,
    leading: bool,
}

impl Committer {
    /// `durable` is the mark as it stands on disk.
    pub(super) fn new(
        db: sled::Db,
        dir: &Path,
        mark: MarkFile,
        durable: u64,
    ) -> anyhow::Result<Self> {
        let log = File::open(dir.join("db")).context("opening sled's log file for fdatasync")?;
        Ok(Self {
            db,
            log,
            state: Mutex::new(State {
                mark,
                durable,
                wanted: durable,
                leading: false,
            }),
            round_done: Condvar::new(),
        })
    }

    /// Blocks until write `seq`, already committed to sled, is on disk and the mark covers it.
    /// An error means it may not be: the write must not be acknowledged.
    pub(super) fn make_durable(&self, seq: u64) -> anyhow::Result<()> {
        let mut state = self.lock();
        state.wanted = state.wanted.max(seq);
        loop {
            if state.durable >= seq {
                return Ok(());
            }
            if state.leading {
                state = self
                    .round_done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.leading = true;
            let target = state.wanted;
            drop(state);
            // Every write numbered up to `target` was committed to sled before its writer
            // registered, so this flush covers them all.
            let flushed = self.flush_log();
            state = self.lock();
            let advanced = flushed.and_then(|()| {
                state
                    .mark
                    .advance(target)
                    .context("writing the acknowledged-write mark")
            });
            state.leading = false;
            self.round_done.notify_all();
            advanced?;
            state.durable = target;
        }
    }

    fn flush_log(&self) -> anyhow::Result<()> {
        self.db.flush().context("flushing the sled store")?;
        self.log
            .sync_data()
            .context("fdatasync of the sled store's file")
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half-changed: each field is set whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
