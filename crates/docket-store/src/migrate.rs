//! Schema migrations: one list for both backends, each migration embedded per backend, applied
//! in order when a store opens, each in its own transaction and recorded in
//! `docket_migrations`. Adding a migration is one line in [`MIGRATIONS`] plus its two files.

use docket_app::StoreError;
use jiff::Timestamp;
use sqlx::{PgPool, SqlitePool};

use crate::rows::db_error;

/// One migration, as SQL for each backend.
#[derive(Debug)]
pub(crate) struct Migration {
    /// Its number, from 1, increasing (numbers are reserved per change, so some may be unused).
    pub(crate) version: i64,
    /// Its file name without `.sql`.
    pub(crate) name: &'static str,
    /// The SQLite script (`migrations/sqlite/NAME.sql`).
    pub(crate) sqlite: &'static str,
    /// The PostgreSQL script (`migrations/postgres/NAME.sql`).
    pub(crate) postgres: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

/// Every migration, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_init"),
    migration!(2, "0002_surface_state"),
    migration!(3, "0003_replicas"),
    migration!(4, "0004_step_processes"),
    migration!(5, "0005_step_results"),
    migration!(6, "0006_audit_checkpoints"),
    migration!(7, "0007_token_lifecycle"),
    migration!(8, "0008_outbox_claim_walk"),
    migration!(9, "0009_form_keys"),
    migration!(10, "0010_refusal_answers"),
];

/// The schema version this build writes: the last migration's number.
pub const SCHEMA_VERSION: i64 = match MIGRATIONS.last() {
    Some(m) => m.version,
    None => 0,
};

/// Serializes migrations between replicas starting at once (`pg_advisory_xact_lock` key).
const PG_MIGRATION_LOCK: i64 = 0x646f_636b_6574_0001;

const SQLITE_TABLE: &str = "CREATE TABLE IF NOT EXISTS docket_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
) STRICT";

const PG_TABLE: &str = "CREATE TABLE IF NOT EXISTS docket_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

fn too_new(found: i64) -> StoreError {
    StoreError::Unavailable(format!(
        "the database has schema version {found}, newer than this build of Docket knows ({SCHEMA_VERSION}); \
         upgrade Docket"
    ))
}

/// Applies every migration the SQLite database lacks. Each runs under the single writer.
pub(crate) async fn sqlite(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlx::raw_sql(SQLITE_TABLE).execute(pool).await.map_err(db_error)?;
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM docket_migrations").fetch_one(pool).await.map_err(db_error)?;
    if let Some(found) = newest.filter(|v| *v > SCHEMA_VERSION) {
        return Err(too_new(found));
    }
    for m in MIGRATIONS {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        let applied: Option<i64> = sqlx::query_scalar("SELECT version FROM docket_migrations WHERE version = ?")
            .bind(m.version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if applied.is_some() {
            continue;
        }
        sqlx::raw_sql(m.sqlite).execute(&mut *tx).await.map_err(db_error)?;
        sqlx::query("INSERT INTO docket_migrations (version, name, applied_at) VALUES (?, ?, ?)")
            .bind(m.version)
            .bind(m.name)
            .bind(Timestamp::now().to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        tracing::info!(version = m.version, name = m.name, "applied SQLite migration");
    }
    Ok(())
}

/// Applies every migration the PostgreSQL database lacks, under an advisory lock so replicas
/// starting together apply each migration once.
pub(crate) async fn postgres(pool: &PgPool) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db_error)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PG_MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    sqlx::raw_sql(PG_TABLE).execute(&mut *tx).await.map_err(db_error)?;
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM docket_migrations").fetch_one(&mut *tx).await.map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    if let Some(found) = newest.filter(|v| *v > SCHEMA_VERSION) {
        return Err(too_new(found));
    }
    for m in MIGRATIONS {
        let mut tx = pool.begin().await.map_err(db_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let applied: Option<i64> = sqlx::query_scalar("SELECT version FROM docket_migrations WHERE version = $1")
            .bind(m.version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if applied.is_some() {
            continue;
        }
        sqlx::raw_sql(m.postgres).execute(&mut *tx).await.map_err(db_error)?;
        sqlx::query("INSERT INTO docket_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(Timestamp::now().to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        tracing::info!(version = m.version, name = m.name, "applied PostgreSQL migration");
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_named_after_their_files() {
        let mut previous = 0;
        for m in MIGRATIONS {
            assert!(m.version > previous, "{} is not numbered after the one before it", m.name);
            previous = m.version;
            assert!(m.name.starts_with(&format!("{:04}_", m.version)), "{}", m.name);
            assert!(!m.sqlite.trim().is_empty() && !m.postgres.trim().is_empty(), "{}", m.name);
        }
        assert_eq!(SCHEMA_VERSION, previous);
    }

    /// A token made before tokens had ids keeps working: it gets an id from its hash, never
    /// expires, and says its maker is unknown.
    #[tokio::test]
    async fn tokens_made_before_the_lifecycle_get_an_id_and_no_expiry() {
        let pool = SqlitePool::connect("sqlite::memory:").await.unwrap();
        for m in MIGRATIONS.iter().filter(|m| m.version < 7) {
            sqlx::raw_sql(m.sqlite).execute(&pool).await.unwrap();
        }
        sqlx::query("INSERT INTO api_tokens (hash, person, name, created_at) VALUES (?, 'alice', 'laptop', ?)")
            .bind("ab".repeat(32))
            .bind("2026-01-05T09:00:00Z")
            .execute(&pool)
            .await
            .unwrap();
        let lifecycle = MIGRATIONS.iter().find(|m| m.version == 7).unwrap();
        sqlx::raw_sql(lifecycle.sqlite).execute(&pool).await.unwrap();
        let sql = format!("SELECT {} FROM api_tokens", crate::rows::TOKEN_COLUMNS);
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&pool).await.unwrap();
        let token = crate::rows::api_token(&row).unwrap();
        assert_eq!(token.id, "tok_abababababababab");
        assert_eq!((token.expires_at, token.revoked, token.agent), (None, None, None));
        assert!(token.created_by.starts_with("unknown"), "{}", token.created_by);
    }

    /// The surface state migration `version` leaves of `entries` (scope, key) written just
    /// before it, by scope and key.
    async fn state_after(version: i64, entries: &[(&str, &str)]) -> Vec<(String, String)> {
        let pool = SqlitePool::connect("sqlite::memory:").await.unwrap();
        for m in MIGRATIONS.iter().filter(|m| m.version < version) {
            sqlx::raw_sql(m.sqlite).execute(&pool).await.unwrap();
        }
        for (scope, key) in entries {
            sqlx::query("INSERT INTO surface_state (scope, key, value, updated_ns) VALUES (?, ?, 'DKT-1', 1)")
                .bind(scope)
                .bind(key)
                .execute(&pool)
                .await
                .unwrap();
        }
        let migration = MIGRATIONS.iter().find(|m| m.version == version).unwrap();
        sqlx::raw_sql(migration.sqlite).execute(&pool).await.unwrap();
        sqlx::query_as("SELECT scope, key FROM surface_state ORDER BY scope, key").fetch_all(&pool).await.unwrap()
    }

    /// Request forms' keys kept before they had scopes of their own: the web's move to
    /// `web.forms` as they are; Teams' old per-card keys go; nothing else is touched.
    #[tokio::test]
    async fn form_keys_move_to_scopes_of_their_own() {
        let rows = state_after(
            9,
            &[
                ("web", "form:alice:abc"),
                ("web", "session:xyz"),
                ("teams", "form:1700000000000"),
                ("teams", "person:alice"),
                ("api", "form:not-a-form"),
            ],
        )
        .await;
        let rows: Vec<(&str, &str)> = rows.iter().map(|(s, k)| (s.as_str(), k.as_str())).collect();
        assert_eq!(
            rows,
            [
                ("api", "form:not-a-form"),
                ("teams", "person:alice"),
                ("web", "session:xyz"),
                ("web.forms", "form:alice:abc")
            ]
        );
    }

    /// The answers to refused decisions move to their systems' `.refused` scopes; the issue
    /// and record links beside them stay.
    #[tokio::test]
    async fn refusal_answers_move_to_scopes_of_their_own() {
        let rows = state_after(
            10,
            &[
                ("jira", "refused:DKT-1:alice:own_ticket"),
                ("jira", "issue:DKT-1"),
                ("servicenow", "refused:DKT-2:mallory:unknown"),
                ("servicenow", "record:DKT-2"),
                ("slack", "refused:not-an-answer"),
            ],
        )
        .await;
        let rows: Vec<(&str, &str)> = rows.iter().map(|(s, k)| (s.as_str(), k.as_str())).collect();
        assert_eq!(
            rows,
            [
                ("jira", "issue:DKT-1"),
                ("jira.refused", "refused:DKT-1:alice:own_ticket"),
                ("servicenow", "record:DKT-2"),
                ("servicenow.refused", "refused:DKT-2:mallory:unknown"),
                ("slack", "refused:not-an-answer")
            ]
        );
    }
}
