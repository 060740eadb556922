//! The outbox on SQLite: rows inserted with the change that caused them, read when due (one
//! message at a time per notifier and ticket), and marked delivered or failed by the writer.

use docket_app::{NewOutboxMessage, OutboxMessage, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteArguments, SqliteRow};

use super::writer::{Sql, Write, bind};
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
        "SELECT id, notifier, ticket, key, payload, attempts, created_at FROM outbox o \
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

    fn bind(&self, args: &mut SqliteArguments) -> Result<(), StoreError> {
        bind(args, &self.at)?;
        bind(args, self.id)
    }

    fn output(self, _: Vec<SqliteRow>) -> Result<(), StoreError> {
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

    fn bind(&self, args: &mut SqliteArguments) -> Result<(), StoreError> {
        bind(args, &self.error)?;
        bind(args, self.retry_at)?;
        bind(args, self.retry_at)?;
        bind(args, self.id)
    }

    fn output(self, _: Vec<SqliteRow>) -> Result<(), StoreError> {
        Ok(())
    }
}
