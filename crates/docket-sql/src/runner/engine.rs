//! What every engine does for the runner, the request it is given, and the [`Stop`] through
//! which the runner stops a statement on the server: each engine says which server session runs
//! the step's statement as soon as it has its connection, so a cancel reaches the server
//! (PostgreSQL `pg_cancel_backend`, MySQL/MariaDB `KILL QUERY`, SQLite an interrupt from the
//! connection's progress handler), not just the socket.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use sqlx::{Connection as _, Executor as _};
use tokio_util::sync::CancellationToken;

use crate::action::Arg;
use crate::sample::{Sample, Shape};
use docket_core::result::Table;

/// How long stopping a statement may take to connect and ask.
const STOP_WITHIN: Duration = Duration::from_secs(5);

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
    /// Where the engine says which server session runs the statement.
    pub(crate) stop: &'a Stop,
}

/// The server session running a step's statement, once the engine has its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Session {
    /// A PostgreSQL backend's process id (`pg_backend_pid()`).
    Postgres(i32),
    /// A MySQL/MariaDB connection id (`CONNECTION_ID()`).
    MySql(u64),
}

/// What the runner needs to stop a step's statement on the server.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    // A std mutex: held only to read or replace one value.
    session: Mutex<Option<Session>>,
    /// Cancelled when the statement must stop; SQLite's progress handler reads it.
    pub(crate) token: CancellationToken,
}

impl Request<'_> {
    /// How long each of a sample's queries may take: a quarter of the statement's own limit, so
    /// a sample never costs a plan much more than its statement.
    pub(crate) fn sample_timeout(&self) -> Duration {
        self.timeout / 4
    }
}

impl Stop {
    /// Records the server session the statement runs in; fails when the step was stopped
    /// before (a stop that came before the session was known could not reach the server, so
    /// the statement must not start).
    pub(crate) fn started(&self, session: Session) -> Result<(), SqlError> {
        *self.session.lock().unwrap_or_else(PoisonError::into_inner) = Some(session);
        if self.token.is_cancelled() {
            return Err(SqlError::Database("stopped before the statement started".to_owned()));
        }
        Ok(())
    }

    fn session(&self) -> Option<Session> {
        *self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }
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

    /// Stops the statement `stop` says runs on the server, from a connection of its own (the
    /// pool may be busy): PostgreSQL `pg_cancel_backend`, MySQL/MariaDB `KILL QUERY`; SQLite's
    /// statement is interrupted by its connection's progress handler once `stop` is cancelled.
    /// Must be called while the step still holds its connection, so the session is still its.
    pub(crate) async fn stop(&self, stop: &Stop) -> Result<(), SqlError> {
        stop.token.cancel();
        let asked = async {
            match (self, stop.session()) {
                (Engine::Postgres(pool), Some(Session::Postgres(pid))) => {
                    let mut conn = sqlx::PgConnection::connect_with(&pool.connect_options()).await?;
                    sqlx::query("SELECT pg_cancel_backend($1)").bind(pid).execute(&mut conn).await?;
                    conn.close().await?;
                }
                (Engine::MySql(pool), Some(Session::MySql(id))) => {
                    let mut conn = sqlx::MySqlConnection::connect_with(&pool.connect_options()).await?;
                    conn.execute(sqlx::AssertSqlSafe(format!("KILL QUERY {id}"))).await?;
                    conn.close().await?;
                }
                _ => {}
            }
            Ok::<(), SqlError>(())
        };
        tokio::time::timeout(STOP_WITHIN, asked)
            .await
            .unwrap_or_else(|_| Err(SqlError::Database(format!("no answer within {}s", STOP_WITHIN.as_secs()))))
    }

    /// Plans a write: runs it in a transaction that is rolled back, and returns the rows it
    /// changed with a sample of them before → after (for `shape`, else why there is none).
    pub(crate) async fn plan(
        &self,
        request: &Request<'_>,
        shape: Result<&Shape, &str>,
    ) -> Result<(u64, Sample), SqlError> {
        match self {
            Engine::Postgres(pool) => super::postgres::plan(pool, request, shape).await,
            Engine::MySql(pool) => super::mysql::plan(pool, request, shape).await,
            Engine::Sqlite { write, .. } => super::sqlite::plan(write, request, shape).await,
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
