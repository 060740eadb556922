//! The audit chain on PostgreSQL: appends take a transaction-scoped advisory lock first, so
//! reading the head and appending after it happen for one transaction at a time across every
//! replica; the lock is released when the transaction ends.

use docket_app::StoreError;
use docket_core::audit::{AuditEntry, AuditRecord};
use sqlx::{PgConnection, PgPool};

use crate::rows::{self, AuditColumns, db_error, to_i64};

/// The `pg_advisory_xact_lock` key that serializes audit appends (and ticket-number bumps).
pub(super) const AUDIT_LOCK: i64 = 0x646f_636b_6574_0002;

/// Waits for the audit lock; held until the transaction ends.
pub(super) async fn lock(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_LOCK).execute(&mut *conn).await.map_err(db_error)?;
    Ok(())
}

/// Chains `entries` after the current head and inserts them. Call inside a transaction.
pub(super) async fn append(conn: &mut PgConnection, entries: Vec<AuditEntry>) -> Result<Vec<AuditRecord>, StoreError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    lock(conn).await?;
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
pub(super) async fn read(pool: &PgPool, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
    let found = sqlx::query(
        "SELECT seq, at, actor, action, ticket, details, prev_hash, hash FROM audit \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(to_i64(after, "audit seq").unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    found.iter().map(rows::audit_record).collect()
}
