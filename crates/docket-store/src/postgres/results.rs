//! Step results on PostgreSQL: one row per (ticket, run, step), the body as `json`.

use docket_app::{StoreError, StoredResult};
use docket_core::TicketId;
use sqlx::PgPool;

use crate::results::{ResultColumns, stored_result};
use crate::rows::db_error;

/// Keeps a result, replacing the same step's in the same run.
pub(super) async fn put(pool: &PgPool, result: &StoredResult) -> Result<(), StoreError> {
    let row = ResultColumns::new(result)?;
    sqlx::query(
        "INSERT INTO step_results (ticket, run, step, body, at) VALUES ($1, $2, $3, $4::json, $5) \
         ON CONFLICT (ticket, run, step) DO UPDATE SET body = excluded.body, at = excluded.at",
    )
    .bind(&row.ticket)
    .bind(row.run)
    .bind(row.step)
    .bind(&row.body)
    .bind(&row.at)
    .execute(pool)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// A ticket's results, by run then step.
pub(super) async fn of_ticket(pool: &PgPool, ticket: &TicketId) -> Result<Vec<StoredResult>, StoreError> {
    let rows = sqlx::query(
        "SELECT ticket, run, step, body::text AS body, at FROM step_results WHERE ticket = $1 ORDER BY run, step",
    )
    .bind(ticket.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter().map(stored_result).collect()
}
