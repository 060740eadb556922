//! Step logs on PostgreSQL: appended in batches (a repeated line is ignored) and read in pages.

use docket_app::{LogLine, StoreError};
use docket_core::TicketId;
use sqlx::PgPool;

use crate::rows::{self, LogColumns, db_error, to_i64, to_unsigned};

/// Appends lines in one transaction; lines whose (ticket, seq) exists are skipped.
/// The other replicas are told the last `seq` stored of each ticket.
pub(super) async fn append(writer: &PgPool, sender: &str, lines: &[LogLine]) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut tx = writer.begin().await.map_err(db_error)?;
    for line in lines {
        let l = LogColumns::new(line)?;
        sqlx::query(
            "INSERT INTO step_logs (ticket, seq, run, step, stream, text, at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
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
    let mut last: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for line in lines {
        let seq = to_i64(line.seq, "log seq")?;
        let entry = last.entry(line.ticket.to_string()).or_insert(seq);
        *entry = (*entry).max(seq);
    }
    for (ticket, seq) in &last {
        super::notify::logged(&mut tx, sender, ticket, *seq).await?;
    }
    tx.commit().await.map_err(db_error)
}

/// A ticket's lines with `seq > after`, in order.
pub(super) async fn read(
    reader: &PgPool,
    ticket: &TicketId,
    after: u64,
    limit: u32,
) -> Result<Vec<LogLine>, StoreError> {
    let found = sqlx::query(
        "SELECT ticket, seq, run, step, stream, text, at FROM step_logs \
         WHERE ticket = $1 AND seq > $2 ORDER BY seq LIMIT $3",
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
pub(super) async fn last_seq(reader: &PgPool, ticket: &TicketId) -> Result<u64, StoreError> {
    let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::bigint FROM step_logs WHERE ticket = $1")
        .bind(ticket.to_string())
        .fetch_one(reader)
        .await
        .map_err(db_error)?;
    to_unsigned(seq, "log seq")
}
