//! The outbox on PostgreSQL: rows inserted with the change that caused them, claimed a ticket at
//! a time by one replica with a lease (`outbox_claims`, one row per ticket, so two replicas
//! racing for a ticket meet on its primary key and exactly one wins), delivered one message at a
//! time per notifier and ticket, and marked delivered or failed.

use docket_app::{OutboxMessage, StoreError};
use docket_core::TicketId;
use jiff::Timestamp;
use sqlx::PgPool;

use crate::rows::{self, db_error, nanos, time_text, to_i64};

/// Pending messages due at `now`, oldest first, each the oldest pending one of its thread.
pub(super) async fn due(pool: &PgPool, now: Timestamp, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
    let found = sqlx::query(
        "SELECT id, notifier, ticket, key, payload::text AS payload, attempts, created_at, claims FROM outbox o \
         WHERE delivered_at IS NULL AND NOT gave_up AND next_attempt_ns <= $1 \
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.notifier = o.notifier AND p.ticket = o.ticket \
                           AND p.id < o.id AND p.delivered_at IS NULL AND NOT p.gave_up) \
         ORDER BY id LIMIT $2",
    )
    .bind(nanos(now))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    found.iter().map(rows::outbox_message).collect()
}

/// Claims up to `limit` tickets with due messages for `holder` and returns those messages.
///
/// Candidates are found by walking the pending messages in the order they come due (the time
/// index, which carries the id) and stopping after the first few that could be taken, so a
/// pass costs what it skips (messages of tickets claimed already, later ones of a thread), not
/// everything pending.
///
/// The claim is the ticket's row in `outbox_claims`: replicas racing for one ticket meet on its
/// primary key and the conditional upsert lets exactly one of them write. Row locks on the
/// messages themselves (`SKIP LOCKED`) would not do, since two claimers could lock different
/// messages of one ticket; instead candidates are read without locks and claimed in ticket
/// order, so two claimers never wait on each other in opposite orders (no deadlock), and one
/// that loses a race simply gets fewer tickets.
pub(super) async fn claim(
    pool: &PgPool,
    holder: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let mut tx = pool.begin().await.map_err(db_error)?;
    let candidates: Vec<String> = sqlx::query_scalar(
        "SELECT ticket FROM ( \
             SELECT o.ticket, o.id FROM outbox o \
             WHERE o.delivered_at IS NULL AND NOT o.gave_up AND o.next_attempt_ns <= $1 \
               AND NOT EXISTS (SELECT 1 FROM outbox_claims c WHERE c.ticket = o.ticket AND c.until_ns > $1) \
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.notifier = o.notifier AND p.ticket = o.ticket \
                               AND p.id < o.id AND p.delivered_at IS NULL AND NOT p.gave_up) \
             ORDER BY o.next_attempt_ns, o.id LIMIT $3) AS due \
         GROUP BY ticket ORDER BY MIN(id) LIMIT $2",
    )
    .bind(nanos(now))
    .bind(i64::from(limit))
    .bind(rows::claim_walk_limit(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    if candidates.is_empty() {
        tx.rollback().await.map_err(db_error)?;
        return Ok(Vec::new());
    }
    let won: Vec<String> = sqlx::query_scalar(
        "INSERT INTO outbox_claims (ticket, holder, token, until_ns) SELECT t, $2, '', $3 FROM unnest($1::text[]) AS t ORDER BY t \
         ON CONFLICT (ticket) DO UPDATE SET holder = EXCLUDED.holder, token = '', until_ns = EXCLUDED.until_ns \
         WHERE outbox_claims.until_ns <= $4 \
         RETURNING ticket",
    )
    .bind(&candidates)
    .bind(holder)
    .bind(nanos(lease_until))
    .bind(nanos(now))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    let found = sqlx::query(
        "UPDATE outbox SET claims = claims + 1 WHERE id IN ( \
             SELECT o.id FROM outbox o \
             WHERE o.ticket = ANY($1) AND o.delivered_at IS NULL AND NOT o.gave_up AND o.next_attempt_ns <= $2 \
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.notifier = o.notifier AND p.ticket = o.ticket \
                               AND p.id < o.id AND p.delivered_at IS NULL AND NOT p.gave_up)) \
         RETURNING id, notifier, ticket, key, payload::text AS payload, attempts, created_at, claims",
    )
    .bind(&won)
    .bind(nanos(now))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    let mut messages: Vec<OutboxMessage> = found.iter().map(rows::outbox_message).collect::<Result<_, _>>()?;
    messages.sort_by_key(|m| m.id);
    Ok(messages)
}

/// Extends `holder`'s claim on `ticket`; false if it is no longer the holder's.
pub(super) async fn renew(
    pool: &PgPool,
    holder: &str,
    ticket: &TicketId,
    until: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE outbox_claims SET until_ns = $1 WHERE ticket = $2 AND holder = $3")
        .bind(nanos(until))
        .bind(ticket.to_string())
        .bind(holder)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(done.rows_affected() > 0)
}

/// Ends `holder`'s claim on `ticket`.
pub(super) async fn release(pool: &PgPool, holder: &str, ticket: &TicketId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM outbox_claims WHERE ticket = $1 AND holder = $2")
        .bind(ticket.to_string())
        .bind(holder)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Marks a message delivered.
pub(super) async fn delivered(pool: &PgPool, id: u64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbox SET delivered_at = $1 WHERE id = $2 AND delivered_at IS NULL")
        .bind(time_text(at))
        .bind(to_i64(id, "outbox id")?)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Records a failed attempt: due again at `retry_at`, or given up for good.
pub(super) async fn failed(pool: &PgPool, id: u64, error: &str, retry_at: Option<Timestamp>) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $1, \
         next_attempt_ns = COALESCE($2, next_attempt_ns), gave_up = ($2::bigint IS NULL) \
         WHERE id = $3 AND delivered_at IS NULL",
    )
    .bind(error)
    .bind(retry_at.map(nanos))
    .bind(to_i64(id, "outbox id")?)
    .execute(pool)
    .await
    .map_err(db_error)?;
    Ok(())
}
