//! A ticket commit on PostgreSQL, as one write of the writer's batch (see `writer`): prepared
//! (rows serialized) in the caller's task, then written as ONE statement whose parts all hang
//! off the ticket row it inserted or updated, so a stale version (or a taken id or number)
//! writes nothing at all and leaves the transaction going. Only the parts a change has are in
//! its statement (a table with no rows is not even opened). The audit records are chained and
//! inserted by the batch.

use async_trait::async_trait;
use docket_app::{Change, Committed, QueueOp, StoreError};
use docket_core::TicketId;
use docket_core::audit::{AuditEntry, AuditRecord};
use serde::Serialize;
use sqlx::postgres::PgArguments;
use sqlx::{PgConnection, Postgres};

use super::notify;
use super::writer::{Failure, Write};
use crate::projection;
use crate::rows::{self, TicketColumns, db_error, nanos, time_text, to_i64};

/// A statement being built: its text and its parameters, numbered in the order they are added.
/// The text is made only of the constant parts below, so it is safe to run; a commit's text
/// depends only on which kinds of rows it has, so a handful of texts cover every commit and
/// each is prepared once per connection.
struct Statement {
    text: String,
    args: PgArguments,
    count: usize,
}

impl Statement {
    fn new() -> Self {
        Self { text: String::with_capacity(2048), args: PgArguments::default(), count: 0 }
    }

    /// Adds a parameter; its placeholder.
    fn param<'t, T>(&mut self, value: T) -> Result<String, Failure>
    where
        T: sqlx::Encode<'t, Postgres> + sqlx::Type<Postgres>,
    {
        sqlx::Arguments::add(&mut self.args, value)
            .map_err(|e| Failure::Failed(StoreError::Unavailable(format!("cannot bind a parameter: {e}"))))?;
        self.count += 1;
        Ok(format!("${}", self.count))
    }
}
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
    queue: QueueOp,
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
            queue: change.queue,
            notification,
            id: change.ticket.id,
            audit: change.audit,
        })
    }

    /// The commit as one statement: the ticket row inserted (a taken id or number inserts
    /// nothing) or updated (only at the expected version) as `t`, and each kind of row the change
    /// has, read from a JSON array and joined to `t`, so none is written when the ticket row was
    /// not; the notification is sent only then too, and the statement returns a row only then.
    fn statement(&self) -> Result<Statement, Failure> {
        let mut s = Statement::new();
        let t = &self.ticket;
        if self.expected == 0 {
            let values = [
                s.param(&t.id)?,
                s.param(t.number)?,
                s.param(&t.workflow)?,
                s.param(&t.requester)?,
                s.param(t.state)?,
                s.param(&t.created_at)?,
                s.param(&t.updated_at)?,
                s.param(t.respond_by_ns)?,
                s.param(t.start_by_ns)?,
                s.param(t.version)?,
                s.param(&t.body)?,
            ];
            s.text.push_str(&format!(
                "WITH t AS (INSERT INTO tickets (id, number, workflow, requester, state, created_at, updated_at, \
                 respond_by_ns, start_by_ns, version, body) VALUES ({}::json) ON CONFLICT DO NOTHING RETURNING id)",
                values.join(", ")
            ));
        } else {
            let text = format!(
                "WITH t AS (UPDATE tickets SET workflow = {}, requester = {}, state = {}, updated_at = {}, \
                 respond_by_ns = {}, start_by_ns = {}, version = {}, body = {}::json \
                 WHERE id = {} AND version = {} RETURNING id)",
                s.param(&t.workflow)?,
                s.param(&t.requester)?,
                s.param(t.state)?,
                s.param(&t.updated_at)?,
                s.param(t.respond_by_ns)?,
                s.param(t.start_by_ns)?,
                s.param(t.version)?,
                s.param(&t.body)?,
                s.param(&t.id)?,
                s.param(self.expected)?,
            );
            s.text.push_str(&text);
        }
        if let Some(rows) = &self.events {
            let rows = s.param(rows)?;
            s.text.push_str(&format!(
                ", ev AS (INSERT INTO ticket_events (ticket, seq, at, action, body) \
                 SELECT t.id, r.seq, r.at, r.action, r.body::json \
                 FROM t, json_to_recordset({rows}::json) AS r(seq bigint, at text, action text, body text))"
            ));
        }
        if let Some(rows) = &self.approvals {
            let rows = s.param(rows)?;
            s.text.push_str(&format!(
                ", ap AS (INSERT INTO approvals (ticket, seq, person, stage, verdict, round, digest, comment, at, \
                 expires_at) SELECT t.id, r.seq, r.person, r.stage, r.verdict, r.round, r.digest, r.comment, r.at, \
                 r.expires_at FROM t, json_to_recordset({rows}::json) AS r(seq bigint, person text, stage text, \
                 verdict text, round bigint, digest text, comment text, at text, expires_at text))"
            ));
        }
        if let Some(rows) = &self.comments {
            let rows = s.param(rows)?;
            s.text.push_str(&format!(
                ", co AS (INSERT INTO comments (ticket, seq, author, text, at) \
                 SELECT t.id, r.seq, r.author, r.text, r.at \
                 FROM t, json_to_recordset({rows}::json) AS r(seq bigint, author text, text text, at text))"
            ));
        }
        if let Some(rows) = &self.runs {
            let rows = s.param(rows)?;
            s.text.push_str(&format!(
                ", ru AS (INSERT INTO runs (ticket, number, started_at, finished_at, outcome) \
                 SELECT t.id, r.number, r.started_at, r.finished_at, r.outcome::json \
                 FROM t, json_to_recordset({rows}::json) AS r(number bigint, started_at text, finished_at text, \
                 outcome text) ON CONFLICT (ticket, number) DO UPDATE SET started_at = EXCLUDED.started_at, \
                 finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome)"
            ));
        }
        if let Some(rows) = &self.steps {
            let rows = s.param(rows)?;
            s.text.push_str(&format!(
                ", st AS (INSERT INTO run_steps (ticket, run, step, name, attempts, started_at, finished_at, outcome, \
                 exit_code) SELECT t.id, r.run, r.step, r.name, r.attempts, r.started_at, r.finished_at, \
                 r.outcome::json, r.exit_code FROM t, json_to_recordset({rows}::json) AS r(run bigint, step bigint, \
                 name text, attempts bigint, started_at text, finished_at text, outcome text, exit_code bigint) \
                 ON CONFLICT (ticket, run, step) DO UPDATE SET name = EXCLUDED.name, attempts = EXCLUDED.attempts, \
                 started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, \
                 exit_code = EXCLUDED.exit_code)"
            ));
        }
        if let Some(rows) = &self.outbox {
            let (at, at_ns, rows) = (s.param(&self.at)?, s.param(self.at_ns)?, s.param(rows)?);
            s.text.push_str(&format!(
                ", ob AS (INSERT INTO outbox (notifier, ticket, key, payload, created_at, next_attempt_ns) \
                 SELECT r.notifier, r.ticket, r.key, r.payload::json, {at}, {at_ns} \
                 FROM t, json_to_recordset({rows}::json) AS r(i bigint, notifier text, ticket text, key text, \
                 payload text) ORDER BY r.i)"
            ));
        }
        match &self.queue {
            QueueOp::None => {}
            // Enqueueing a ticket already queued moves it to the back, unclaimed.
            QueueOp::Enqueue { concurrency_key } => {
                let key = s.param(concurrency_key.as_deref())?;
                s.text.push_str(&format!(
                    ", qe AS (INSERT INTO run_queue (ticket, concurrency_key) SELECT t.id, {key} FROM t \
                     ON CONFLICT (ticket) DO UPDATE SET position = nextval('run_queue_positions'), \
                     concurrency_key = EXCLUDED.concurrency_key, holder = NULL, lease_until_ns = NULL, \
                     claimed_before = FALSE)"
                ));
            }
            QueueOp::Remove => s.text.push_str(", qd AS (DELETE FROM run_queue WHERE ticket IN (SELECT id FROM t))"),
        }
        let (channel, payload) = (s.param(notify::CHANNEL)?, s.param(&self.notification)?);
        s.text.push_str(&format!(" SELECT pg_notify({channel}, {payload})::text AS notified FROM t"));
        Ok(s)
    }
}

#[async_trait]
impl Write for Commit {
    type Output = Committed;

    fn key(&self) -> (u8, &str) {
        (0, &self.ticket.id)
    }

    async fn apply(&mut self, conn: &mut PgConnection) -> Result<(), Failure> {
        let statement = self.statement()?;
        match sqlx::query_with(sqlx::AssertSqlSafe(statement.text), statement.args).fetch_optional(conn).await {
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
