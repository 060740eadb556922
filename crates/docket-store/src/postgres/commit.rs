//! A ticket commit on PostgreSQL, as one write of the writer's batch (see `writer`): prepared
//! (rows serialized) in the caller's task, then written as ONE statement whose parts all hang
//! off the ticket row it inserted or updated, so a stale version (or a taken id or number)
//! writes nothing at all and leaves the transaction going. The audit records are chained and
//! inserted by the batch.

use async_trait::async_trait;
use docket_app::{Change, Committed, QueueOp, StoreError};
use docket_core::TicketId;
use docket_core::audit::{AuditEntry, AuditRecord};
use serde::Serialize;
use sqlx::PgConnection;

use super::notify;
use super::writer::{Failure, Write};
use crate::projection;
use crate::rows::{self, TicketColumns, db_error, nanos, time_text, to_i64};

/// Everything a change writes after its ticket row, each table from a JSON array of rows (NULL
/// for none), every part joined to `t` (the ticket row written, or none). The notification is
/// sent only when the ticket row was written. Parameters `$12` on; `$1`–`$11` are the ticket's.
macro_rules! write_rows {
    () => {
        ", ev AS (INSERT INTO ticket_events (ticket, seq, at, action, body) \
         SELECT t.id, r.seq, r.at, r.action, r.body::json \
         FROM t, json_to_recordset($12::json) AS r(seq bigint, at text, action text, body text)), \
         ap AS (INSERT INTO approvals (ticket, seq, person, stage, verdict, round, digest, comment, at, expires_at) \
         SELECT t.id, r.seq, r.person, r.stage, r.verdict, r.round, r.digest, r.comment, r.at, r.expires_at \
         FROM t, json_to_recordset($13::json) AS r(seq bigint, person text, stage text, verdict text, round bigint, \
         digest text, comment text, at text, expires_at text)), \
         co AS (INSERT INTO comments (ticket, seq, author, text, at) \
         SELECT t.id, r.seq, r.author, r.text, r.at \
         FROM t, json_to_recordset($14::json) AS r(seq bigint, author text, text text, at text)), \
         ru AS (INSERT INTO runs (ticket, number, started_at, finished_at, outcome) \
         SELECT t.id, r.number, r.started_at, r.finished_at, r.outcome::json \
         FROM t, json_to_recordset($15::json) AS r(number bigint, started_at text, finished_at text, outcome text) \
         ON CONFLICT (ticket, number) DO UPDATE SET started_at = EXCLUDED.started_at, \
         finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome), \
         st AS (INSERT INTO run_steps (ticket, run, step, name, attempts, started_at, finished_at, outcome, exit_code) \
         SELECT t.id, r.run, r.step, r.name, r.attempts, r.started_at, r.finished_at, r.outcome::json, r.exit_code \
         FROM t, json_to_recordset($16::json) AS r(run bigint, step bigint, name text, attempts bigint, \
         started_at text, finished_at text, outcome text, exit_code bigint) \
         ON CONFLICT (ticket, run, step) DO UPDATE SET name = EXCLUDED.name, attempts = EXCLUDED.attempts, \
         started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, \
         exit_code = EXCLUDED.exit_code), \
         ob AS (INSERT INTO outbox (notifier, ticket, key, payload, created_at, next_attempt_ns) \
         SELECT r.notifier, r.ticket, r.key, r.payload::json, $17, $18 \
         FROM t, json_to_recordset($19::json) AS r(i bigint, notifier text, ticket text, key text, payload text) \
         ORDER BY r.i), \
         qe AS (INSERT INTO run_queue (ticket, concurrency_key) SELECT t.id, $20 FROM t WHERE $21 = 1 \
         ON CONFLICT (ticket) DO UPDATE SET position = nextval('run_queue_positions'), \
         concurrency_key = EXCLUDED.concurrency_key, holder = NULL, lease_until_ns = NULL, claimed_before = FALSE), \
         qd AS (DELETE FROM run_queue WHERE $21 = 2 AND ticket IN (SELECT id FROM t)) \
         SELECT pg_notify($22, $23)::text AS notified FROM t"
    };
}

/// Creates a ticket and writes its rows; a taken id or number inserts nothing (the conflict).
/// Parameters: the eleven ticket columns, then `write_rows`'.
const CREATE: &str = concat!(
    "WITH t AS (INSERT INTO tickets (id, number, workflow, requester, state, created_at, updated_at, \
     respond_by_ns, start_by_ns, version, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::json) \
     ON CONFLICT DO NOTHING RETURNING id)",
    write_rows!()
);

/// Updates a ticket if its version is still the expected one (`$24`), and writes its rows; no
/// row updated is the conflict. Parameters as [`CREATE`]'s (the number and creation time are
/// not changed), then the expected version.
const UPDATE: &str = concat!(
    "WITH t AS (UPDATE tickets SET workflow = $3, requester = $4, state = $5, updated_at = $7, \
     respond_by_ns = $8, start_by_ns = $9, version = $10, body = $11::json \
     WHERE id = $1 AND version = $24 AND $2::bigint IS NOT NULL AND $6::text IS NOT NULL RETURNING id)",
    write_rows!()
);

/// An `outbox` row a change inserts, as an element of the JSON array its statement reads.
#[derive(Debug, Serialize)]
struct OutboxRow<'a> {
    i: usize,
    notifier: &'a str,
    ticket: String,
    key: &'a str,
    payload: String,
}

/// A rows array as JSON, or NULL when there are none.
fn json_rows<T: Serialize>(rows: &[T], what: &str) -> Result<Option<String>, StoreError> {
    if rows.is_empty() { Ok(None) } else { rows::to_json(rows, what).map(Some) }
}

/// One command's effects, ready to write.
#[derive(Debug)]
pub(super) struct Commit {
    ticket: TicketColumns,
    id: TicketId,
    expected: i64,
    version: u64,
    events: Option<String>,
    approvals: Option<String>,
    comments: Option<String>,
    runs: Option<String>,
    steps: Option<String>,
    outbox: Option<String>,
    at: String,
    at_ns: i64,
    queue: (i32, Option<String>),
    notification: String,
    audit: Vec<AuditEntry>,
}

impl Commit {
    /// Prepares `change` (in the caller's task, so the writer only writes); `sender` names this
    /// store in the notification.
    pub(super) fn new(change: Change, sender: &str) -> Result<Self, StoreError> {
        let rows = projection::rows(&change)?;
        let version = change
            .expected_version
            .checked_add(change.events.len() as u64)
            .ok_or_else(|| StoreError::Unavailable("ticket version overflow".into()))?;
        let outbox = change
            .outbox
            .iter()
            .enumerate()
            .map(|(i, m)| {
                Ok(OutboxRow {
                    i,
                    notifier: &m.notifier,
                    ticket: m.ticket.to_string(),
                    key: &m.key,
                    payload: rows::to_json(&m.payload, "outbox payload")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let run = change.queue != QueueOp::None;
        let notification =
            notify::ticket_payload(sender, &change.ticket.id, version, change.ticket.state, run, !outbox.is_empty());
        Ok(Self {
            ticket: TicketColumns::new(&change.ticket, version)?,
            expected: to_i64(change.expected_version, "ticket version")?,
            version,
            events: json_rows(&rows.events, "events")?,
            approvals: json_rows(&rows.approvals, "approvals")?,
            comments: json_rows(&rows.comments, "comments")?,
            runs: json_rows(&rows.runs, "runs")?,
            steps: json_rows(&rows.steps, "run steps")?,
            outbox: json_rows(&outbox, "outbox messages")?,
            at: time_text(change.at),
            at_ns: nanos(change.at),
            queue: match change.queue {
                QueueOp::None => (0, None),
                // Enqueueing a ticket already queued moves it to the back, unclaimed.
                QueueOp::Enqueue { concurrency_key } => (1, concurrency_key),
                QueueOp::Remove => (2, None),
            },
            notification,
            id: change.ticket.id,
            audit: change.audit,
        })
    }
}

#[async_trait]
impl Write for Commit {
    type Output = Committed;

    fn key(&self) -> &str {
        &self.ticket.id
    }

    async fn apply(&self, conn: &mut PgConnection) -> Result<(), Failure> {
        let t = &self.ticket;
        let query = sqlx::query(if self.expected == 0 { CREATE } else { UPDATE })
            .bind(&t.id)
            .bind(t.number)
            .bind(&t.workflow)
            .bind(&t.requester)
            .bind(t.state)
            .bind(&t.created_at)
            .bind(&t.updated_at)
            .bind(t.respond_by_ns)
            .bind(t.start_by_ns)
            .bind(t.version)
            .bind(&t.body)
            .bind(&self.events)
            .bind(&self.approvals)
            .bind(&self.comments)
            .bind(&self.runs)
            .bind(&self.steps)
            .bind(&self.at)
            .bind(self.at_ns)
            .bind(&self.outbox)
            .bind(self.queue.1.as_deref())
            .bind(self.queue.0)
            .bind(notify::CHANNEL)
            .bind(&self.notification);
        let query = if self.expected == 0 { query } else { query.bind(self.expected) };
        match query.fetch_optional(conn).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Failure::Refused(StoreError::Conflict(self.id.clone()))),
            Err(e) => Err(Failure::Failed(db_error(e))),
        }
    }

    fn number(&self) -> Option<i64> {
        (self.expected == 0).then_some(self.ticket.number)
    }

    fn take_audit(&mut self) -> Vec<AuditEntry> {
        std::mem::take(&mut self.audit)
    }

    fn output(self, audit: Vec<AuditRecord>) -> Result<Committed, StoreError> {
        Ok(Committed { version: self.version, audit })
    }
}
