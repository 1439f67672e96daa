//! PostgreSQL behind the [`Store`] trait, for several `serve` processes on one database. Every
//! rule the trait states holds across processes because the database enforces it: primary keys
//! make names unique and allow one profile per user, a foreign key keeps profiles with their
//! users, and each write is one statement or one transaction, committed (synchronously, as the
//! server is configured) before it returns.

use std::{fmt, sync::Arc, time::Duration};

use anyhow::Context as _;
use sqlx::{
    ConnectOptions as _, PgConnection, PgPool, Row as _,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use super::{
    DeleteProfile, DeleteUser, InsertProfile, InsertUser, LockoutRecord, LockoutUpdate,
    PolicyRecord, ProfileLookup, ProfileRecord, ReplaceProfile, ReplaceUser, Store, StoreResult,
    UserPage, UserRecord,
};

mod devices;
mod errors;
mod import;
mod link;
mod lockout;
mod read_all;
mod rows;
mod schema;
mod url;
mod users;

pub use errors::Fault;
use errors::{
    Failure, Idempotence, is_foreign_key_violation, is_unique_violation, retrying,
    violates_device_key,
};
use link::Link;
use rows::{LOCKOUT_COLUMNS, POLICY_COLUMNS, PROFILE_COLUMNS, USER_COLUMNS};
pub use schema::newest_known as newest_schema_version;
pub use url::DatabaseUrl;

/// A pooled connection idle this long is pinged before it is handed out.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct PgConfig {
    pub url: DatabaseUrl,
    pub max_connections: u32,
    /// Bounds making a connection, and waiting for one from the pool.
    pub connect_timeout: Duration,
    /// Set on every connection: a statement running longer is cancelled.
    pub statement_timeout: Duration,
    /// The PostgreSQL schema the tables live in (a plain lower-case identifier, checked by
    /// the configuration): every connection's search_path.
    pub schema: String,
}

impl PgConfig {
    fn options(&self) -> PgConnectOptions {
        self.url
            .connect_options()
            .application_name("loginprofiled")
            .options([
                (
                    "statement_timeout",
                    format!("{}ms", self.statement_timeout.as_millis()),
                ),
                // Only this schema: the tables never mix with another application's.
                ("search_path", self.schema.clone()),
                // The server's notices (such as "relation _sqlx_migrations already exists,
                // skipping" on every start) would reach the log at INFO; warnings still do.
                ("client_min_messages", "warning".to_owned()),
            ])
            .log_statements(tracing::log::LevelFilter::Trace)
    }

    /// One connection, made within the connect timeout; the error says where it tried (never
    /// with the password) and why.
    async fn connect_once(&self) -> anyhow::Result<PgConnection> {
        let options = self.options();
        let where_to = format!("the database at {}", self.url);
        match tokio::time::timeout(self.connect_timeout, options.connect()).await {
            // The driver's message already names its cause: no chain, or it says it twice.
            Ok(connected) => {
                connected.map_err(|e| anyhow::anyhow!("connecting to {where_to}: {e}"))
            }
            Err(_) => anyhow::bail!(
                "connecting to {where_to}: no answer within {}",
                humantime::format_duration(self.connect_timeout)
            ),
        }
    }
}

/// Applies pending migrations and returns: `loginprofiled migrate`.
pub(super) async fn migrate(config: &PgConfig) -> anyhow::Result<()> {
    let mut conn = config.connect_once().await?;
    let migrated = schema::migrate(&mut conn, &config.schema).await;
    schema::close(conn).await;
    migrated
}

/// PostgreSQL-backed [`Store`]. Cloning is shallow: clones share the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    link: Arc<Link>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects (a clear error within the connect timeout when the database cannot be reached
    /// or refuses the login), brings the schema up to date, and opens the pool, whose
    /// connections are made as calls need them. Blocks; call it where blocking is allowed,
    /// inside a tokio runtime (the pool's upkeep runs there).
    pub fn open(config: &PgConfig) -> anyhow::Result<Self> {
        // The one-off migration connection runs on a runtime of its own, so that `open` works
        // from async and blocking callers alike.
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .context("starting a runtime to migrate on")?
                        .block_on(migrate(config))
                })
                .join()
                .map_err(|_| anyhow::anyhow!("the migrating thread panicked"))?
        })?;
        let link = Arc::new(Link::new(config.clone()));
        let on_acquire = Arc::clone(&link);
        let on_release = Arc::clone(&link);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .min_connections(0)
            .acquire_timeout(config.connect_timeout)
            // sqlx pings every connection it hands out, a round trip as dear as the statement
            // that follows. A connection back from use a moment ago was pinged on its return
            // (sqlx always does that), so only one that sat idle is checked: one broken
            // meanwhile (a database restart) is then replaced instead of failing a call. One
            // made before a connection was lost or answered read-only is closed unused.
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                let link = Arc::clone(&on_acquire);
                Box::pin(async move {
                    if !link.trusts(&meta) {
                        return Ok(false);
                    }
                    if meta.idle_for >= PING_WHEN_IDLE_FOR {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_release(move |_conn, meta| {
                let keep = on_release.trusts(&meta);
                Box::pin(async move { Ok(keep) })
            })
            .connect_lazy_with(config.options());
        Ok(Self { pool, link })
    }

    /// A pooled connection; at once an error while the database is known to be down.
    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, Failure> {
        self.link.pass().await.map_err(Failure::Down)?;
        self.pool.acquire().await.map_err(Failure::Acquire)
    }

    /// A transaction on a pooled connection, as [`PgStore::conn`].
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, Failure> {
        self.link.pass().await.map_err(Failure::Down)?;
        self.pool.begin().await.map_err(Failure::Acquire)
    }

    /// Runs a read through [`retrying`]: tried once more on a fresh connection if its
    /// connection is lost.
    async fn read<T, F, Fut>(&self, what: &'static str, op: F) -> StoreResult<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        retrying(&self.link, Idempotence::Read, what, op).await
    }

    /// Runs a write through [`retrying`]: never tried again once it may have committed.
    async fn write<T, F, Fut>(&self, what: &'static str, op: F) -> StoreResult<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        retrying(&self.link, Idempotence::Write, what, op).await
    }

    async fn replace_user_once(
        &self,
        key: &str,
        new_key: &str,
        expected: &UserRecord,
        user: &UserRecord,
    ) -> Result<ReplaceUser, Failure> {
        let mut tx = self.begin().await?;
        let stored = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.user_key = $1 FOR UPDATE"
        ))
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(stored) = stored else {
            return Ok(ReplaceUser::NoUser);
        };
        if rows::user(&stored)? != *expected {
            return Ok(ReplaceUser::Stale);
        }
        // A new key updates the primary key; the profile and the devices follow by ON UPDATE
        // CASCADE.
        let updated = sqlx::query(
            "UPDATE users SET user_key = $2, user_name = $3, user_id = $4, path = $5, \
             create_date_ms = $6, password_last_used_ms = $7, tags = $8 WHERE user_key = $1",
        )
        .bind(key)
        .bind(new_key)
        .bind(&user.user_name)
        .bind(&user.user_id)
        .bind(&user.path)
        .bind(user.create_date_ms)
        .bind(user.password_last_used_ms)
        .bind(rows::tags(user))
        .execute(&mut *tx)
        .await;
        match updated {
            Err(e) if is_unique_violation(&e) => return Ok(ReplaceUser::NameTaken),
            other => other?,
        };
        if new_key != key {
            // A lockout state left under the new key by an unknown name's failures is
            // replaced: the state that counts is the one of the user who now has the name.
            sqlx::query("DELETE FROM lockouts WHERE user_key = $1")
                .bind(new_key)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE lockouts SET user_key = $2 WHERE user_key = $1")
                .bind(key)
                .bind(new_key)
                .execute(&mut *tx)
                .await?;
            // A replacement of a moved device read before the rename would put the old key
            // back: its version moves on, so that it is stale.
            sqlx::query("UPDATE mfa_devices SET version = version + 1 WHERE user_key = $1")
                .bind(new_key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ReplaceUser::Replaced)
    }

    async fn replace_profile_once(
        &self,
        key: &str,
        expected_version: u64,
        profile: &ProfileRecord,
    ) -> Result<ReplaceProfile, Failure> {
        let mut conn = self.conn().await?;
        // One statement, one snapshot: the update and what explains a miss.
        let row = sqlx::query(
            "WITH replaced AS ( \
               UPDATE login_profiles SET password_hash = $3, create_date_ms = $4, \
                 password_reset_required = $5, password_set_ms = $6, previous_hashes = $7, \
                 version = $8 \
               WHERE user_key = $1 AND version = $2 RETURNING 1) \
             SELECT EXISTS (SELECT 1 FROM replaced) AS replaced, \
               EXISTS (SELECT 1 FROM users WHERE user_key = $1) AS has_user, \
               EXISTS (SELECT 1 FROM login_profiles WHERE user_key = $1) AS has_profile",
        )
        .bind(key)
        .bind(rows::version(expected_version)?)
        .bind(&profile.password_hash)
        .bind(profile.create_date_ms)
        .bind(profile.password_reset_required)
        .bind(profile.password_set_ms)
        .bind(&profile.previous_hashes)
        .bind(rows::version(profile.version)?)
        .fetch_one(&mut *conn)
        .await?;
        Ok(
            match (
                row.try_get::<bool, _>("replaced")?,
                row.try_get::<bool, _>("has_user")?,
                row.try_get::<bool, _>("has_profile")?,
            ) {
                (true, _, _) => ReplaceProfile::Replaced,
                (false, false, _) => ReplaceProfile::NoUser,
                (false, true, false) => ReplaceProfile::NoProfile,
                (false, true, true) => ReplaceProfile::Stale,
            },
        )
    }
}

/// Records a successful sign-in at `at_ms` as the user's last use (no user: nothing).
async fn stamp_last_use(conn: &mut PgConnection, key: &str, at_ms: i64) -> Result<(), Failure> {
    sqlx::query("UPDATE users SET password_last_used_ms = $2 WHERE user_key = $1")
        .bind(key)
        .bind(at_ms)
        .execute(conn)
        .await?;
    Ok(())
}

/// The primary-key SELECT behind [`Store::profile`] (GetLoginProfile, VerifyPassword).
fn profile_lookup_sql() -> String {
    format!(
        "SELECT {USER_COLUMNS}, {PROFILE_COLUMNS} FROM users u \
         LEFT JOIN login_profiles p ON p.user_key = u.user_key WHERE u.user_key = $1"
    )
}

impl PgStore {
    /// Runs [`Store::profile`]'s SELECT for `key` once on this store's pool, without decoding
    /// the row or retrying: the database's share of a Get, for the bench's ceiling. True when a
    /// row came back.
    pub async fn profile_lookup_only(&self, key: &str) -> anyhow::Result<bool> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(&profile_lookup_sql())
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(row.is_some())
    }
}

mod store_impl;
