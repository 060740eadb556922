//! Step logs on SQLite: appended in batches by the writer, from a JSON array in one statement
//! (a repeated line is ignored), and read in pages.

use docket_app::{LogLine, StoreError};
use docket_core::TicketId;
use sqlx::SqlitePool;

use super::writer::{Args, Row, Sql, Write, bind};
use crate::rows::{self, LogColumns, db_error, to_i64, to_unsigned};

/// Appends lines; lines whose (ticket, seq) exists are skipped.
#[derive(Debug)]
pub(super) struct Append {
    /// The lines, a JSON array of [`LogColumns`].
    lines: String,
}

impl Append {
    /// Prepares `lines` (not empty) for appending.
    pub(super) fn new(lines: &[LogLine]) -> Result<Self, StoreError> {
        Ok(Self { lines: lines_json(lines)? })
    }
}

/// `lines` as the JSON array [`append_lines`] takes.
pub(super) fn lines_json(lines: &[LogLine]) -> Result<String, StoreError> {
    let columns = lines.iter().map(LogColumns::new).collect::<Result<Vec<_>, _>>()?;
    rows::to_json(&columns, "log lines")
}

/// Appends the lines of a JSON array (its one parameter), skipping any already stored; a
/// macro, so a commit's text can end with it (see `tickets`).
macro_rules! append_lines {
    () => {
        "INSERT INTO step_logs (ticket, seq, run, step, stream, text, at) \
         SELECT value ->> 'ticket', value ->> 'seq', value ->> 'run', value ->> 'step', value ->> 'stream', \
         value ->> 'text', value ->> 'at' FROM jsonb_each(?) WHERE true \
         ON CONFLICT (ticket, seq) DO NOTHING; "
    };
}
pub(super) use append_lines;

static APPEND: Sql = Sql::new(append_lines!(), 0);

impl Write for Append {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &APPEND
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, &self.lines)
    }

    fn output(self, _: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A ticket's lines with `seq > after`, in order.
pub(super) async fn read(
    reader: &SqlitePool,
    ticket: &TicketId,
    after: u64,
    limit: u32,
) -> Result<Vec<LogLine>, StoreError> {
    let found = sqlx::query(
        "SELECT ticket, seq, run, step, stream, text, at FROM step_logs \
         WHERE ticket = ? AND seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(ticket.to_string())
    .bind(to_i64(after, "log seq").unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(db_error)?;
    found.iter().map(rows::log_line).collect()
}

/// The highest `seq` of a ticket's lines, or 0.
pub(super) async fn last_seq(reader: &SqlitePool, ticket: &TicketId) -> Result<u64, StoreError> {
    let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM step_logs WHERE ticket = ?")
        .bind(ticket.to_string())
        .fetch_one(reader)
        .await
        .map_err(db_error)?;
    to_unsigned(seq, "log seq")
}
