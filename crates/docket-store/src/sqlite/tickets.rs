//! Tickets on SQLite: the commit (ticket, events, projections, then audit, outbox and queue),
//! reserving ticket numbers (handed out by `numbers`), and the ticket queries. A commit is
//! prepared (rows serialized) in the caller's task; the writer chains its audit records and
//! writes it all with one constant list of statements, in which a stale version stops
//! everything (see [`EXPECT_ONE_CHANGE`]). The commit of a step's end also writes what is
//! left of the step, with the same statements; a commit made once per delivery first records the
//! delivery, and a delivery recorded before stops everything the same way.

use docket_app::{Change, Committed, Delivery, EndOfStep, QueueOp, StoreError, StoredTicket, TicketFilter, TicketPage};
use docket_core::{Event, TicketId, TicketState};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::SqlitePool;

use super::audit::{PendingAudit, insert_audit};
use super::logs::{self, append_lines};
use super::outbox;
use super::processes::forget_process;
use super::writer::{Args, Head, Row, Sql, Write, bind, raised, write_error};
use crate::processes::key;
use crate::projection;
use crate::rows::{self, TicketColumns, db_error, nanos, time_text, to_i64, to_unsigned};

/// Reserves the next `.0` ticket numbers on the persistent counter; answers the last of them.
#[derive(Debug)]
pub(super) struct ReserveNumbers(pub(super) u64);

static RESERVE_NUMBERS: Sql = Sql::new(
    "UPDATE counters SET value = value + ? WHERE name = 'ticket_number'; \
     SELECT (SELECT value FROM counters WHERE name = 'ticket_number') AS value; ",
    1,
);

impl Write for ReserveNumbers {
    type Output = u64;

    fn sql(&self) -> &'static Sql {
        &RESERVE_NUMBERS
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, to_i64(self.0, "ticket numbers")?)
    }

    fn output(self, rows: Vec<Row>) -> Result<u64, StoreError> {
        let n: Option<i64> = rows.first().map(|r| r.try_get("value")).transpose()?.flatten();
        let n = n.ok_or_else(|| StoreError::Corrupt("the ticket number counter is missing".into()))?;
        to_unsigned(n, "ticket number")
    }
}

/// Gives numbers back to the persistent counter at a clean stop: sets it to `.0` (the last
/// number handed out) only if it still stands at `.1` (the end of this store's block), so a
/// block another process reserved since is never handed out twice. Answers whether it did.
#[derive(Debug)]
pub(super) struct ReleaseNumbers(pub(super) u64, pub(super) u64);

static RELEASE_NUMBERS: Sql =
    Sql::new("UPDATE counters SET value = ? WHERE name = 'ticket_number' AND value = ?; SELECT changes() AS n; ", 1);

impl Write for ReleaseNumbers {
    type Output = bool;

    fn sql(&self) -> &'static Sql {
        &RELEASE_NUMBERS
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, to_i64(self.0, "ticket numbers")?)?;
        bind(args, to_i64(self.1, "ticket numbers")?)
    }

    fn output(self, rows: Vec<Row>) -> Result<bool, StoreError> {
        let n: Option<i64> = rows.first().map(|r| r.try_get("n")).transpose()?;
        Ok(n.unwrap_or(0) > 0)
    }
}

/// The message of the error [`EXPECT_ONE_CHANGE`] raises, as a literal for its SQL.
macro_rules! conflict {
    () => {
        "docket: the ticket changed concurrently"
    };
}
const CONFLICT: &str = conflict!();

/// The message of the error `expect_new_delivery` raises (see [`EXPECT_ONE_CHANGE`]).
macro_rules! delivered {
    () => {
        "docket: the delivery was recorded before"
    };
}
const DELIVERED: &str = delivered!();

/// Connection-private (TEMP) objects the writer creates on its connection: inserting the number
/// of rows the previous statement changed into `expect_one_change` fails with [`CONFLICT`] unless
/// it is 1. This lets a commit check the ticket's version and write everything else in one
/// list of statements: the statements after a failed one do not run, and what ran before it is
/// undone (the batch's transaction is rolled back; when the batch runs again, the write's own
/// savepoint).
/// `expect_new_delivery` does the same for a delivery's record, failing with [`DELIVERED`].
pub(super) const EXPECT_ONE_CHANGE: &str = concat!(
    "CREATE TEMP VIEW IF NOT EXISTS expect_one_change (n) AS SELECT 0; ",
    "CREATE TEMP TRIGGER IF NOT EXISTS expect_one_change_check INSTEAD OF INSERT ON expect_one_change ",
    "WHEN NEW.n <> 1 BEGIN SELECT RAISE(ABORT, '",
    conflict!(),
    "'); END; ",
    "CREATE TEMP VIEW IF NOT EXISTS expect_new_delivery (n) AS SELECT 0; ",
    "CREATE TEMP TRIGGER IF NOT EXISTS expect_new_delivery_check INSTEAD OF INSERT ON expect_new_delivery ",
    "WHEN NEW.n <> 1 BEGIN SELECT RAISE(ABORT, '",
    delivered!(),
    "'); END"
);

/// Records a delivery in surface state (see `state`) unless it is there, which stops the
/// commit. Parameters: the scope, the key, the time in nanoseconds.
macro_rules! record_delivery {
    () => {
        "INSERT INTO surface_state (scope, key, value, updated_ns) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING; \
         INSERT INTO expect_new_delivery VALUES (changes()); "
    };
}

/// Everything a change writes after its ticket row, each table from a JSON array of rows (NULL
/// for none), so one constant text serves any number of rows. The ticket id is bound once per
/// statement that uses it (see `bind_rows`). (An `INSERT … SELECT` with an upsert needs a
/// `WHERE`, hence `WHERE true`.)
macro_rules! write_rows {
    () => {
        concat!(
            "INSERT INTO ticket_events (ticket, seq, at, action, body) \
             SELECT ?, value ->> 'seq', value ->> 'at', value ->> 'action', value ->> 'body' FROM jsonb_each(?); \
             INSERT INTO approvals (ticket, seq, person, stage, verdict, round, digest, comment, at, expires_at) \
             SELECT ?, value ->> 'seq', value ->> 'person', value ->> 'stage', value ->> 'verdict', \
             value ->> 'round', value ->> 'digest', value ->> 'comment', value ->> 'at', value ->> 'expires_at' \
             FROM jsonb_each(?); \
             INSERT INTO comments (ticket, seq, author, text, at) \
             SELECT ?, value ->> 'seq', value ->> 'author', value ->> 'text', value ->> 'at' FROM jsonb_each(?); \
             INSERT INTO runs (ticket, number, started_at, finished_at, outcome) \
             SELECT ?, value ->> 'number', value ->> 'started_at', value ->> 'finished_at', value ->> 'outcome' \
             FROM jsonb_each(?) WHERE true \
             ON CONFLICT (ticket, number) DO UPDATE SET started_at = excluded.started_at, \
             finished_at = excluded.finished_at, outcome = excluded.outcome; \
             INSERT INTO run_steps (ticket, run, step, name, attempts, started_at, finished_at, outcome, exit_code) \
             SELECT ?, value ->> 'run', value ->> 'step', value ->> 'name', value ->> 'attempts', \
             value ->> 'started_at', value ->> 'finished_at', value ->> 'outcome', value ->> 'exit_code' \
             FROM jsonb_each(?) WHERE true \
             ON CONFLICT (ticket, run, step) DO UPDATE SET name = excluded.name, attempts = excluded.attempts, \
             started_at = excluded.started_at, finished_at = excluded.finished_at, outcome = excluded.outcome, \
             exit_code = excluded.exit_code; ",
            insert_audit!(),
            "; INSERT INTO outbox (notifier, ticket, key, payload, created_at, next_attempt_ns) \
             SELECT value ->> 'notifier', ?, value ->> 'key', value ->> 'payload', ?, ? \
             FROM jsonb_each(?) ORDER BY jsonb_each.key; \
             INSERT INTO run_queue (ticket, position, concurrency_key) \
             SELECT ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM run_queue), ? WHERE ? = 1 \
             ON CONFLICT (ticket) DO UPDATE SET position = excluded.position, \
             concurrency_key = excluded.concurrency_key, holder = NULL, lease_until_ns = NULL, claimed_before = 0; \
             DELETE FROM run_queue WHERE ? = 2 AND ticket = ?; "
        )
    };
}

/// Creates a ticket and writes its rows. A taken id or number inserts nothing, which is the
/// conflict. The counter is raised to the number only if it is behind (a number not handed out
/// by the store), so a normal commit leaves the counter's page alone. Parameters: the eleven
/// ticket columns, the number twice more, then `write_rows`'.
macro_rules! create {
    () => {
        concat!(
            "INSERT INTO tickets (id, number, workflow, requester, state, created_at, updated_at, respond_by_ns, \
             start_by_ns, version, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING; \
             INSERT INTO expect_one_change VALUES (changes()); \
             UPDATE counters SET value = ? WHERE name = 'ticket_number' AND value < ?; ",
            write_rows!()
        )
    };
}
static CREATE: Sql = Sql::new(create!(), 0);

/// Updates a ticket if its version is still the expected one, and writes its rows. No row
/// updated is the conflict. Parameters: the eight columns set, the id and the expected version,
/// then `write_rows`'.
macro_rules! update {
    () => {
        concat!(
            "UPDATE tickets SET workflow = ?, requester = ?, state = ?, updated_at = ?, respond_by_ns = ?, \
             start_by_ns = ?, version = ?, body = ? WHERE id = ? AND version = ?; \
             INSERT INTO expect_one_change VALUES (changes()); ",
            write_rows!()
        )
    };
}
static UPDATE: Sql = Sql::new(update!(), 0);

/// [`CREATE`] and [`UPDATE`] followed by what is left of a step whose end the change records
/// (see `EndOfStep`): its last output lines (a JSON array, or NULL) and the forgetting of its
/// process record (NULLs for none), all in the one transaction. Their parameters come after
/// all the others.
static CREATE_END: Sql = Sql::new(concat!(create!(), append_lines!(), forget_process!()), 0);
static UPDATE_END: Sql = Sql::new(concat!(update!(), append_lines!(), forget_process!()), 0);

/// [`CREATE`] and [`UPDATE`] made once per delivery: the delivery's record first. Its
/// parameters come before all the others.
static CREATE_ONCE: Sql = Sql::new(concat!(record_delivery!(), create!()), 0);
static UPDATE_ONCE: Sql = Sql::new(concat!(record_delivery!(), update!()), 0);

/// The queue code of `write_rows` (1 enqueue, 2 remove) and the concurrency key: what happens
/// to the ticket's place in the run queue.
fn queue_code(op: &QueueOp) -> (i64, Option<&str>) {
    match op {
        QueueOp::None => (0, None),
        // Enqueueing a ticket already queued moves it to the back, unclaimed.
        QueueOp::Enqueue { concurrency_key } => (1, concurrency_key.as_deref()),
        QueueOp::Remove => (2, None),
    }
}

/// A rows array as JSON, or NULL when there are none.
fn json_rows<T: Serialize>(rows: &[T], what: &str) -> Result<Option<String>, StoreError> {
    if rows.is_empty() { Ok(None) } else { rows::to_json(rows, what).map(Some) }
}

/// One command's effects, ready to write: every row but the audit records serialized.
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
    audit: PendingAudit,
    outbox: Option<String>,
    at: String,
    at_ns: i64,
    queue: QueueOp,
    /// What the commit writes besides the change.
    along: Along,
}

/// What a commit writes besides its change.
#[derive(Debug)]
enum Along {
    Nothing,
    /// What is left of the step whose end it records.
    EndOfStep(StepLeft),
    /// The delivery it is made once for: its scope, key and record's value.
    Delivery(String, String, String),
}

/// What is left of a step, written with its end: its last lines (a JSON array, see `logs`)
/// and the key of its ended process group's record.
#[derive(Debug)]
struct StepLeft {
    lines: Option<String>,
    ended: Option<(String, [i64; 3])>,
}

impl Commit {
    /// Prepares `change` (in the caller's task, so the writer only writes).
    pub(super) fn new(change: Change) -> Result<Self, StoreError> {
        let rows = projection::rows(&change)?;
        let version = change
            .expected_version
            .checked_add(change.events.len() as u64)
            .ok_or_else(|| StoreError::Unavailable("ticket version overflow".into()))?;
        Ok(Self {
            ticket: TicketColumns::new(&change.ticket, version)?,
            id: change.ticket.id,
            expected: to_i64(change.expected_version, "ticket version")?,
            version,
            events: json_rows(&rows.events, "events")?,
            approvals: json_rows(&rows.approvals, "approvals")?,
            comments: json_rows(&rows.comments, "comments")?,
            runs: json_rows(&rows.runs, "runs")?,
            steps: json_rows(&rows.steps, "run steps")?,
            audit: PendingAudit::new(change.audit)?,
            outbox: json_rows(&outbox::rows(&change.outbox)?, "outbox messages")?,
            at: time_text(change.at),
            at_ns: nanos(change.at),
            queue: change.queue,
            along: Along::Nothing,
        })
    }

    /// The same commit, also writing what is left of the step whose end it records.
    pub(super) fn with_end(self, end: EndOfStep<'_>) -> Result<Self, StoreError> {
        let lines = if end.lines.is_empty() { None } else { Some(logs::lines_json(end.lines)?) };
        let ended = end.ended.map(|(host, group)| Ok::<_, StoreError>((host.to_owned(), key(group)?))).transpose()?;
        Ok(Self { along: Along::EndOfStep(StepLeft { lines, ended }), ..self })
    }

    /// The same commit, made once for `delivery`: recorded with it, or, if recorded before,
    /// nothing is written.
    pub(super) fn once(self, delivery: Delivery<'_>) -> Self {
        let value = delivery.value(&self.id);
        Self { along: Along::Delivery(delivery.scope.to_owned(), delivery.key.to_owned(), value), ..self }
    }
}

impl Write for Commit {
    type Output = Committed;

    fn sql(&self) -> &'static Sql {
        match (self.expected == 0, &self.along) {
            (true, Along::Nothing) => &CREATE,
            (false, Along::Nothing) => &UPDATE,
            (true, Along::EndOfStep(_)) => &CREATE_END,
            (false, Along::EndOfStep(_)) => &UPDATE_END,
            (true, Along::Delivery(..)) => &CREATE_ONCE,
            (false, Along::Delivery(..)) => &UPDATE_ONCE,
        }
    }

    fn chain(&mut self, head: &mut Head) -> Result<(), StoreError> {
        self.audit.chain(head)
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        let t = &self.ticket;
        if let Along::Delivery(scope, key, value) = &self.along {
            bind(args, scope.as_str())?;
            bind(args, key.as_str())?;
            bind(args, value.as_str())?;
            bind(args, self.at_ns)?;
        }
        if self.expected == 0 {
            bind(args, &t.id)?;
            bind(args, t.number)?;
            bind(args, &t.workflow)?;
            bind(args, &t.requester)?;
            bind(args, t.state)?;
            bind(args, &t.created_at)?;
            bind(args, &t.updated_at)?;
            bind(args, t.respond_by_ns)?;
            bind(args, t.start_by_ns)?;
            bind(args, t.version)?;
            bind(args, &t.body)?;
            bind(args, t.number)?;
            bind(args, t.number)?;
        } else {
            bind(args, &t.workflow)?;
            bind(args, &t.requester)?;
            bind(args, t.state)?;
            bind(args, &t.updated_at)?;
            bind(args, t.respond_by_ns)?;
            bind(args, t.start_by_ns)?;
            bind(args, t.version)?;
            bind(args, &t.body)?;
            bind(args, &t.id)?;
            bind(args, self.expected)?;
        }
        let (queue, key) = queue_code(&self.queue);
        for rows in [&self.events, &self.approvals, &self.comments, &self.runs, &self.steps] {
            bind(args, &t.id)?;
            bind(args, rows)?;
        }
        bind(args, self.audit.json())?;
        bind(args, &t.id)?;
        bind(args, &self.at)?;
        bind(args, self.at_ns)?;
        bind(args, &self.outbox)?;
        bind(args, &t.id)?;
        bind(args, key)?;
        bind(args, queue)?;
        bind(args, queue)?;
        bind(args, &t.id)?;
        if let Along::EndOfStep(end) = &self.along {
            bind(args, &end.lines)?;
            let (host, [pgid, leader, started]) = match &end.ended {
                Some((host, key)) => (Some(host.as_str()), key.map(Some)),
                None => (None, [None; 3]),
            };
            bind(args, host)?;
            bind(args, pgid)?;
            bind(args, leader)?;
            bind(args, started)?;
        }
        Ok(())
    }

    fn output(self, _: Vec<Row>) -> Result<Committed, StoreError> {
        Ok(Committed { version: self.version, audit: self.audit.into_records() })
    }

    fn error(&self, error: rusqlite::Error) -> StoreError {
        match (raised(&error), &self.along) {
            (Some(CONFLICT), _) => StoreError::Conflict(self.id.clone()),
            (Some(DELIVERED), Along::Delivery(_, key, _)) => StoreError::Delivered(key.clone()),
            _ => write_error(error),
        }
    }
}

/// One ticket with its version.
pub(super) async fn ticket(reader: &SqlitePool, id: &TicketId) -> Result<Option<StoredTicket>, StoreError> {
    let row = sqlx::query("SELECT body, version FROM tickets WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(reader)
        .await
        .map_err(db_error)?;
    row.as_ref().map(rows::stored_ticket).transpose()
}

/// A ticket's events in order.
pub(super) async fn events(reader: &SqlitePool, id: &TicketId) -> Result<Vec<(Event, Timestamp)>, StoreError> {
    let found = sqlx::query("SELECT body, at FROM ticket_events WHERE ticket = ? ORDER BY seq")
        .bind(id.to_string())
        .fetch_all(reader)
        .await
        .map_err(db_error)?;
    found.iter().map(rows::event).collect()
}

/// A page of tickets, newest first.
pub(super) async fn list(reader: &SqlitePool, filter: &TicketFilter) -> Result<TicketPage, StoreError> {
    let limit = rows::page_limit(filter.limit);
    let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
    let before = filter.before.map(|b| to_i64(b, "ticket number")).transpose()?;
    let found = sqlx::query(
        "SELECT body FROM tickets \
         WHERE (?1 = 0 OR state IN (SELECT value FROM json_each(?2))) \
           AND (?3 IS NULL OR workflow = ?3) \
           AND (?4 IS NULL OR requester = ?4) \
           AND (?5 IS NULL OR number < ?5) \
         ORDER BY number DESC LIMIT ?6",
    )
    .bind(i64::from(!states.is_empty()))
    .bind(rows::to_json(&states, "ticket states")?)
    .bind(filter.workflow.as_ref().map(|w| w.as_str()))
    .bind(filter.requester.as_ref().map(|p| p.as_str()))
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(db_error)?;
    let tickets = found.iter().map(rows::ticket).collect::<Result<Vec<_>, _>>()?;
    let full = u32::try_from(tickets.len()).is_ok_and(|n| n == limit);
    let next = if full { tickets.last().map(|t| t.id.number()) } else { None };
    Ok(TicketPage { tickets, next })
}

/// Open tickets past a deadline: a request nobody answered by `respond_by`, or an approval
/// whose run did not start by `start_by`.
pub(super) async fn due_for_expiry(
    reader: &SqlitePool,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<TicketId>, StoreError> {
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM tickets \
         WHERE (state IN ('awaiting_approval', 'changes_requested') AND respond_by_ns <= ?1) \
            OR (state IN ('approved', 'queued') AND start_by_ns <= ?1) \
         ORDER BY number LIMIT ?2",
    )
    .bind(nanos(now))
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(db_error)?;
    found.iter().map(|id| rows::ticket_id(id)).collect()
}

/// Tickets in one state, oldest first.
pub(super) async fn in_state(reader: &SqlitePool, state: TicketState, limit: u32) -> Result<Vec<TicketId>, StoreError> {
    let found: Vec<String> = sqlx::query_scalar("SELECT id FROM tickets WHERE state = ? ORDER BY number LIMIT ?")
        .bind(state.as_str())
        .bind(i64::from(limit))
        .fetch_all(reader)
        .await
        .map_err(db_error)?;
    found.iter().map(|id| rows::ticket_id(id)).collect()
}
