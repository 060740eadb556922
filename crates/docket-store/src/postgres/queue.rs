//! The run queue on PostgreSQL: entries written with their ticket's change; replicas claim
//! with `FOR UPDATE SKIP LOCKED` in their writer's batch, so two claimers never take the same
//! entry and neither waits for the other.

use async_trait::async_trait;
use docket_app::{Claim, StoreError};
use docket_core::TicketId;
use docket_core::audit::{AuditEntry, AuditRecord};
use jiff::Timestamp;
use sqlx::{PgConnection, PgPool, Row as _};

use super::writer::{Failure, Write};
use crate::rows::{self, db_error, nanos};

/// Claims the oldest claimable entry for `holder`: the first of its concurrency key (or
/// keyless), and unclaimed or with a lapsed lease. Entries another replica is claiming are
/// skipped, so a claim never waits. A write of the writer's batch, so its commit is shared; it
/// runs after the batch's ticket writes, holding its row only while the batch appends its audit
/// records and commits.
#[derive(Debug)]
pub(super) struct ClaimRun {
    holder: String,
    now: i64,
    until: i64,
    claimed: Option<Claim>,
}

impl ClaimRun {
    pub(super) fn new(holder: &str, now: Timestamp, lease_until: Timestamp) -> Self {
        Self { holder: holder.to_owned(), now: nanos(now), until: nanos(lease_until), claimed: None }
    }
}

#[async_trait]
impl Write for ClaimRun {
    type Output = Option<Claim>;

    fn key(&self) -> (u8, &str) {
        (2, "")
    }

    async fn apply(&mut self, conn: &mut PgConnection) -> Result<(), Failure> {
        self.claimed = None;
        let found = sqlx::query(
            "WITH next AS ( \
                 SELECT q.ticket, q.claimed_before FROM run_queue q \
                 WHERE (q.holder IS NULL OR q.lease_until_ns <= $1) \
                   AND (q.concurrency_key IS NULL OR NOT EXISTS ( \
                        SELECT 1 FROM run_queue e \
                        WHERE e.concurrency_key = q.concurrency_key AND e.position < q.position)) \
                 ORDER BY q.position LIMIT 1 \
                 FOR UPDATE OF q SKIP LOCKED) \
             UPDATE run_queue r SET holder = $2, lease_until_ns = $3, claimed_before = TRUE \
             FROM next WHERE r.ticket = next.ticket \
             RETURNING r.ticket, next.claimed_before",
        )
        .bind(self.now)
        .bind(&self.holder)
        .bind(self.until)
        .fetch_optional(conn)
        .await
        .map_err(|e| Failure::Failed(db_error(e)))?;
        let Some(row) = found else { return Ok(()) };
        let ticket: String = row.try_get("ticket").map_err(|e| Failure::Failed(db_error(e)))?;
        let recovered: bool = row.try_get("claimed_before").map_err(|e| Failure::Failed(db_error(e)))?;
        let ticket = rows::ticket_id(&ticket).map_err(Failure::Failed)?;
        self.claimed = Some(Claim { ticket, recovered });
        Ok(())
    }

    fn take_audit(&mut self) -> Vec<AuditEntry> {
        Vec::new()
    }

    fn output(self, _: Vec<AuditRecord>) -> Result<Option<Claim>, StoreError> {
        Ok(self.claimed)
    }
}

/// Extends `holder`'s lease; false if someone else holds the entry or it is gone.
pub(super) async fn heartbeat(
    pool: &PgPool,
    ticket: &TicketId,
    holder: &str,
    lease_until: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE run_queue SET lease_until_ns = $1 WHERE ticket = $2 AND holder = $3")
        .bind(nanos(lease_until))
        .bind(ticket.to_string())
        .bind(holder)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(done.rows_affected() > 0)
}

/// Releases every claimed entry (the next claim of each reports it recovered) and every
/// notification claim.
pub(super) async fn end_all_leases(pool: &PgPool) -> Result<u64, StoreError> {
    let done = sqlx::query("UPDATE run_queue SET holder = NULL, lease_until_ns = NULL WHERE holder IS NOT NULL")
        .execute(pool)
        .await
        .map_err(db_error)?;
    sqlx::query("DELETE FROM outbox_claims").execute(pool).await.map_err(db_error)?;
    Ok(done.rows_affected())
}

/// Takes or keeps `role` for `holder`: the row is written only when it is free, lapsed, or
/// the holder's own, and concurrent callers meet on its primary key.
pub(super) async fn lead(
    pool: &PgPool,
    role: &str,
    holder: &str,
    now: Timestamp,
    until: Timestamp,
) -> Result<bool, StoreError> {
    let won: Option<String> = sqlx::query_scalar(
        "INSERT INTO leases (role, holder, until_ns) VALUES ($1, $2, $3) \
         ON CONFLICT (role) DO UPDATE SET holder = EXCLUDED.holder, until_ns = EXCLUDED.until_ns \
         WHERE leases.holder = EXCLUDED.holder OR leases.until_ns <= $4 \
         RETURNING holder",
    )
    .bind(role)
    .bind(holder)
    .bind(nanos(until))
    .bind(nanos(now))
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    Ok(won.is_some())
}
