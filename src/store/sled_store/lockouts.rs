//! Lockout states: single-key compare-and-swap outside the write transactions (their
//! durability may be deferred), and the scan that prunes forgotten ones.

use prost::Message;
use sled::IVec;

use super::SledStore;
use crate::store::{LockoutRecord, StoreResult};

/// The outcome of one compare-and-swap on a lockout state.
pub(super) enum Swap {
    Stored,
    /// Another writer came first; this is what it stored.
    Conflict(Option<IVec>),
}

impl SledStore {
    /// The stored lockout state of `key`, as bytes (None: the default state).
    pub(super) fn lockout_bytes(&self, key: &str) -> StoreResult<Option<IVec>> {
        Ok(self.lockouts.get(key)?)
    }

    /// Stores `next` (None: the default state, removed) if the state is still `current`.
    /// Blocks.
    pub(super) fn swap_lockout(
        &self,
        key: &str,
        current: Option<IVec>,
        next: Option<Vec<u8>>,
    ) -> StoreResult<Swap> {
        Ok(
            match self.watch(self.lockouts.compare_and_swap(key, current, next))? {
                Ok(()) => Swap::Stored,
                Err(conflict) => Swap::Conflict(conflict.current),
            },
        )
    }

    /// Removes the states that are forgotten at `now_ms`; see `Store::prune_lockouts`. Blocks:
    /// it reads every state.
    pub(super) fn prune_lockouts_now(
        &self,
        now_ms: i64,
        forget_before_ms: i64,
    ) -> StoreResult<usize> {
        let mut removed = 0;
        for entry in self.lockouts.iter() {
            let (key, bytes) = entry?;
            let stale = LockoutRecord::decode(&*bytes).map_or(true, |s| {
                s.locked_until_ms <= now_ms
                    && s.last_failure_ms < forget_before_ms
                    && s.in_flight.iter().all(|a| a.lease_until_ms <= now_ms)
            });
            // Compare-and-swap: a failure recorded since the read keeps the entry.
            if stale
                && self
                    .lockouts
                    .compare_and_swap(&key, Some(bytes), None as Option<&[u8]>)?
                    .is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// A stored state; one that fails to decode counts as no failures rather than blocking sign-in.
pub(super) fn decode(bytes: Option<&[u8]>) -> LockoutRecord {
    bytes
        .and_then(|b| LockoutRecord::decode(b).ok())
        .unwrap_or_default()
}
