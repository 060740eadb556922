//! A ticket commit made once per delivery (`TicketStore::commit_once`) on PostgreSQL, as a write
//! of the writer's batch: the delivery's record and the commit in the batch's one transaction,
//! so neither is ever kept without the other. The record is inserted first (`ON CONFLICT DO
//! NOTHING`: a record already there, or being inserted by another transaction that then
//! commits, refuses the write), then the commit; a commit that is not written (a stale version,
//! a taken id) takes its record back out, and a batch that is rolled back takes both.

use async_trait::async_trait;
use docket_app::{Committed, Delivery, StoreError};
use docket_core::audit::{AuditEntry, AuditRecord};
use sqlx::PgConnection;

use super::commit::{self, Commit};
use super::writer::{Failure, Write};
use crate::rows::{db_error, nanos};

/// Records the delivery, unless it is recorded.
const RECORD: &str = "INSERT INTO surface_state (scope, key, value, updated_ns) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (scope, key) DO NOTHING";
/// Takes the record back out, when its commit was not written.
const UNRECORD: &str = "DELETE FROM surface_state WHERE scope = $1 AND key = $2";

/// A commit and the delivery it is made once for.
#[derive(Debug)]
pub(super) struct CommitOnce {
    commit: Commit,
    /// Where it runs in its batch: by its delivery, so two replicas' batches that both hold
    /// copies of two deliveries wait for each other's records in one order, never in opposite
    /// orders (a deadlock, which PostgreSQL breaks only after `deadlock_timeout`).
    order: String,
    scope: String,
    key: String,
    value: String,
    at_ns: i64,
}

impl CommitOnce {
    /// `commit`, made once for `delivery`, whose record is stamped `at` and holds the commit's
    /// ticket id (see [`Delivery::value`]).
    pub(super) fn new(commit: Commit, delivery: Delivery<'_>, value: String, at: jiff::Timestamp) -> Self {
        let order = format!("{}\u{0}{}", delivery.scope, delivery.key);
        Self { commit, order, scope: delivery.scope.to_owned(), key: delivery.key.to_owned(), value, at_ns: nanos(at) }
    }
}

#[async_trait]
impl Write for CommitOnce {
    type Output = Committed;

    fn key(&self) -> (u8, &str) {
        (1, &self.order)
    }

    // Not a plain commit (`Write::commit` stays `None`): its statements run on their own, in
    // `apply`, since the batch's one statement of commits cannot be undone for one of them.

    async fn apply(&mut self, conn: &mut PgConnection) -> Result<(), Failure> {
        let failed = |e: sqlx::Error| Failure::Failed(db_error(e));
        let recorded = sqlx::query(RECORD)
            .bind(&self.scope)
            .bind(&self.key)
            .bind(&self.value)
            .bind(self.at_ns)
            .execute(&mut *conn)
            .await
            .map_err(failed)?;
        if recorded.rows_affected() == 0 {
            return Err(Failure::Refused(StoreError::Delivered(self.key.clone())));
        }
        let written = commit::write(&mut *conn, &[&self.commit]).await.map_err(Failure::Failed)?;
        if written.first() == Some(&true) {
            return Ok(());
        }
        sqlx::query(UNRECORD).bind(&self.scope).bind(&self.key).execute(&mut *conn).await.map_err(failed)?;
        Err(Failure::Refused(self.commit.conflict()))
    }

    fn number(&self) -> Option<i64> {
        self.commit.number()
    }

    fn take_audit(&mut self) -> Vec<AuditEntry> {
        self.commit.take_audit()
    }

    fn output(self, audit: Vec<AuditRecord>) -> Result<Committed, StoreError> {
        self.commit.output(audit)
    }
}
