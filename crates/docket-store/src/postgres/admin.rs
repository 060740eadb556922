//! API tokens and statistics on PostgreSQL.

use docket_app::{ApiToken, Revocation, StoreError, StoreStats};
use docket_core::audit::AuditEntry;
use jiff::Timestamp;
use sqlx::PgPool;

use super::audit;
use crate::rows::{self, TOKEN_COLUMNS, db_error, is_unique_violation, parse_time, time_text, to_unsigned};

/// Saves a token's record and the audit of its creation, in one transaction.
pub(super) async fn create_token(writer: &PgPool, token: &ApiToken, audit: Vec<AuditEntry>) -> Result<(), StoreError> {
    let mut tx = writer.begin().await.map_err(db_error)?;
    let saved = sqlx::query(
        "INSERT INTO api_tokens (id, hash, person, agent, name, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&token.id)
    .bind(&token.hash)
    .bind(token.person.as_str())
    .bind(token.agent.as_deref())
    .bind(&token.name)
    .bind(&token.created_by)
    .bind(time_text(token.created_at))
    .bind(token.expires_at.map(time_text))
    .execute(&mut *tx)
    .await;
    match saved {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(rows::token_exists()),
        Err(e) => return Err(db_error(e)),
    }
    audit::append(&mut tx, audit).await?;
    tx.commit().await.map_err(db_error)
}

/// Revokes a token (unless it already is) and appends the audit of it, in one transaction.
pub(super) async fn revoke_token(
    writer: &PgPool,
    id: &str,
    revocation: &Revocation,
    audit: Vec<AuditEntry>,
) -> Result<(), StoreError> {
    let mut tx = writer.begin().await.map_err(db_error)?;
    sqlx::query("UPDATE api_tokens SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL")
        .bind(time_text(revocation.at))
        .bind(&revocation.by)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    audit::append(&mut tx, audit).await?;
    tx.commit().await.map_err(db_error)
}

/// Records a token's last use.
pub(super) async fn token_used(writer: &PgPool, id: &str, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(time_text(at))
        .bind(id)
        .execute(writer)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// A token's record by `column` (`hash` or `id`, never anything a caller typed).
pub(super) async fn token(reader: &PgPool, column: &'static str, key: &str) -> Result<Option<ApiToken>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE {column} = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(reader).await.map_err(db_error)?;
    row.as_ref().map(rows::api_token).transpose()
}

/// Every token's record, newest first.
pub(super) async fn tokens(reader: &PgPool) -> Result<Vec<ApiToken>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(reader).await.map_err(db_error)?;
    found.iter().map(rows::api_token).collect()
}

/// Tickets per state, unclaimed queue entries, and the oldest pending notification.
pub(super) async fn stats(reader: &PgPool) -> Result<StoreStats, StoreError> {
    let by_state = sqlx::query("SELECT state, COUNT(*) AS n FROM tickets GROUP BY state ORDER BY state")
        .fetch_all(reader)
        .await
        .map_err(db_error)?;
    let mut tickets_by_state = by_state.iter().map(rows::state_count).collect::<Result<Vec<_>, _>>()?;
    tickets_by_state.sort();
    let depth: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM run_queue WHERE holder IS NULL")
        .fetch_one(reader)
        .await
        .map_err(db_error)?;
    let oldest: Option<String> = sqlx::query_scalar(
        "SELECT created_at FROM outbox WHERE delivered_at IS NULL AND NOT gave_up ORDER BY id LIMIT 1",
    )
    .fetch_optional(reader)
    .await
    .map_err(db_error)?;
    Ok(StoreStats {
        tickets_by_state,
        queue_depth: to_unsigned(depth, "queue depth")?,
        oldest_undelivered: oldest.map(|t| parse_time(&t, "outbox time")).transpose()?,
    })
}
