//! The audit chain on SQLite: records are chained by the writer, inside its transaction, after
//! the head it read with `BEGIN` (so every append sees the one before it, within a batch and
//! across batches), inserted from a JSON array in one statement, and read in pages.

use docket_app::StoreError;
use docket_core::audit::{AuditEntry, AuditRecord};
use serde::Serialize;
use sqlx::SqlitePool;

use super::writer::{Args, Head, Row, Sql, Write, bind};
use crate::rows::{self, db_error, time_text, to_i64};

/// The statement that inserts the records of a JSON array of [`AuditRow`]s (one parameter), as
/// a literal, so the writes that append audit records can include it in their SQL.
macro_rules! insert_audit {
    () => {
        "INSERT INTO audit (seq, at, actor, action, ticket, details, prev_hash, hash) \
         SELECT value ->> 'seq', value ->> 'at', value ->> 'actor', value ->> 'action', value ->> 'ticket', \
         value ->> 'details', value ->> 'prev_hash', value ->> 'hash' FROM jsonb_each(?)"
    };
}
pub(super) use insert_audit;

/// An `audit` row, as an element of the JSON array [`insert_audit`] reads.
#[derive(Serialize)]
struct AuditRow<'a> {
    seq: i64,
    at: String,
    actor: &'a str,
    action: &'a str,
    ticket: Option<&'a str>,
    details: &'a str,
    prev_hash: &'a str,
    hash: &'a str,
}

/// What can be prepared of audit rows before they are chained: each entry's details as JSON.
#[derive(Debug, Default)]
pub(super) struct AuditRows {
    details: Vec<String>,
}

impl AuditRows {
    /// Serializes the details of `entries` (in the caller's task, so the writer only writes).
    pub(super) fn new(entries: &[AuditEntry]) -> Result<Self, StoreError> {
        let details = entries.iter().map(|e| rows::to_json(&e.details, "audit details")).collect::<Result<_, _>>()?;
        Ok(Self { details })
    }

    /// The JSON array for [`insert_audit`] of `records`, the chained entries this was made
    /// from; NULL when there are none.
    pub(super) fn json(&self, records: &[AuditRecord]) -> Result<Option<String>, StoreError> {
        if records.is_empty() {
            return Ok(None);
        }
        let rows = records
            .iter()
            .zip(&self.details)
            .map(|(r, details)| {
                Ok(AuditRow {
                    seq: to_i64(r.seq, "audit seq")?,
                    at: time_text(r.entry.at),
                    actor: &r.entry.actor,
                    action: &r.entry.action,
                    ticket: r.entry.ticket.as_deref(),
                    details,
                    prev_hash: &r.prev_hash,
                    hash: &r.hash,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        rows::to_json(&rows, "audit records").map(Some)
    }
}

/// Audit entries on their way into the chain: chained by the writer after its head, and chained
/// again after a new head if the write has to run again.
#[derive(Debug)]
pub(super) struct PendingAudit {
    /// The entries to chain, until they are chained.
    entries: Vec<AuditEntry>,
    /// The entries as last chained.
    records: Vec<AuditRecord>,
    rows: AuditRows,
    /// `records` as the JSON array [`insert_audit`] reads; NULL when there are none.
    json: Option<String>,
}

impl PendingAudit {
    /// Prepares `entries` (their details serialized in the caller's task).
    pub(super) fn new(entries: Vec<AuditEntry>) -> Result<Self, StoreError> {
        Ok(Self { rows: AuditRows::new(&entries)?, entries, records: Vec::new(), json: None })
    }

    /// Chains the entries after `head` and moves it on; on an error `head` is left as it was.
    pub(super) fn chain(&mut self, head: &mut Head) -> Result<(), StoreError> {
        let mut entries = std::mem::take(&mut self.entries);
        entries.extend(self.records.drain(..).map(|r| r.entry));
        let mut moved = head.clone();
        let records = moved.chain(entries);
        match self.rows.json(&records) {
            Ok(json) => {
                self.json = json;
                self.records = records;
                *head = moved;
                Ok(())
            }
            Err(error) => {
                self.entries = records.into_iter().map(|r| r.entry).collect();
                Err(error)
            }
        }
    }

    /// The chained records as the JSON array [`insert_audit`] binds.
    pub(super) fn json(&self) -> &Option<String> {
        &self.json
    }

    /// The records as chained.
    pub(super) fn into_records(self) -> Vec<AuditRecord> {
        self.records
    }
}

/// Appends entries that belong to no ticket change.
#[derive(Debug)]
pub(super) struct Append(PendingAudit);

impl Append {
    /// Prepares `entries` for appending.
    pub(super) fn new(entries: Vec<AuditEntry>) -> Result<Self, StoreError> {
        PendingAudit::new(entries).map(Self)
    }
}

static APPEND: Sql = Sql::new(concat!(insert_audit!(), "; "), 0);

impl Write for Append {
    type Output = Vec<AuditRecord>;

    fn sql(&self) -> &'static Sql {
        &APPEND
    }

    fn chain(&mut self, head: &mut Head) -> Result<(), StoreError> {
        self.0.chain(head)
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, self.0.json())
    }

    fn output(self, _: Vec<Row>) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(self.0.into_records())
    }
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
