//! Step logs on SQLite: appended in batches (a repeated line is ignored) and read in pages.

use docket_app::{LogLine, StoreError};
use docket_core::TicketId;
use sqlx::SqlitePool;

use crate::rows::{self, LogColumns, db_error, to_i64, to_unsigned};

/// Appends lines in one transaction; lines whose (ticket, seq) exists are skipped.
pub(super) async fn append(writer: &SqlitePool, lines: &[LogLine]) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    for line in lines {
        let l = LogColumns::new(line)?;
        sqlx::query(
            "INSERT INTO step_logs (ticket, seq, run, step, stream, text, at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (ticket, seq) DO NOTHING",
        )
        .bind(&l.ticket)
        .bind(l.seq)
        .bind(l.run)
        .bind(l.step)
        .bind(l.stream)
        .bind(&l.text)
        .bind(&l.at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)
}

/// A ticket's lines with `seq > after`, in order.
pub(super) async fn read(
    reader: &SqlitePool,
    ticket: &TicketId,
    after: u64,
    limit: u32,
) -> Result<Vec<LogLine>, StoreError> {
    let found = sqlx::query(
        "SELECT ticket, seq, run, step, stream, text, at FROM step_logs \
         WHERE ticket = ? AND seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(ticket.to_string())
    .bind(to_i64(after, "log seq").unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(db_error)?;
    found.iter().map(rows::log_line).collect()
}

/// The highest `seq` of a ticket's lines, or 0.
pub(super) async fn last_seq(reader: &SqlitePool, ticket: &TicketId) -> Result<u64, StoreError> {
    let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM step_logs WHERE ticket = ?")
        .bind(ticket.to_string())
        .fetch_one(reader)
        .await
        .map_err(db_error)?;
    to_unsigned(seq, "log seq")
}
