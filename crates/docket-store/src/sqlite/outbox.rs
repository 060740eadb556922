//! The outbox on SQLite: rows inserted with the change that caused them, read when due (one
//! message at a time per notifier and ticket), and marked delivered or failed.

use docket_app::{NewOutboxMessage, OutboxMessage, StoreError};
use jiff::Timestamp;
use sqlx::{SqliteConnection, SqlitePool};

use crate::rows::{self, db_error, nanos, time_text, to_i64};

/// Inserts a change's notifications, due at once. Call inside the writer's transaction.
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    messages: &[NewOutboxMessage],
    at: Timestamp,
) -> Result<(), StoreError> {
    for m in messages {
        sqlx::query(
            "INSERT INTO outbox (notifier, ticket, key, payload, created_at, next_attempt_ns) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&m.notifier)
        .bind(m.ticket.to_string())
        .bind(&m.key)
        .bind(rows::to_json(&m.payload, "outbox payload")?)
        .bind(time_text(at))
        .bind(nanos(at))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

/// Pending messages due at `now`, oldest first, each the oldest pending one of its thread.
pub(super) async fn due(reader: &SqlitePool, now: Timestamp, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
    let found = sqlx::query(
        "SELECT id, notifier, ticket, key, payload, attempts, created_at FROM outbox o \
         WHERE delivered_at IS NULL AND gave_up = 0 AND next_attempt_ns <= ? \
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.notifier = o.notifier AND p.ticket = o.ticket \
                           AND p.id < o.id AND p.delivered_at IS NULL AND p.gave_up = 0) \
         ORDER BY id LIMIT ?",
    )
    .bind(nanos(now))
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(db_error)?;
    found.iter().map(rows::outbox_message).collect()
}

/// Marks a message delivered.
pub(super) async fn delivered(writer: &SqlitePool, id: u64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL")
        .bind(time_text(at))
        .bind(to_i64(id, "outbox id")?)
        .execute(writer)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Records a failed attempt: due again at `retry_at`, or given up for good.
pub(super) async fn failed(
    writer: &SqlitePool,
    id: u64,
    error: &str,
    retry_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?1, \
         next_attempt_ns = COALESCE(?2, next_attempt_ns), gave_up = (?2 IS NULL) \
         WHERE id = ?3 AND delivered_at IS NULL",
    )
    .bind(error)
    .bind(retry_at.map(nanos))
    .bind(to_i64(id, "outbox id")?)
    .execute(writer)
    .await
    .map_err(db_error)?;
    Ok(())
}
