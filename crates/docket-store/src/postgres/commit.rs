//! Ticket commits on PostgreSQL, as writes of the writer's batch (see `writer`): prepared (rows
//! serialized to JSON) in the caller's task, then the batch's commits are written by ONE
//! constant statement ([`WRITE`]), one round trip however many there are. Each commit is an
//! element of JSON arrays, numbered by its place (`w`); its ticket row is inserted (`ON CONFLICT
//! DO NOTHING`) or updated at the expected version, and every other row of it is joined to the
//! ticket rows written (`t`), so a stale version or a taken id or number writes nothing at all
//! and leaves the transaction going. The statement returns the place of each commit that was
//! written. The audit records are chained and inserted by the batch.

use async_trait::async_trait;
use docket_app::{Change, Committed, QueueOp, StoreError};
use docket_core::TicketId;
use docket_core::audit::{AuditEntry, AuditRecord};
use serde::Serialize;
use sqlx::{PgConnection, Row as _};

use super::notify;
use super::writer::{Failure, Write};
use crate::projection;
use crate::rows::{self, TicketColumns, db_error, nanos, time_text, to_i64};

/// Writes a batch of commits, at most one per ticket. Parameters: `$1` the commits' ticket rows
/// with what else each needs (`k`), `$2`–`$7` each commit's events, approvals, comments, runs,
/// steps and notifications (an array of arrays, one per commit, in `$1`'s order), `$8` the
/// notification channel. Updates run in ticket order, so two batches lock rows in one order.
const WRITE: &str = "WITH k AS MATERIALIZED (\
    SELECT a.w, r.* FROM json_array_elements($1::json) WITH ORDINALITY AS a(j, w) \
    CROSS JOIN LATERAL json_to_record(a.j) AS r(id text, expected bigint, number bigint, workflow text, \
    requester text, state text, created_at text, updated_at text, respond_by_ns bigint, start_by_ns bigint, \
    version bigint, body text, at text, at_ns bigint, queue int, concurrency_key text, note text)), \
    c AS (INSERT INTO tickets (id, number, workflow, requester, state, created_at, updated_at, respond_by_ns, \
    start_by_ns, version, body) SELECT id, number, workflow, requester, state, created_at, updated_at, \
    respond_by_ns, start_by_ns, version, body::json FROM k WHERE expected = 0 ON CONFLICT DO NOTHING RETURNING id), \
    u AS (UPDATE tickets SET workflow = k.workflow, requester = k.requester, state = k.state, \
    updated_at = k.updated_at, respond_by_ns = k.respond_by_ns, start_by_ns = k.start_by_ns, version = k.version, \
    body = k.body::json FROM (SELECT * FROM k WHERE expected > 0 ORDER BY id) k \
    WHERE tickets.id = k.id AND tickets.version = k.expected RETURNING k.w, tickets.id), \
    t AS (SELECT k.w, k.id FROM c JOIN k ON k.id = c.id AND k.expected = 0 UNION ALL SELECT w, id FROM u), \
    ev AS (INSERT INTO ticket_events (ticket, seq, at, action, body) \
    SELECT t.id, r.seq, r.at, r.action, r.body::json \
    FROM t JOIN json_array_elements($2::json) WITH ORDINALITY AS a(j, w) ON a.w = t.w \
    CROSS JOIN LATERAL json_to_recordset(a.j) AS r(seq bigint, at text, action text, body text)), \
    ap AS (INSERT INTO approvals (ticket, seq, person, stage, verdict, round, digest, comment, at, expires_at) \
    SELECT t.id, r.seq, r.person, r.stage, r.verdict, r.round, r.digest, r.comment, r.at, r.expires_at \
    FROM t JOIN json_array_elements($3::json) WITH ORDINALITY AS a(j, w) ON a.w = t.w \
    CROSS JOIN LATERAL json_to_recordset(a.j) AS r(seq bigint, person text, stage text, verdict text, \
    round bigint, digest text, comment text, at text, expires_at text)), \
    co AS (INSERT INTO comments (ticket, seq, author, text, at) \
    SELECT t.id, r.seq, r.author, r.text, r.at \
    FROM t JOIN json_array_elements($4::json) WITH ORDINALITY AS a(j, w) ON a.w = t.w \
    CROSS JOIN LATERAL json_to_recordset(a.j) AS r(seq bigint, author text, text text, at text)), \
    ru AS (INSERT INTO runs (ticket, number, started_at, finished_at, outcome) \
    SELECT t.id, r.number, r.started_at, r.finished_at, r.outcome::json \
    FROM t JOIN json_array_elements($5::json) WITH ORDINALITY AS a(j, w) ON a.w = t.w \
    CROSS JOIN LATERAL json_to_recordset(a.j) AS r(number bigint, started_at text, finished_at text, outcome text) \
    ON CONFLICT (ticket, number) DO UPDATE SET started_at = EXCLUDED.started_at, \
    finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome), \
    st AS (INSERT INTO run_steps (ticket, run, step, name, attempts, started_at, finished_at, outcome, exit_code) \
    SELECT t.id, r.run, r.step, r.name, r.attempts, r.started_at, r.finished_at, r.outcome::json, r.exit_code \
    FROM t JOIN json_array_elements($6::json) WITH ORDINALITY AS a(j, w) ON a.w = t.w \
    CROSS JOIN LATERAL json_to_recordset(a.j) AS r(run bigint, step bigint, name text, attempts bigint, \
    started_at text, finished_at text, outcome text, exit_code bigint) \
    ON CONFLICT (ticket, run, step) DO UPDATE SET name = EXCLUDED.name, attempts = EXCLUDED.attempts, \
    started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, \
    exit_code = EXCLUDED.exit_code), \
    ob AS (INSERT INTO outbox (notifier, ticket, key, payload, created_at, next_attempt_ns) \
    SELECT r.notifier, r.ticket, r.key, r.payload::json, k.at, k.at_ns \
    FROM t JOIN k ON k.w = t.w JOIN json_array_elements($7::json) WITH ORDINALITY AS a(j, w) ON a.w = t.w \
    CROSS JOIN LATERAL json_to_recordset(a.j) AS r(i bigint, notifier text, ticket text, key text, payload text) \
    ORDER BY t.w, r.i), \
    qe AS (INSERT INTO run_queue (ticket, concurrency_key) \
    SELECT t.id, k.concurrency_key FROM t JOIN k ON k.w = t.w WHERE k.queue = 1 \
    ON CONFLICT (ticket) DO UPDATE SET position = nextval('run_queue_positions'), \
    concurrency_key = EXCLUDED.concurrency_key, holder = NULL, lease_until_ns = NULL, claimed_before = FALSE), \
    qd AS (DELETE FROM run_queue q USING t, k WHERE k.w = t.w AND k.queue = 2 AND q.ticket = t.id) \
    SELECT t.w, pg_notify($8, k.note)::text AS notified FROM t JOIN k ON k.w = t.w";

/// A commit's ticket row and what else it needs, as an element of [`WRITE`]'s `$1`.
#[derive(Debug, Serialize)]
struct TicketRow<'a> {
    id: &'a str,
    expected: i64,
    number: i64,
    workflow: &'a str,
    requester: &'a str,
    state: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
    respond_by_ns: Option<i64>,
    start_by_ns: Option<i64>,
    version: i64,
    body: &'a str,
    at: String,
    at_ns: i64,
    /// 1 to enqueue (a ticket already queued moves to the back, unclaimed), 2 to remove.
    queue: i32,
    concurrency_key: Option<&'a str>,
    note: &'a str,
}

/// An `outbox` row a change inserts, as an element of its array in [`WRITE`]'s `$7`.
#[derive(Debug, Serialize)]
struct OutboxRow<'a> {
    i: usize,
    notifier: &'a str,
    ticket: String,
    key: &'a str,
    payload: String,
}

/// A rows array as JSON (`[]` for none).
fn json_rows<T: Serialize>(rows: &[T], what: &str) -> Result<String, StoreError> {
    if rows.is_empty() { Ok("[]".to_owned()) } else { rows::to_json(rows, what) }
}

/// One command's effects, ready to write: every row serialized but the audit records.
#[derive(Debug)]
pub(super) struct Commit {
    id: TicketId,
    /// The ticket's id, as its rows have it (the order of a batch).
    key: String,
    number: i64,
    expected: i64,
    version: u64,
    /// The ticket row and the rest of `k`, and each kind of row, as JSON.
    json: [String; 7],
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
        let note =
            notify::ticket_payload(sender, &change.ticket.id, version, change.ticket.state, run, !outbox.is_empty());
        let t = TicketColumns::new(&change.ticket, version)?;
        let expected = to_i64(change.expected_version, "ticket version")?;
        let (queue, concurrency_key) = match &change.queue {
            QueueOp::None => (0, None),
            QueueOp::Enqueue { concurrency_key } => (1, concurrency_key.as_deref()),
            QueueOp::Remove => (2, None),
        };
        let ticket = TicketRow {
            id: &t.id,
            expected,
            number: t.number,
            workflow: &t.workflow,
            requester: &t.requester,
            state: t.state,
            created_at: &t.created_at,
            updated_at: &t.updated_at,
            respond_by_ns: t.respond_by_ns,
            start_by_ns: t.start_by_ns,
            version: t.version,
            body: &t.body,
            at: time_text(change.at),
            at_ns: nanos(change.at),
            queue,
            concurrency_key,
            note: &note,
        };
        let json = [
            rows::to_json(&ticket, "ticket row")?,
            json_rows(&rows.events, "events")?,
            json_rows(&rows.approvals, "approvals")?,
            json_rows(&rows.comments, "comments")?,
            json_rows(&rows.runs, "runs")?,
            json_rows(&rows.steps, "run steps")?,
            json_rows(&outbox, "outbox messages")?,
        ];
        Ok(Self {
            key: t.id.clone(),
            number: t.number,
            expected,
            version,
            json,
            id: change.ticket.id,
            audit: change.audit,
        })
    }

    /// The ticket it writes.
    pub(super) fn ticket(&self) -> &str {
        &self.key
    }

    /// The error of a commit that was not written.
    pub(super) fn conflict(&self) -> StoreError {
        StoreError::Conflict(self.id.clone())
    }
}

/// Writes `commits` (at most one per ticket) in one statement; whether each was written (a
/// stale version, a taken id or number writes nothing).
pub(super) async fn write(conn: &mut PgConnection, commits: &[&Commit]) -> Result<Vec<bool>, StoreError> {
    let mut query = sqlx::query(WRITE);
    for part in 0..7 {
        let mut array = String::with_capacity(commits.iter().map(|c| c.json[part].len() + 1).sum::<usize>() + 2);
        array.push('[');
        for (i, commit) in commits.iter().enumerate() {
            if i > 0 {
                array.push(',');
            }
            array.push_str(&commit.json[part]);
        }
        array.push(']');
        query = query.bind(array);
    }
    let found = query.bind(notify::CHANNEL).fetch_all(conn).await.map_err(db_error)?;
    let mut written = vec![false; commits.len()];
    for row in &found {
        let w: i64 = row.try_get("w").map_err(db_error)?;
        let slot = usize::try_from(w).ok().and_then(|w| w.checked_sub(1)).and_then(|i| written.get_mut(i));
        match slot {
            Some(slot) => *slot = true,
            None => return Err(StoreError::Corrupt(format!("a batch of commits answered for commit {w}"))),
        }
    }
    Ok(written)
}

#[async_trait]
impl Write for Commit {
    type Output = Committed;

    fn key(&self) -> (u8, &str) {
        (0, &self.key)
    }

    fn commit(&self) -> Option<&Commit> {
        Some(self)
    }

    async fn apply(&mut self, conn: &mut PgConnection) -> Result<(), Failure> {
        match write(conn, &[&*self]).await {
            Ok(written) if written.first() == Some(&true) => Ok(()),
            Ok(_) => Err(Failure::Refused(StoreError::Conflict(self.id.clone()))),
            Err(e) => Err(Failure::Failed(e)),
        }
    }

    fn number(&self) -> Option<i64> {
        (self.expected == 0).then_some(self.number)
    }

    fn take_audit(&mut self) -> Vec<AuditEntry> {
        std::mem::take(&mut self.audit)
    }

    fn output(self, audit: Vec<AuditRecord>) -> Result<Committed, StoreError> {
        Ok(Committed { version: self.version, audit })
    }
}
