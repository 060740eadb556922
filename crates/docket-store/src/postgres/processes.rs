//! Step process records on PostgreSQL: each running step's process group, per host; replicas
//! on other hosts keep their own.

use docket_app::{StepGroup, StepProcess, StoreError};
use sqlx::PgPool;

use crate::processes::{ProcessColumns, key, step_process};
use crate::rows::db_error;

/// Records a group, replacing any record of the same group id on the same host.
pub(super) async fn record(pool: &PgPool, process: &StepProcess) -> Result<(), StoreError> {
    let row = ProcessColumns::new(process)?;
    let [pgid, leader_pid, leader_started, program_pid, program_started] = row.group;
    let [server_pid, server_started] = row.server;
    sqlx::query(
        "INSERT INTO step_processes (host, pgid, leader_pid, leader_started, program_pid, program_started, boot, \
         server_pid, server_started, ticket, step, mode, recorded_at, recorded_ns) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (host, pgid) DO UPDATE SET leader_pid = excluded.leader_pid, \
         leader_started = excluded.leader_started, program_pid = excluded.program_pid, \
         program_started = excluded.program_started, boot = excluded.boot, server_pid = excluded.server_pid, \
         server_started = excluded.server_started, ticket = excluded.ticket, step = excluded.step, \
         mode = excluded.mode, recorded_at = excluded.recorded_at, recorded_ns = excluded.recorded_ns",
    )
    .bind(&row.host)
    .bind(pgid)
    .bind(leader_pid)
    .bind(leader_started)
    .bind(program_pid)
    .bind(program_started)
    .bind(&row.boot)
    .bind(server_pid)
    .bind(server_started)
    .bind(&row.ticket)
    .bind(row.step)
    .bind(row.mode)
    .bind(&row.recorded_at)
    .bind(row.recorded_ns)
    .execute(pool)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Forgets a group's record, if it is that group.
pub(super) async fn forget(pool: &PgPool, host: &str, group: &StepGroup) -> Result<(), StoreError> {
    let [pgid, leader_pid, leader_started] = key(group)?;
    sqlx::query("DELETE FROM step_processes WHERE host = $1 AND pgid = $2 AND leader_pid = $3 AND leader_started = $4")
        .bind(host)
        .bind(pgid)
        .bind(leader_pid)
        .bind(leader_started)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Every group recorded on `host`, oldest first.
pub(super) async fn on_host(pool: &PgPool, host: &str) -> Result<Vec<StepProcess>, StoreError> {
    let rows = sqlx::query("SELECT * FROM step_processes WHERE host = $1 ORDER BY recorded_ns, pgid")
        .bind(host)
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    rows.iter().map(step_process).collect()
}
