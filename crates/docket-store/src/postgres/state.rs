//! Surface state on PostgreSQL: small keyed values the chat and web surfaces keep between
//! requests, shared by every replica.

use docket_app::StoreError;
use jiff::Timestamp;
use sqlx::{PgPool, Row};

use crate::rows::{db_error, nanos, to_unsigned};

/// The value under (scope, key).
pub(super) async fn get(pool: &PgPool, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT value FROM surface_state WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(db_error)?;
    row.map(|r| r.try_get::<String, _>("value").map_err(db_error)).transpose()
}

/// Sets a value, replacing any (`only_new: false`) or only where there is none; whether it was set.
pub(super) async fn put(
    pool: &PgPool,
    (scope, key, value): (&str, &str, &str),
    at: Timestamp,
    only_new: bool,
) -> Result<bool, StoreError> {
    let sql = if only_new {
        "INSERT INTO surface_state (scope, key, value, updated_ns) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (scope, key) DO NOTHING"
    } else {
        "INSERT INTO surface_state (scope, key, value, updated_ns) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, updated_ns = excluded.updated_ns"
    };
    let done = sqlx::query(sql).bind(scope).bind(key).bind(value).bind(nanos(at)).execute(pool).await;
    Ok(done.map_err(db_error)?.rows_affected() > 0)
}

/// Entries whose key starts with `prefix`, by key.
pub(super) async fn list(
    pool: &PgPool,
    scope: &str,
    prefix: &str,
    limit: u32,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT key, value FROM surface_state WHERE scope = $1 AND starts_with(key, $2) ORDER BY key COLLATE \"C\" LIMIT $3",
    )
    .bind(scope)
    .bind(prefix)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter().map(|r| Ok((r.try_get("key").map_err(db_error)?, r.try_get("value").map_err(db_error)?))).collect()
}

/// Deletes a scope's entries stamped before `before`.
pub(super) async fn prune(pool: &PgPool, scope: &str, before: Timestamp) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM surface_state WHERE scope = $1 AND updated_ns < $2")
        .bind(scope)
        .bind(nanos(before))
        .execute(pool)
        .await
        .map_err(db_error)?;
    to_unsigned(i64::try_from(done.rows_affected()).unwrap_or(i64::MAX), "deleted rows")
}

/// Deletes (scope, key) if it still holds value; whether it did.
pub(super) async fn forget(pool: &PgPool, (scope, key, value): (&str, &str, &str)) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM surface_state WHERE scope = $1 AND key = $2 AND value = $3")
        .bind(scope)
        .bind(key)
        .bind(value)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(done.rows_affected() > 0)
}
