//! The audit chain on PostgreSQL: appended by the writer once per batch (see `batch`) under a
//! transaction-scoped advisory lock, so reading the head and appending after it happen for one
//! transaction at a time across every replica; the lock is released when the transaction ends.
//! A loose append is a write of the batch with nothing else to write.

use async_trait::async_trait;
use docket_app::StoreError;
use docket_core::audit::{AuditEntry, AuditRecord};
use sqlx::{PgConnection, PgPool};

use super::writer::{Failure, Write};
use crate::rows::{self, db_error, to_i64};

/// The `pg_advisory_xact_lock` key that serializes audit appends (and ticket-number bumps).
pub(super) const AUDIT_LOCK: i64 = 0x646f_636b_6574_0002;

/// Audit entries with no other change (a rejected signature, a token made).
#[derive(Debug)]
pub(super) struct Append(pub(super) Vec<AuditEntry>);

#[async_trait]
impl Write for Append {
    type Output = Vec<AuditRecord>;

    async fn apply(&mut self, _: &mut PgConnection) -> Result<(), Failure> {
        Ok(())
    }

    fn take_audit(&mut self) -> Vec<AuditEntry> {
        std::mem::take(&mut self.0)
    }

    fn output(self, audit: Vec<AuditRecord>) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(audit)
    }
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
