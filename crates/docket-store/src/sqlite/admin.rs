//! API tokens and statistics on SQLite.

use docket_app::{ApiToken, StoreError, StoreStats};
use sqlx::SqlitePool;

use crate::rows::{self, db_error, is_unique_violation, parse_time, time_text, to_unsigned};

/// Saves a token's record.
pub(super) async fn create_token(writer: &SqlitePool, token: &ApiToken) -> Result<(), StoreError> {
    let saved = sqlx::query("INSERT INTO api_tokens (hash, person, name, created_at) VALUES (?, ?, ?, ?)")
        .bind(&token.hash)
        .bind(token.person.as_str())
        .bind(&token.name)
        .bind(time_text(token.created_at))
        .execute(writer)
        .await;
    match saved {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(rows::token_exists()),
        Err(e) => Err(db_error(e)),
    }
}

/// A token's record by its hash.
pub(super) async fn token(reader: &SqlitePool, hash: &str) -> Result<Option<ApiToken>, StoreError> {
    let row = sqlx::query("SELECT hash, person, name, created_at FROM api_tokens WHERE hash = ?")
        .bind(hash)
        .fetch_optional(reader)
        .await
        .map_err(db_error)?;
    row.as_ref().map(rows::api_token).transpose()
}

/// Tickets per state, unclaimed queue entries, and the oldest pending notification.
pub(super) async fn stats(reader: &SqlitePool) -> Result<StoreStats, StoreError> {
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
        "SELECT created_at FROM outbox WHERE delivered_at IS NULL AND gave_up = 0 ORDER BY id LIMIT 1",
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
