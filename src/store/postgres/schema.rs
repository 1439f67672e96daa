//! The schema: versioned migrations embedded in the binary (`migrations/`), applied under
//! sqlx's PostgreSQL advisory lock so that replicas starting at once apply each one once, in a
//! PostgreSQL schema of their own (`--database-schema`), which the migration step creates.

use anyhow::Context as _;
use sqlx::{Connection as _, PgConnection, Row as _, migrate::Migrator};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The newest schema version this binary knows.
pub fn newest_known() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The tables the first migration makes: what an earlier loginprofiled, which had no schema of
/// its own, left in `public` at least.
const FIRST_TABLES: [&str; 4] = [
    "users",
    "login_profiles",
    "account_password_policy",
    "lockouts",
];
/// The tables the migrations make, which a migrated schema must hold.
const TABLES: [&str; 5] = [
    "users",
    "login_profiles",
    "account_password_policy",
    "lockouts",
    "mfa_devices",
];
/// Serialises the creation (or adoption) of the schema between replicas starting at once.
const SCHEMA_LOCK: i64 = 0x6c70_645f_7363_6865; // "lpd_sche"

/// Creates the schema `schema` (the connection's search_path) if missing, refuses a database
/// whose schema is newer than this binary knows, applies the pending migrations, and refuses
/// a schema whose migration record and tables disagree. The connection is used for nothing
/// else (the advisory lock is the session's).
pub(super) async fn migrate(conn: &mut PgConnection, schema: &str) -> anyhow::Result<()> {
    // Waiting for another replica's migration must not trip the statement timeout.
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await
        .context("preparing to migrate the schema")?;
    create_schema(conn, schema).await?;
    refuse_newer(conn).await?;
    MIGRATOR
        .run_direct(&mut *conn)
        .await
        .context("applying the schema migrations")?;
    refuse_disagreeing(conn, schema).await
}

/// Creates `schema`, or adopts the tables an earlier loginprofiled made in `public` (it had no
/// schema of its own) when `schema` does not exist yet: they move, with their migration
/// record, in one transaction. Recognised by the checksum of the first migration.
async fn create_schema(conn: &mut PgConnection, schema: &str) -> anyhow::Result<()> {
    let mut tx = conn.begin().await.context("creating the schema")?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SCHEMA_LOCK)
        .execute(&mut *tx)
        .await
        .context("creating the schema")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(schema)
            .fetch_one(&mut *tx)
            .await
            .context("creating the schema")?;
    if exists {
        return Ok(());
    }
    // The schema name is a checked plain identifier (see the configuration).
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut *tx)
        .await
        .with_context(|| format!("creating the schema {schema}"))?;
    if schema != "public" && earlier_tables_in_public(&mut tx).await? {
        // Every table its migrations made: the first one's, and any later one's it applied.
        for table in TABLES.iter().chain(&["_sqlx_migrations"]) {
            if !table_exists(&mut tx, &format!("public.{table}")).await? {
                continue;
            }
            sqlx::query(&format!("ALTER TABLE public.{table} SET SCHEMA {schema}"))
                .execute(&mut *tx)
                .await
                .with_context(|| format!("moving public.{table} into the schema {schema}"))?;
        }
        tracing::warn!(
            schema,
            "moved the tables an earlier loginprofiled made in the schema public into {schema}"
        );
    }
    tx.commit().await.context("creating the schema")
}

/// Whether `public` holds the tables of an earlier loginprofiled: its migration record names
/// our first migration with the same checksum, and every table is there.
async fn earlier_tables_in_public(conn: &mut PgConnection) -> anyhow::Result<bool> {
    let Some(first) = MIGRATOR.iter().find(|m| m.version == 1) else {
        return Ok(false);
    };
    let recorded: Option<Vec<u8>> = if table_exists(conn, "public._sqlx_migrations").await? {
        sqlx::query_scalar("SELECT checksum FROM public._sqlx_migrations WHERE version = 1")
            .fetch_optional(&mut *conn)
            .await
            .context("reading the schema public's migration record")?
    } else {
        None
    };
    if recorded.as_deref() != Some(&first.checksum[..]) {
        return Ok(false);
    }
    for table in FIRST_TABLES {
        if !table_exists(conn, &format!("public.{table}")).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn table_exists(conn: &mut PgConnection, name: &str) -> anyhow::Result<bool> {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("looking for the table {name}"))
}

/// An error when the migration record says the schema is migrated but a table it made is
/// missing (dropped by hand, or a record copied without its tables).
async fn refuse_disagreeing(conn: &mut PgConnection, schema: &str) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    for table in TABLES {
        if !table_exists(conn, &format!("{schema}.{table}")).await? {
            missing.push(table);
        }
    }
    anyhow::ensure!(
        missing.is_empty(),
        "the schema {schema} disagrees with its migration record: it says version {} was \
         applied, but the table(s) {} are missing; restore the database from a backup, or drop \
         the schema {schema} to start empty",
        newest_known(),
        missing.join(", ")
    );
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
