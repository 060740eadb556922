//! What every engine does for the runner, and the request it is given.

use std::time::Duration;

use crate::action::Arg;
use docket_core::result::Table;

/// One statement to run.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    /// The statement with `$n` placeholders, as written.
    pub(crate) statement: &'a str,
    /// The bind parameters, in order.
    pub(crate) args: Vec<Arg>,
    /// The server cancels the statement after this long.
    pub(crate) timeout: Duration,
    /// Rows kept from a report.
    pub(crate) max_rows: usize,
}

/// Why a statement failed: the database's own words.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SqlError {
    /// The database refused or failed the statement.
    #[error("{0}")]
    Database(String),
    /// An argument could not be turned into the type the statement expects.
    #[error("${index}: {message}")]
    Argument {
        /// 1-based.
        index: usize,
        /// What is wrong.
        message: String,
    },
}

impl From<sqlx::Error> for SqlError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::Database(db) => SqlError::Database(db.message().to_owned()),
            other => SqlError::Database(other.to_string()),
        }
    }
}

/// A pool for one database, of its engine.
#[derive(Clone, Debug)]
pub(crate) enum Engine {
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
    Sqlite { read: sqlx::SqlitePool, write: sqlx::SqlitePool },
}

impl Engine {
    /// Runs a report in a read-only transaction.
    pub(crate) async fn read(&self, request: &Request<'_>) -> Result<Table, SqlError> {
        match self {
            Engine::Postgres(pool) => super::postgres::read(pool, request).await,
            Engine::MySql(pool) => super::mysql::read(pool, request).await,
            Engine::Sqlite { read, .. } => super::sqlite::read(read, request).await,
        }
    }

    /// Runs a write in a transaction; commits when `commit(rows changed)` says so, else rolls
    /// back. Returns the rows changed.
    pub(crate) async fn write(
        &self,
        request: &Request<'_>,
        commit: &(dyn Fn(u64) -> bool + Sync),
    ) -> Result<u64, SqlError> {
        match self {
            Engine::Postgres(pool) => super::postgres::write(pool, request, commit).await,
            Engine::MySql(pool) => super::mysql::write(pool, request, commit).await,
            Engine::Sqlite { write, .. } => super::sqlite::write(write, request, commit).await,
        }
    }
}

/// Keeps at most `max` rows and counts them all.
#[derive(Debug)]
pub(crate) struct Collector {
    pub(crate) table: Table,
    max: usize,
}

impl Collector {
    pub(crate) fn new(columns: Vec<docket_core::result::Column>, max: usize) -> Self {
        Self { table: Table { columns, ..Table::default() }, max }
    }

    /// Counts a row; `cells` is asked for only while there is room.
    pub(crate) fn row(&mut self, cells: impl FnOnce() -> Vec<docket_core::result::Cell>) {
        self.table.row_count += 1;
        if self.table.rows.len() < self.max {
            self.table.rows.push(cells());
        } else {
            self.table.truncated = true;
        }
    }
}
