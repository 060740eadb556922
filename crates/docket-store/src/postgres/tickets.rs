//! Tickets on PostgreSQL: the commit transaction (ticket, events, projections, then audit, outbox
//! and queue), ticket numbers, and the ticket queries.

use docket_app::{Change, Committed, QueueOp, StoreError, StoredTicket, TicketFilter, TicketPage};
use docket_core::{Event, TicketId, TicketState};
use jiff::Timestamp;
use sqlx::{PgConnection, PgPool};

use super::{audit, outbox, queue};
use crate::projection::{self, ChangeRows};
use crate::rows::{self, TicketColumns, db_error, is_unique_violation, nanos, to_i64, to_unsigned};

/// Allocates the next ticket number from the sequence.
pub(super) async fn next_number(pool: &PgPool) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT nextval('ticket_numbers')").fetch_one(pool).await.map_err(db_error)?;
    to_unsigned(n, "ticket number")
}

/// Writes one command's effects in one transaction.
pub(super) async fn commit(pool: &PgPool, sender: &str, change: Change) -> Result<Committed, StoreError> {
    let rows = projection::rows(&change)?;
    let version = change
        .expected_version
        .checked_add(change.events.len() as u64)
        .ok_or_else(|| StoreError::Unavailable("ticket version overflow".into()))?;
    let ticket = TicketColumns::new(&change.ticket, version)?;
    let expected = to_i64(change.expected_version, "ticket version")?;

    let mut tx = pool.begin().await.map_err(db_error)?;
    write_ticket(&mut tx, &ticket, expected, &change.ticket.id).await?;
    write_rows(&mut tx, &ticket.id, &rows).await?;
    let audit = audit::append(&mut tx, change.audit).await?;
    outbox::insert(&mut tx, &change.outbox, change.at).await?;
    queue::apply(&mut tx, &ticket.id, &change.queue).await?;
    let (run, outbox) = (change.queue != QueueOp::None, !change.outbox.is_empty());
    super::notify::ticket_changed(&mut tx, sender, &change.ticket.id, version, change.ticket.state, run, outbox)
        .await?;
    tx.commit().await.map_err(db_error)?;
    Ok(Committed { version, audit })
}

/// Inserts a new ticket (`expected == 0`) or updates it if its version is still `expected`.
async fn write_ticket(
    conn: &mut PgConnection,
    t: &TicketColumns,
    expected: i64,
    id: &TicketId,
) -> Result<(), StoreError> {
    if expected == 0 {
        let inserted = sqlx::query(
            "INSERT INTO tickets (id, number, workflow, requester, state, created_at, updated_at, \
             respond_by_ns, start_by_ns, version, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::json)",
        )
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
        .execute(&mut *conn)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict(id.clone())),
            other => other.map_err(db_error)?,
        };
        // A ticket made with a number the sequence has not reached yet keeps it from being
        // handed out again. The audit lock makes the check and the bump one step.
        audit::lock(conn).await?;
        sqlx::query(
            "SELECT setval('ticket_numbers', $1) FROM ticket_numbers \
             WHERE last_value < $1 OR (NOT is_called AND last_value = $1)",
        )
        .bind(t.number)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    } else {
        let updated = sqlx::query(
            "UPDATE tickets SET workflow = $1, requester = $2, state = $3, updated_at = $4, respond_by_ns = $5, \
             start_by_ns = $6, version = $7, body = $8::json WHERE id = $9 AND version = $10",
        )
        .bind(&t.workflow)
        .bind(&t.requester)
        .bind(t.state)
        .bind(&t.updated_at)
        .bind(t.respond_by_ns)
        .bind(t.start_by_ns)
        .bind(t.version)
        .bind(&t.body)
        .bind(&t.id)
        .bind(expected)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict(id.clone()));
        }
    }
    Ok(())
}

/// Writes the change's events and their projections.
async fn write_rows(conn: &mut PgConnection, ticket: &str, rows: &ChangeRows) -> Result<(), StoreError> {
    for e in &rows.events {
        sqlx::query("INSERT INTO ticket_events (ticket, seq, at, action, body) VALUES ($1, $2, $3, $4, $5::json)")
            .bind(ticket)
            .bind(e.seq)
            .bind(&e.at)
            .bind(e.action)
            .bind(&e.body)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    for a in &rows.approvals {
        sqlx::query(
            "INSERT INTO approvals (ticket, seq, person, stage, verdict, round, digest, comment, at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(ticket)
        .bind(a.seq)
        .bind(&a.person)
        .bind(&a.stage)
        .bind(a.verdict)
        .bind(a.round)
        .bind(&a.digest)
        .bind(&a.comment)
        .bind(&a.at)
        .bind(&a.expires_at)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    for c in &rows.comments {
        sqlx::query("INSERT INTO comments (ticket, seq, author, text, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(ticket)
            .bind(c.seq)
            .bind(&c.author)
            .bind(&c.text)
            .bind(&c.at)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    for r in &rows.runs {
        sqlx::query(
            "INSERT INTO runs (ticket, number, started_at, finished_at, outcome) VALUES ($1, $2, $3, $4, $5::json) \
             ON CONFLICT (ticket, number) DO UPDATE SET started_at = EXCLUDED.started_at, \
             finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome",
        )
        .bind(ticket)
        .bind(r.number)
        .bind(&r.started_at)
        .bind(&r.finished_at)
        .bind(&r.outcome)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    for s in &rows.steps {
        sqlx::query(
            "INSERT INTO run_steps (ticket, run, step, name, attempts, started_at, finished_at, outcome, exit_code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json, $9) ON CONFLICT (ticket, run, step) DO UPDATE SET \
             name = EXCLUDED.name, attempts = EXCLUDED.attempts, started_at = EXCLUDED.started_at, \
             finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, exit_code = EXCLUDED.exit_code",
        )
        .bind(ticket)
        .bind(s.run)
        .bind(s.step)
        .bind(&s.name)
        .bind(s.attempts)
        .bind(&s.started_at)
        .bind(&s.finished_at)
        .bind(&s.outcome)
        .bind(s.exit_code)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

/// One ticket with its version.
pub(super) async fn ticket(reader: &PgPool, id: &TicketId) -> Result<Option<StoredTicket>, StoreError> {
    let row = sqlx::query("SELECT body::text AS body, version FROM tickets WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(reader)
        .await
        .map_err(db_error)?;
    row.as_ref().map(rows::stored_ticket).transpose()
}

/// A ticket's events in order.
pub(super) async fn events(reader: &PgPool, id: &TicketId) -> Result<Vec<(Event, Timestamp)>, StoreError> {
    let found = sqlx::query("SELECT body::text AS body, at FROM ticket_events WHERE ticket = $1 ORDER BY seq")
        .bind(id.to_string())
        .fetch_all(reader)
        .await
        .map_err(db_error)?;
    found.iter().map(rows::event).collect()
}

/// A page of tickets, newest first.
pub(super) async fn list(reader: &PgPool, filter: &TicketFilter) -> Result<TicketPage, StoreError> {
    let limit = rows::page_limit(filter.limit);
    let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
    let before = filter.before.map(|b| to_i64(b, "ticket number")).transpose()?;
    let found = sqlx::query(
        "SELECT body::text AS body FROM tickets \
         WHERE (cardinality($1::text[]) = 0 OR state = ANY($1)) \
           AND ($2::text IS NULL OR workflow = $2) \
           AND ($3::text IS NULL OR requester = $3) \
           AND ($4::bigint IS NULL OR number < $4) \
         ORDER BY number DESC LIMIT $5",
    )
    .bind(states)
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
pub(super) async fn due_for_expiry(reader: &PgPool, now: Timestamp, limit: u32) -> Result<Vec<TicketId>, StoreError> {
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM tickets \
         WHERE (state IN ('awaiting_approval', 'changes_requested') AND respond_by_ns <= $1) \
            OR (state IN ('approved', 'queued') AND start_by_ns <= $1) \
         ORDER BY number LIMIT $2",
    )
    .bind(nanos(now))
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(db_error)?;
    found.iter().map(|id| rows::ticket_id(id)).collect()
}

/// Tickets in one state, oldest first.
pub(super) async fn in_state(reader: &PgPool, state: TicketState, limit: u32) -> Result<Vec<TicketId>, StoreError> {
    let found: Vec<String> = sqlx::query_scalar("SELECT id FROM tickets WHERE state = $1 ORDER BY number LIMIT $2")
        .bind(state.as_str())
        .bind(i64::from(limit))
        .fetch_all(reader)
        .await
        .map_err(db_error)?;
    found.iter().map(|id| rows::ticket_id(id)).collect()
}
