//! The audit chain on SQLite: appended inside the writer's transaction (so the head read and
//! the append are one step under the single writer), and read in pages.

use docket_app::StoreError;
use docket_core::audit::{AuditEntry, AuditRecord};
use sqlx::{SqliteConnection, SqlitePool};

use crate::rows::{self, AuditColumns, db_error, to_i64};

/// Chains `entries` after the current head and inserts them. Call inside the writer's
/// `BEGIN IMMEDIATE` transaction.
pub(super) async fn append(
    conn: &mut SqliteConnection,
    entries: Vec<AuditEntry>,
) -> Result<Vec<AuditRecord>, StoreError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let head = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    let head = head.as_ref().map(rows::audit_head).transpose()?;
    let records = rows::chain(entries, head);
    for record in &records {
        let r = AuditColumns::new(record)?;
        sqlx::query(
            "INSERT INTO audit (seq, at, actor, action, ticket, details, prev_hash, hash) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.seq)
        .bind(&r.at)
        .bind(&r.actor)
        .bind(&r.action)
        .bind(&r.ticket)
        .bind(&r.details)
        .bind(&r.prev_hash)
        .bind(&r.hash)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    Ok(records)
}

/// Records with `seq > after`, in order.
pub(super) async fn read(reader: &SqlitePool, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
    let found = sqlx::query(
        "SELECT seq, at, actor, action, ticket, details, prev_hash, hash FROM audit \
         WHERE seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(to_i64(after, "audit seq").unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(db_error)?;
    found.iter().map(rows::audit_record).collect()
}
