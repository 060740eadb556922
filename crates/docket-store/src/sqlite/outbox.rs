//! The outbox on SQLite: rows inserted with the change that caused them, read when due (one
//! message at a time per notifier and ticket), claimed a ticket at a time with a lease, and
//! marked delivered or failed by the writer.

use std::sync::atomic::{AtomicU64, Ordering};

use docket_app::{NewOutboxMessage, OutboxMessage, StoreError};
use docket_core::TicketId;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::SqlitePool;

use super::queue::changed;
use super::writer::{Args, Row, Sql, Write, bind};
use crate::rows::{self, db_error, nanos, time_text, to_i64};

/// An `outbox` row a change inserts, as an element of the JSON array its commit reads (the
/// ticket and times are the change's).
#[derive(Debug, Serialize)]
pub(super) struct OutboxRow<'a> {
    notifier: &'a str,
    key: &'a str,
    payload: String,
}

/// The rows of a change's notifications.
pub(super) fn rows(messages: &[NewOutboxMessage]) -> Result<Vec<OutboxRow<'_>>, StoreError> {
    messages
        .iter()
        .map(|m| {
            Ok(OutboxRow { notifier: &m.notifier, key: &m.key, payload: rows::to_json(&m.payload, "outbox payload")? })
        })
        .collect()
}

/// Pending messages due at `now`, oldest first, each the oldest pending one of its thread.
pub(super) async fn due(reader: &SqlitePool, now: Timestamp, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
    let found = sqlx::query(
        "SELECT id, notifier, ticket, key, payload, attempts, created_at, claims FROM outbox o \
         WHERE delivered_at IS NULL AND gave_up = 0 AND next_attempt_ns <= ? \
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.notifier = o.notifier AND p.ticket = o.ticket \
                           AND p.id < o.id AND p.delivered_at IS NULL AND p.gave_up = 0) \
         ORDER BY id LIMIT ?",
    )
    .bind(nanos(now))
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(db_error)?;
    found.iter().map(rows::outbox_message).collect()
}

/// Marks a message delivered.
#[derive(Debug)]
pub(super) struct Delivered {
    id: i64,
    at: String,
}

impl Delivered {
    pub(super) fn new(id: u64, at: Timestamp) -> Result<Self, StoreError> {
        Ok(Self { id: to_i64(id, "outbox id")?, at: time_text(at) })
    }
}

static DELIVERED: Sql = Sql::new("UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL; ", 0);

impl Write for Delivered {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &DELIVERED
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, &self.at)?;
        bind(args, self.id)
    }

    fn output(self, _: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Records a failed attempt: due again at `retry_at`, or given up for good.
#[derive(Debug)]
pub(super) struct Failed {
    id: i64,
    error: String,
    retry_at: Option<i64>,
}

impl Failed {
    pub(super) fn new(id: u64, error: &str, retry_at: Option<Timestamp>) -> Result<Self, StoreError> {
        Ok(Self { id: to_i64(id, "outbox id")?, error: error.to_owned(), retry_at: retry_at.map(nanos) })
    }
}

static FAILED: Sql = Sql::new(
    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_ns = COALESCE(?, next_attempt_ns), \
     gave_up = (? IS NULL) WHERE id = ? AND delivered_at IS NULL; ",
    0,
);

impl Write for Failed {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &FAILED
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, &self.error)?;
        bind(args, self.retry_at)?;
        bind(args, self.retry_at)?;
        bind(args, self.id)
    }

    fn output(self, _: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Claims, for one holder, the tickets with due messages that nobody has a live claim on (the
/// writer runs one write at a time, so no two claims interleave), and counts each of their due
/// messages as claimed once more. Returns one row: how many tickets it claimed. The claim is
/// tagged with a token of its own, so [`claimed`] finds exactly the messages it took.
#[derive(Debug)]
pub(super) struct Claim {
    holder: String,
    token: String,
    now: i64,
    until: i64,
    /// Tickets to claim at most.
    limit: i64,
    /// Due messages to look at, at most ([`rows::claim_walk_limit`]).
    walk: i64,
}

impl Claim {
    pub(super) fn new(holder: &str, now: Timestamp, lease_until: Timestamp, limit: u32) -> Self {
        static CLAIMS: AtomicU64 = AtomicU64::new(0);
        let token = format!("{holder}:{}", CLAIMS.fetch_add(1, Ordering::Relaxed));
        Self {
            holder: holder.to_owned(),
            token,
            now: nanos(now),
            until: nanos(lease_until),
            limit: i64::from(limit),
            walk: rows::claim_walk_limit(limit),
        }
    }

    pub(super) fn token(&self) -> &str {
        &self.token
    }
}

/// The due messages of the tickets a claim took, each the oldest pending one of its thread, for
/// `?` = the claim's token, then now.
macro_rules! claimed_messages {
    () => {
        "SELECT o.id FROM outbox o WHERE o.ticket IN (SELECT ticket FROM outbox_claims WHERE token = ?) \
           AND o.delivered_at IS NULL AND o.gave_up = 0 AND o.next_attempt_ns <= ? \
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.notifier = o.notifier AND p.ticket = o.ticket \
                           AND p.id < o.id AND p.delivered_at IS NULL AND p.gave_up = 0)"
    };
}

/// Parameters: holder, token, until, now, now, messages to look at, limit; token, now.
///
/// The candidates are found by walking the pending messages in the order they come due (the
/// time index, which ends in the row id) and stopping after the first few that could be taken:
/// the cost is that of the messages skipped on the way (those of tickets claimed already, and
/// later ones of a thread), not of everything pending.
static CLAIM: Sql = Sql::new(
    concat!(
        "INSERT INTO outbox_claims (ticket, holder, token, until_ns) SELECT ticket, ?, ?, ? FROM ( \
             SELECT ticket, MIN(id) AS first FROM ( \
                 SELECT o.ticket AS ticket, o.id AS id FROM outbox o INDEXED BY outbox_pending_by_time \
                 WHERE o.delivered_at IS NULL AND o.gave_up = 0 AND o.next_attempt_ns <= ? \
                   AND NOT EXISTS (SELECT 1 FROM outbox_claims c WHERE c.ticket = o.ticket AND c.until_ns > ?) \
                   AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.notifier = o.notifier AND p.ticket = o.ticket \
                                   AND p.id < o.id AND p.delivered_at IS NULL AND p.gave_up = 0) \
                 ORDER BY o.next_attempt_ns, o.id LIMIT ?) \
             GROUP BY ticket ORDER BY first LIMIT ?) WHERE true \
         ON CONFLICT (ticket) DO UPDATE SET holder = excluded.holder, token = excluded.token, \
             until_ns = excluded.until_ns; \
         SELECT changes() AS n; \
         UPDATE outbox SET claims = claims + 1 WHERE id IN (",
        claimed_messages!(),
        "); "
    ),
    1,
);

impl Write for Claim {
    type Output = u64;

    fn sql(&self) -> &'static Sql {
        &CLAIM
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, &self.holder)?;
        bind(args, &self.token)?;
        bind(args, self.until)?;
        bind(args, self.now)?;
        bind(args, self.now)?;
        bind(args, self.walk)?;
        bind(args, self.limit)?;
        bind(args, &self.token)?;
        bind(args, self.now)
    }

    fn output(self, rows: Vec<Row>) -> Result<u64, StoreError> {
        changed(&rows)
    }
}

/// The messages a committed claim took, oldest first.
pub(super) async fn claimed(
    reader: &SqlitePool,
    token: &str,
    now: Timestamp,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let found = sqlx::query(concat!(
        "SELECT id, notifier, ticket, key, payload, attempts, created_at, claims FROM outbox WHERE id IN (",
        claimed_messages!(),
        ") ORDER BY id"
    ))
    .bind(token)
    .bind(nanos(now))
    .fetch_all(reader)
    .await
    .map_err(db_error)?;
    found.iter().map(rows::outbox_message).collect()
}

/// Extends a holder's claim on a ticket; one row: whether it still had it.
#[derive(Debug)]
pub(super) struct Renew {
    holder: String,
    ticket: String,
    until: i64,
}

impl Renew {
    pub(super) fn new(holder: &str, ticket: &TicketId, lease_until: Timestamp) -> Self {
        Self { holder: holder.to_owned(), ticket: ticket.to_string(), until: nanos(lease_until) }
    }
}

static RENEW: Sql =
    Sql::new("UPDATE outbox_claims SET until_ns = ? WHERE ticket = ? AND holder = ?; SELECT changes() AS n; ", 1);

impl Write for Renew {
    type Output = bool;

    fn sql(&self) -> &'static Sql {
        &RENEW
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, self.until)?;
        bind(args, &self.ticket)?;
        bind(args, &self.holder)
    }

    fn output(self, rows: Vec<Row>) -> Result<bool, StoreError> {
        Ok(changed(&rows)? > 0)
    }
}

/// Ends a holder's claim on a ticket.
#[derive(Debug)]
pub(super) struct Release {
    holder: String,
    ticket: String,
}

impl Release {
    pub(super) fn new(holder: &str, ticket: &TicketId) -> Self {
        Self { holder: holder.to_owned(), ticket: ticket.to_string() }
    }
}

static RELEASE: Sql = Sql::new("DELETE FROM outbox_claims WHERE ticket = ? AND holder = ?; ", 0);

impl Write for Release {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &RELEASE
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, &self.ticket)?;
        bind(args, &self.holder)
    }

    fn output(self, _: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }
}
