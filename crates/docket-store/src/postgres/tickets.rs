//! Tickets on PostgreSQL: ticket numbers and the ticket queries (a commit is a write of the
//! writer's batch, see `commit`).

use docket_app::{StoreError, StoredTicket, TicketFilter, TicketPage};
use docket_core::{Event, TicketId, TicketState};
use jiff::Timestamp;
use sqlx::PgPool;

use crate::rows::{self, db_error, nanos, to_i64, to_unsigned};

/// Allocates the next ticket number from the sequence.
pub(super) async fn next_number(pool: &PgPool) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT nextval('ticket_numbers')").fetch_one(pool).await.map_err(db_error)?;
    to_unsigned(n, "ticket number")
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
