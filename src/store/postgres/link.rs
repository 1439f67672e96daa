//! What this process knows about its link to the database: whether it is down (so that calls
//! fail at once instead of each waiting for the connect timeout), whether it answers read-only,
//! and which pooled connections are no longer to be trusted (those made before a connection was
//! lost, a read-only answer, or the database coming back).

use std::{
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use sqlx::{Row as _, pool::PoolConnectionMetadata};

use super::{PgConfig, schema};
use crate::store::Unavailable;

/// While the database is known to be down, how long a call may spend finding out whether it is
/// back (one connection attempt, shared with the calls arriving meanwhile) before failing.
const DOWN_BUDGET: Duration = Duration::from_millis(80);
/// The longest the health probe waits for its connection and its query.
const PROBE_BUDGET: Duration = Duration::from_secs(1);

/// The link's state, shared by the store's clones.
#[derive(Debug)]
pub(super) struct Link {
    config: PgConfig,
    /// The origin of the microsecond counts below.
    base: Instant,
    /// Pooled connections made at or before this moment (microseconds after `base`) are closed
    /// instead of used: they may be dead, or sessions of a primary that is now read-only.
    distrust_before_us: AtomicU64,
    /// Set when a connection could not be made or was lost; cleared by a connection made since.
    down: AtomicBool,
    /// Set while the health probe's fresh session answers read-only.
    read_only: AtomicBool,
    /// One connection attempt at a time while down; the others wait for its answer.
    trying: tokio::sync::Mutex<()>,
}

impl Link {
    pub(super) fn new(config: PgConfig) -> Self {
        Self {
            config,
            base: Instant::now(),
            distrust_before_us: AtomicU64::new(0),
            down: AtomicBool::new(false),
            read_only: AtomicBool::new(false),
            trying: tokio::sync::Mutex::new(()),
        }
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Every pooled connection made until now is closed instead of used again.
    pub(super) fn distrust_existing(&self) {
        self.distrust_before_us
            .fetch_max(self.now_us(), Ordering::SeqCst);
    }

    /// Whether a pooled connection of this age may be used (or kept) still.
    pub(super) fn trusts(&self, meta: &PoolConnectionMetadata) -> bool {
        let made_at = self
            .now_us()
            .saturating_sub(u64::try_from(meta.age.as_micros()).unwrap_or(u64::MAX));
        made_at > self.distrust_before_us.load(Ordering::SeqCst)
    }

    /// A connection was lost, or one could not be made for the probe: the pooled ones are not
    /// trusted (they belong to a server that went away), and calls fail fast until a
    /// connection is made again.
    pub(super) fn lost(&self) {
        self.distrust_existing();
        self.suspect();
    }

    /// No connection could be had in time: perhaps the database is down, perhaps only the pool
    /// is busy. The next call finds out with one connection attempt; the pooled connections
    /// stay (closing them under load would only add to it).
    pub(super) fn suspect(&self) {
        self.down.store(true, Ordering::SeqCst);
    }

    /// Returns at once while the database is not known to be down. While it is, one call at a
    /// time tries a connection (the others wait for its answer): made, the database is back
    /// and the call goes on; otherwise the call fails, all within [`DOWN_BUDGET`].
    pub(super) async fn pass(&self) -> anyhow::Result<()> {
        if !self.down.load(Ordering::SeqCst) {
            return Ok(());
        }
        let tried = tokio::time::timeout(DOWN_BUDGET, async {
            let _turn = self.trying.lock().await;
            if !self.down.load(Ordering::SeqCst) {
                return Ok::<_, anyhow::Error>(());
            }
            let conn = self.config.connect_once().await?;
            schema::close(conn).await;
            self.back();
            Ok(())
        })
        .await;
        match tried {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(error
                .context("the database was down and still is")
                .context(Unavailable)),
            Err(_) => Err(anyhow::anyhow!(
                "the database is down: no connection within {}ms",
                DOWN_BUDGET.as_millis()
            )
            .context(Unavailable)),
        }
    }

    /// A connection was made after the database was down: calls go through again. (The
    /// connections pooled before a loss were distrusted when it was seen.)
    fn back(&self) {
        if self.down.swap(false, Ordering::SeqCst) {
            tracing::info!("the database answers again");
        }
    }

    /// Whether writes can succeed: a new session (as a failover or a changed setting shows only
    /// to new sessions) connects and answers read-write. Unavailable when not; a change either
    /// way takes effect for the calls at once.
    pub(super) async fn probe(&self) -> anyhow::Result<()> {
        let budget = PROBE_BUDGET.min(self.config.connect_timeout);
        let probed = tokio::time::timeout(budget, async {
            let mut conn = match self.config.connect_once().await {
                Ok(conn) => conn,
                Err(error) => {
                    self.lost();
                    return Err(error);
                }
            };
            self.back();
            let read_only = sqlx::query(
                "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'",
            )
            .fetch_one(&mut conn)
            .await
            .and_then(|row| row.try_get::<bool, _>(0))
            .context("asking the database whether it accepts writes");
            schema::close(conn).await;
            read_only
        })
        .await
        .unwrap_or_else(|_| {
            self.lost();
            Err(anyhow::anyhow!(
                "the database did not answer the health probe within {}ms",
                budget.as_millis()
            ))
        });
        match probed {
            Ok(false) => {
                if self.read_only.swap(false, Ordering::SeqCst) {
                    // The pooled sessions were made read-only; new ones are not.
                    self.distrust_existing();
                }
                Ok(())
            }
            Ok(true) => {
                self.read_only.store(true, Ordering::SeqCst);
                Err(anyhow::anyhow!(
                    "the database answers read-only (a failover under way, or \
                     default_transaction_read_only); writes cannot succeed"
                )
                .context(Unavailable))
            }
            Err(error) => Err(error.context(Unavailable)),
        }
    }
}
