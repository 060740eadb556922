//! The SQLite store: one file owned by one Docket process. Every write goes through a single
//! writer connection and starts with `BEGIN IMMEDIATE`, so writes never meet `SQLITE_BUSY`
//! and the audit chain has exactly one writer; reads use a small pool of their own, which WAL
//! mode lets run beside the writer.

mod admin;
mod audit;
mod logs;
mod outbox;
mod queue;
mod tickets;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use docket_app::{
    ApiToken, Change, Claim, Committed, LogLine, OutboxMessage, Store, StoreError, StoreStats, StoredTicket,
    TicketFilter, TicketPage,
};
use docket_core::audit::{AuditEntry, AuditRecord};
use docket_core::{Event, TicketId, TicketState};
use jiff::Timestamp;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::rows::db_error;

/// How long a connection waits for a lock another connection holds (a reader checkpointing,
/// or a second process opening the same file) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections in the read pool.
const READERS: u32 = 4;

/// The SQLite [`Store`]: the default, a single file next to the server.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// The one connection every write goes through.
    writer: SqlitePool,
    /// Connections for reads (the writer itself for an in-memory database).
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::with_options(SqliteConnectOptions::new().filename(path), false).await
    }

    /// Opens the database a `sqlite:` URL names (`sqlite://docket.db`, `sqlite::memory:`),
    /// creating a missing file, and applies migrations.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(db_error)?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::with_options(options, in_memory).await
    }

    /// A private in-memory database, gone when the store is dropped; for tests.
    pub async fn in_memory() -> Result<Self, StoreError> {
        Self::open_url("sqlite::memory:").await
    }

    async fn with_options(options: SqliteConnectOptions, in_memory: bool) -> Result<Self, StoreError> {
        // `synchronous = NORMAL` in WAL mode: a committed transaction is in the WAL file when
        // `commit` returns, so it survives the process crashing or being killed (kill -9); only
        // an operating-system crash or power loss can lose the last few commits. That is the
        // failure Docket has to survive, at a fraction of FULL's fsync cost.
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);
        let writer_options = options.clone().journal_mode(SqliteJournalMode::Wal);
        // One connection: writes queue here instead of racing for SQLite's lock. It never
        // closes while idle, which also keeps an in-memory database alive.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(writer_options)
            .await
            .map_err(db_error)?;
        crate::migrate::sqlite(&writer).await?;
        let reader = if in_memory {
            writer.clone()
        } else {
            // WAL mode is a property of the file, set by the writer; readers leave it alone.
            SqlitePoolOptions::new().max_connections(READERS).connect_with(options).await.map_err(db_error)?
        };
        Ok(Self { writer, reader })
    }

    /// Closes every connection, waiting for writes in progress.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn next_ticket_number(&self) -> Result<u64, StoreError> {
        tickets::next_number(&self.writer).await
    }

    async fn commit(&self, change: Change) -> Result<Committed, StoreError> {
        tickets::commit(&self.writer, change).await
    }

    async fn append_audit(&self, entries: Vec<AuditEntry>) -> Result<Vec<AuditRecord>, StoreError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        let records = audit::append(&mut tx, entries).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(records)
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<StoredTicket>, StoreError> {
        tickets::ticket(&self.reader, id).await
    }

    async fn events(&self, id: &TicketId) -> Result<Vec<(Event, Timestamp)>, StoreError> {
        tickets::events(&self.reader, id).await
    }

    async fn tickets(&self, filter: &TicketFilter) -> Result<TicketPage, StoreError> {
        tickets::list(&self.reader, filter).await
    }

    async fn due_for_expiry(&self, now: Timestamp, limit: u32) -> Result<Vec<TicketId>, StoreError> {
        tickets::due_for_expiry(&self.reader, now, limit).await
    }

    async fn tickets_in_state(&self, state: TicketState, limit: u32) -> Result<Vec<TicketId>, StoreError> {
        tickets::in_state(&self.reader, state, limit).await
    }

    async fn claim_run(
        &self,
        holder: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Claim>, StoreError> {
        queue::claim(&self.writer, holder, now, lease_until).await
    }

    async fn heartbeat(&self, ticket: &TicketId, holder: &str, lease_until: Timestamp) -> Result<bool, StoreError> {
        queue::heartbeat(&self.writer, ticket, holder, lease_until).await
    }

    async fn end_all_leases(&self) -> Result<u64, StoreError> {
        queue::end_all_leases(&self.writer).await
    }

    async fn append_logs(&self, lines: &[LogLine]) -> Result<(), StoreError> {
        logs::append(&self.writer, lines).await
    }

    async fn logs(&self, ticket: &TicketId, after: u64, limit: u32) -> Result<Vec<LogLine>, StoreError> {
        logs::read(&self.reader, ticket, after, limit).await
    }

    async fn last_log_seq(&self, ticket: &TicketId) -> Result<u64, StoreError> {
        logs::last_seq(&self.reader, ticket).await
    }

    async fn due_outbox(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        outbox::due(&self.reader, now, limit).await
    }

    async fn outbox_delivered(&self, id: u64, at: Timestamp) -> Result<(), StoreError> {
        outbox::delivered(&self.writer, id, at).await
    }

    async fn outbox_failed(&self, id: u64, error: &str, retry_at: Option<Timestamp>) -> Result<(), StoreError> {
        outbox::failed(&self.writer, id, error, retry_at).await
    }

    async fn audit(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        audit::read(&self.reader, after, limit).await
    }

    async fn create_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        admin::create_token(&self.writer, token).await
    }

    async fn token(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        admin::token(&self.reader, hash).await
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        admin::stats(&self.reader).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(db_error)?;
        Ok(())
    }
}
