//! Step process records on SQLite: each running step's process group, per host.

use docket_app::{StepGroup, StepProcess, StoreError};
use sqlx::SqlitePool;

use super::writer::{Args, Row, Sql, Write, bind};
use crate::processes::{ProcessColumns, key, step_process};
use crate::rows::db_error;

/// Records a group, replacing any record of the same group id on the same host.
#[derive(Debug)]
pub(super) struct Record(pub(super) ProcessColumns);

static RECORD: Sql = Sql::new(
    "INSERT OR REPLACE INTO step_processes (host, pgid, leader_pid, leader_started, program_pid, program_started, \
     boot, server_pid, server_started, ticket, step, mode, recorded_at, recorded_ns) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?); ",
    0,
);

impl Write for Record {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &RECORD
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        let row = &self.0;
        bind(args, row.host.as_str())?;
        for value in row.group {
            bind(args, value)?;
        }
        bind(args, row.boot.as_str())?;
        for value in row.server {
            bind(args, value)?;
        }
        bind(args, row.ticket.as_str())?;
        bind(args, row.step)?;
        bind(args, row.mode)?;
        bind(args, row.recorded_at.as_str())?;
        bind(args, row.recorded_ns)
    }

    fn output(self, _: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Forgets a group's record, if it is that group.
#[derive(Debug)]
pub(super) struct Forget {
    host: String,
    key: [i64; 3],
}

impl Forget {
    pub(super) fn new(host: &str, group: &StepGroup) -> Result<Self, StoreError> {
        Ok(Self { host: host.to_owned(), key: key(group)? })
    }
}

/// Forgets the record of a group (its host, pgid, leader pid and start: four parameters);
/// a macro, so a step's end commit can end with it (see `tickets`). NULLs forget nothing.
macro_rules! forget_process {
    () => {
        "DELETE FROM step_processes WHERE host = ? AND pgid = ? AND leader_pid = ? AND leader_started = ?; "
    };
}
pub(super) use forget_process;

static FORGET: Sql = Sql::new(forget_process!(), 0);

impl Write for Forget {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &FORGET
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, self.host.as_str())?;
        for value in self.key {
            bind(args, value)?;
        }
        Ok(())
    }

    fn output(self, _: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Every group recorded on `host`, oldest first.
pub(super) async fn on_host(reader: &SqlitePool, host: &str) -> Result<Vec<StepProcess>, StoreError> {
    let rows = sqlx::query("SELECT * FROM step_processes WHERE host = ? ORDER BY recorded_ns, pgid")
        .bind(host)
        .fetch_all(reader)
        .await
        .map_err(db_error)?;
    rows.iter().map(step_process).collect()
}
