//! Step results on SQLite: kept by the writer, one row per (ticket, run, step).

use docket_app::{StoreError, StoredResult};
use docket_core::TicketId;
use sqlx::SqlitePool;

use super::writer::{Args, Row, Sql, Write, bind};
use crate::results::{ResultColumns, stored_result};
use crate::rows::db_error;

/// Keeps a result, replacing the same step's in the same run.
#[derive(Debug)]
pub(super) struct Put(pub(super) ResultColumns);

static PUT: Sql =
    Sql::new("INSERT OR REPLACE INTO step_results (ticket, run, step, body, at) VALUES (?, ?, ?, ?, ?); ", 0);

impl Write for Put {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &PUT
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        let row = &self.0;
        bind(args, row.ticket.as_str())?;
        bind(args, row.run)?;
        bind(args, row.step)?;
        bind(args, row.body.as_str())?;
        bind(args, row.at.as_str())
    }

    fn output(self, _: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A ticket's results, by run then step.
pub(super) async fn of_ticket(reader: &SqlitePool, ticket: &TicketId) -> Result<Vec<StoredResult>, StoreError> {
    let rows = sqlx::query("SELECT ticket, run, step, body, at FROM step_results WHERE ticket = ? ORDER BY run, step")
        .bind(ticket.to_string())
        .fetch_all(reader)
        .await
        .map_err(db_error)?;
    rows.iter().map(stored_result).collect()
}
