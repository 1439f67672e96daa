//! The schema: versioned migrations embedded in the binary (`migrations/`), applied under
//! sqlx's PostgreSQL advisory lock so that replicas starting at once apply each one once.

use anyhow::Context as _;
use sqlx::{Connection as _, PgConnection, Row as _, migrate::Migrator};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The newest schema version this binary knows.
pub fn newest_known() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Refuses a database whose schema is newer than this binary knows, then applies the pending
/// migrations. The connection is used for nothing else (the advisory lock is the session's).
pub(super) async fn migrate(conn: &mut PgConnection) -> anyhow::Result<()> {
    // Waiting for another replica's migration must not trip the statement timeout.
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await
        .context("preparing to migrate the schema")?;
    refuse_newer(conn).await?;
    MIGRATOR
        .run_direct(&mut *conn)
        .await
        .context("applying the schema migrations")?;
    Ok(())
}

/// An error when the database has migrations applied that this binary does not have.
async fn refuse_newer(conn: &mut PgConnection) -> anyhow::Result<()> {
    let exists: bool = sqlx::query("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await
        .context("reading the schema version")?
        .try_get(0)?;
    if !exists {
        return Ok(());
    }
    let newest: Option<i64> = sqlx::query("SELECT max(version) FROM _sqlx_migrations")
        .fetch_one(&mut *conn)
        .await
        .context("reading the schema version")?
        .try_get(0)?;
    let known = newest_known();
    match newest {
        Some(newest) if newest > known => anyhow::bail!(
            "the database's schema is at version {newest}, newer than this binary knows \
             (version {known}); run a loginprofiled at least as new as the one that migrated it"
        ),
        _ => Ok(()),
    }
}

/// Closes a connection politely; a failure to say goodbye changes nothing.
pub(super) async fn close(conn: PgConnection) {
    let _ = conn.close().await;
}
