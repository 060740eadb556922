//! The run queue on SQLite: entries written with their ticket's change, claimed with a lease
//! by the single writer (so two claims are never interleaved), heartbeats and lease resets.

use docket_app::{Claim, QueueOp, StoreError};
use docket_core::TicketId;
use jiff::Timestamp;
use sqlx::{Row as _, SqliteConnection, SqlitePool};

use crate::rows::{self, db_error, nanos};

/// Applies a change's queue operation. Call inside the writer's transaction.
pub(super) async fn apply(conn: &mut SqliteConnection, ticket: &str, op: &QueueOp) -> Result<(), StoreError> {
    match op {
        QueueOp::None => {}
        QueueOp::Enqueue { concurrency_key } => {
            // Enqueueing a ticket already queued moves it to the back, unclaimed.
            sqlx::query(
                "INSERT INTO run_queue (ticket, position, concurrency_key) \
                 VALUES (?1, (SELECT COALESCE(MAX(position), 0) + 1 FROM run_queue), ?2) \
                 ON CONFLICT (ticket) DO UPDATE SET position = excluded.position, \
                 concurrency_key = excluded.concurrency_key, holder = NULL, lease_until_ns = NULL, \
                 claimed_before = 0",
            )
            .bind(ticket)
            .bind(concurrency_key.as_deref())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        }
        QueueOp::Remove => {
            sqlx::query("DELETE FROM run_queue WHERE ticket = ?")
                .bind(ticket)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        }
    }
    Ok(())
}

/// Claims the oldest claimable entry: the first of its concurrency key (or keyless), and
/// unclaimed or with a lapsed lease.
pub(super) async fn claim(
    writer: &SqlitePool,
    holder: &str,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Claim>, StoreError> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let found = sqlx::query(
        "SELECT ticket, claimed_before FROM run_queue q \
         WHERE (holder IS NULL OR lease_until_ns <= ?) \
           AND (concurrency_key IS NULL OR NOT EXISTS ( \
                SELECT 1 FROM run_queue e WHERE e.concurrency_key = q.concurrency_key AND e.position < q.position)) \
         ORDER BY position LIMIT 1",
    )
    .bind(nanos(now))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let Some(row) = found else { return Ok(None) };
    let ticket: String = row.try_get("ticket").map_err(db_error)?;
    let recovered: bool = row.try_get("claimed_before").map_err(db_error)?;
    sqlx::query("UPDATE run_queue SET holder = ?, lease_until_ns = ?, claimed_before = 1 WHERE ticket = ?")
        .bind(holder)
        .bind(nanos(lease_until))
        .bind(&ticket)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(Some(Claim { ticket: rows::ticket_id(&ticket)?, recovered }))
}

/// Extends `holder`'s lease; false if someone else holds the entry or it is gone.
pub(super) async fn heartbeat(
    writer: &SqlitePool,
    ticket: &TicketId,
    holder: &str,
    lease_until: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE run_queue SET lease_until_ns = ? WHERE ticket = ? AND holder = ?")
        .bind(nanos(lease_until))
        .bind(ticket.to_string())
        .bind(holder)
        .execute(writer)
        .await
        .map_err(db_error)?;
    Ok(done.rows_affected() > 0)
}

/// Releases every claimed entry; the next claim of each reports it recovered.
pub(super) async fn end_all_leases(writer: &SqlitePool) -> Result<u64, StoreError> {
    let done = sqlx::query("UPDATE run_queue SET holder = NULL, lease_until_ns = NULL WHERE holder IS NOT NULL")
        .execute(writer)
        .await
        .map_err(db_error)?;
    Ok(done.rows_affected())
}
