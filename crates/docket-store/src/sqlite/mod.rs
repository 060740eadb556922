//! The SQLite store: one file owned by one Docket process. Every write goes to one writer thread
//! (`writer`, `batch`), which owns the only connection that writes and commits whatever writes
//! are queued together, in one `BEGIN IMMEDIATE` transaction (a batch in which a write fails runs
//! again with a savepoint per write, so that write does not take its neighbours down); so the
//! server's writes never wait for one another, the audit chain has exactly one writer in the
//! server, and a busy server pays for one commit per batch instead of one per write. Reads use a
//! small pool of their own, which WAL mode lets run beside the writer; WAL checkpoints run on a
//! connection of their own (`checkpoint`), and the writer only finishes one now and then so the
//! WAL starts over. Ticket numbers are reserved a block at a time and handed out from memory
//! (`numbers`).

mod admin;
mod audit;
mod audit_checkpoints;
mod batch;
mod checkpoint;
mod logs;
mod numbers;
mod outbox;
mod processes;
mod queue;
mod results;
mod state;
mod tickets;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use docket_app::{
    ApiToken, AuditStore, Change, Claim, Committed, Delivery, EndOfStep, HealthStore, LogLine, LogStore, OutboxMessage,
    OutboxStore, Revocation, RunQueue, StateStore, StoreError, StoreStats, StoredTicket, TicketFilter, TicketPage,
    TicketStore, TokenStore, Wakeups,
};
use docket_app::{ProcessStore, ResultStore, StepGroup, StepProcess, StoredResult};
use docket_core::audit::{AuditEntry, AuditRecord};
use docket_core::checkpoint::Checkpoint;
use docket_core::{Event, TicketId, TicketState};
use jiff::Timestamp;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::processes::ProcessColumns;
use crate::rows::db_error;
use checkpoint::Checkpoints;
use numbers::Numbers;
use writer::Writer;

/// How long a connection waits for a lock another connection holds (a reader checkpointing,
/// or a second process opening the same file) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections in the read pool.
const READERS: u32 = 4;

/// How much of the database file each reader maps (SQLite's `mmap_size`): 1 GiB of address
/// space, not of memory.
const READER_MMAP_BYTES: u64 = 1 << 30;

/// The SQLite [`Store`]: the default, a single file next to the server.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// The writer thread every write goes through.
    writer: Writer,
    /// Connections for reads.
    reader: SqlitePool,
    /// Ticket numbers reserved and not yet handed out.
    numbers: Arc<Numbers>,
}

/// The writer's connection to the file at `path` (see `writer`).
fn writer_connection(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let failed =
        |e: rusqlite::Error| StoreError::Unavailable(format!("cannot open {} for writing: {e}", path.display()));
    let conn = rusqlite::Connection::open(path).map_err(failed)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
    // Each kind of write keeps its statements prepared: room for all of them.
    conn.set_prepared_statement_cache_capacity(256);
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
         PRAGMA wal_autocheckpoint = {}; PRAGMA journal_size_limit = {}; \
         PRAGMA temp_store = MEMORY; {}",
        checkpoint::WRITER_AUTOCHECKPOINT,
        checkpoint::WAL_SIZE_LIMIT,
        tickets::EXPECT_ONE_CHANGE,
    ))
    .map_err(failed)?;
    Ok(conn)
}

impl SqliteStore {
    /// Commits `change`, with what `along` adds to its write (what is left of a step whose end
    /// it records, the delivery it is made once for).
    async fn submit_commit(
        &self,
        change: Change,
        along: impl FnOnce(tickets::Commit) -> Result<tickets::Commit, StoreError>,
    ) -> Result<Committed, StoreError> {
        let created = (change.expected_version == 0).then(|| change.ticket.id.number());
        let write = along(tickets::Commit::new(change)?)?;
        let committed = self.writer.submit(write).await?;
        if let Some(number) = created {
            self.numbers.taken(number);
        }
        Ok(committed)
    }

    /// Opens (creating it if missing) the database file at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::with_options(SqliteConnectOptions::new().filename(path), None).await
    }

    /// Opens the database a `sqlite:` URL names (`sqlite://docket.db`, `sqlite::memory:`),
    /// creating a missing file, and applies migrations. An in-memory database is a file in a
    /// private temporary folder, removed by [`Self::close`] once every connection is closed, or,
    /// without a close, by the writer's thread once the last clone is dropped (a process that
    /// ends first leaves it behind): the writer and the readers are separate connections, which
    /// a database in memory cannot share without SQLite's shared cache and its table locks.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            let folder = tempfile::Builder::new()
                .prefix("docket-store-")
                .tempdir()
                .map_err(|e| StoreError::Unavailable(format!("cannot make a folder for a database in memory: {e}")))?;
            let options = SqliteConnectOptions::new().filename(folder.path().join("docket.db"));
            return Self::with_options(options, Some(folder)).await;
        }
        let options = SqliteConnectOptions::from_str(url).map_err(db_error)?;
        Self::with_options(options, None).await
    }

    /// A private database, removed when the store is closed or dropped; for tests.
    pub async fn in_memory() -> Result<Self, StoreError> {
        Self::open_url("sqlite::memory:").await
    }

    async fn with_options(
        options: SqliteConnectOptions,
        folder: Option<tempfile::TempDir>,
    ) -> Result<Self, StoreError> {
        // `synchronous = NORMAL` in WAL mode: a committed transaction is in the WAL file when
        // `commit` returns, so it survives the process crashing or being killed (kill -9); only
        // an operating-system crash or power loss can lose the last few commits. That is the
        // failure Docket has to survive, at a fraction of FULL's fsync cost. `checkpoint` says
        // where the syncs happen.
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);
        // Migrations run on a connection of their own, which also turns WAL mode on for the file.
        let migrations = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().journal_mode(SqliteJournalMode::Wal))
            .await
            .map_err(db_error)?;
        crate::migrate::sqlite(&migrations).await?;
        migrations.close().await;
        // Opening runs SQLite's own start-up (it may wait on a lock): not on a runtime thread.
        let path = options.get_filename().to_owned();
        let writer = tokio::task::spawn_blocking(move || writer_connection(&path))
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open the SQLite writer: {e}")))??;
        // WAL mode is a property of the file, set above; readers leave it alone. A reader's
        // page cache is emptied whenever another connection has committed since its last read,
        // which under a steady load is every read: mapped, the database file is read in place
        // instead of being copied back page by page.
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.clone().pragma("mmap_size", READER_MMAP_BYTES.to_string()))
            .await
            .map_err(db_error)?;
        let checkpoints = Checkpoints::start(options, checkpoint::RESTART_AT).await?;
        Ok(Self { writer: Writer::start(writer, Some(checkpoints), folder)?, reader, numbers: Arc::default() })
    }

    /// Closes every connection, waiting for writes in progress.
    pub async fn close(&self) {
        let folder = self.writer.close().await;
        self.reader.close().await;
        // A database in memory's folder goes last, with every connection to it closed.
        drop(folder);
    }
}

/// One process owns a SQLite database: there is nobody else to hear.
impl Wakeups for SqliteStore {}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn next_ticket_number(&self) -> Result<u64, StoreError> {
        self.numbers.next(&self.writer).await
    }

    async fn release_numbers(&self) -> Result<(), StoreError> {
        self.numbers.release(&self.writer).await
    }

    async fn commit(&self, change: Change) -> Result<Committed, StoreError> {
        self.submit_commit(change, Ok).await
    }

    /// The lines and the record's removal are written by the commit's own write.
    async fn commit_end_of_step(&self, change: Change, end: EndOfStep<'_>) -> Result<Committed, StoreError> {
        self.submit_commit(change, |write| write.with_end(end)).await
    }

    /// The delivery's record is written by the commit's own write.
    async fn commit_once(&self, change: Change, delivery: Delivery<'_>) -> Result<Committed, StoreError> {
        self.submit_commit(change, |write| Ok(write.once(delivery))).await
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
}

#[async_trait]
impl RunQueue for SqliteStore {
    async fn claim_run(
        &self,
        holder: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Claim>, StoreError> {
        self.writer.submit(queue::ClaimRun { holder: holder.to_owned(), now, lease_until }).await
    }

    async fn heartbeat(&self, ticket: &TicketId, holder: &str, lease_until: Timestamp) -> Result<bool, StoreError> {
        self.writer.submit(queue::Heartbeat { ticket: ticket.clone(), holder: holder.to_owned(), lease_until }).await
    }

    async fn end_all_leases(&self) -> Result<u64, StoreError> {
        self.writer.submit(queue::EndAllLeases).await
    }

    async fn lead(&self, role: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool, StoreError> {
        self.writer.submit(queue::Lead { role: role.to_owned(), holder: holder.to_owned(), now, until }).await
    }
}

#[async_trait]
impl LogStore for SqliteStore {
    async fn append_logs(&self, lines: &[LogLine]) -> Result<(), StoreError> {
        if lines.is_empty() {
            return Ok(());
        }
        self.writer.submit(logs::Append::new(lines)?).await
    }

    async fn logs(&self, ticket: &TicketId, after: u64, limit: u32) -> Result<Vec<LogLine>, StoreError> {
        logs::read(&self.reader, ticket, after, limit).await
    }

    async fn last_log_seq(&self, ticket: &TicketId) -> Result<u64, StoreError> {
        logs::last_seq(&self.reader, ticket).await
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn due_outbox(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        outbox::due(&self.reader, now, limit).await
    }

    async fn claim_outbox(
        &self,
        holder: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let claim = outbox::Claim::new(holder, now, lease_until, limit);
        let token = claim.token().to_owned();
        if self.writer.submit(claim).await? == 0 {
            return Ok(Vec::new());
        }
        outbox::claimed(&self.reader, &token, now).await
    }

    async fn renew_outbox(&self, holder: &str, ticket: &TicketId, lease_until: Timestamp) -> Result<bool, StoreError> {
        self.writer.submit(outbox::Renew::new(holder, ticket, lease_until)).await
    }

    async fn release_outbox(&self, holder: &str, ticket: &TicketId) -> Result<(), StoreError> {
        self.writer.submit(outbox::Release::new(holder, ticket)).await
    }

    async fn outbox_delivered(&self, id: u64, at: Timestamp) -> Result<(), StoreError> {
        self.writer.submit(outbox::Delivered::new(id, at)?).await
    }

    async fn outbox_failed(&self, id: u64, error: &str, retry_at: Option<Timestamp>) -> Result<(), StoreError> {
        self.writer.submit(outbox::Failed::new(id, error, retry_at)?).await
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, entries: Vec<AuditEntry>) -> Result<Vec<AuditRecord>, StoreError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        self.writer.submit(audit::Append::new(entries)?).await
    }

    async fn audit(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        audit::read(&self.reader, after, limit).await
    }

    async fn audit_head(&self) -> Result<Option<(u64, String)>, StoreError> {
        audit_checkpoints::head(&self.reader).await
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        self.writer.submit(audit_checkpoints::Save(checkpoint.clone())).await
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        audit_checkpoints::read(&self.reader).await
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn create_token(&self, token: &ApiToken, audit: Vec<AuditEntry>) -> Result<(), StoreError> {
        self.writer.submit(admin::CreateToken::new(token.clone(), audit)?).await
    }

    async fn token(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        admin::token(&self.reader, admin::TokenKey::Hash, hash).await
    }

    async fn token_by_id(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        admin::token(&self.reader, admin::TokenKey::Id, id).await
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        admin::tokens(&self.reader).await
    }

    async fn revoke_token(&self, id: &str, revocation: &Revocation, audit: Vec<AuditEntry>) -> Result<(), StoreError> {
        self.writer.submit(admin::RevokeToken::new(id, revocation, audit)?).await
    }

    async fn token_used(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.writer.submit(admin::TokenUsed { id: id.to_owned(), at }).await
    }
}

#[async_trait]
impl StateStore for SqliteStore {
    async fn state_get(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        state::get(&self.reader, scope, key).await
    }

    async fn state_put(&self, scope: &str, key: &str, value: &str, at: Timestamp) -> Result<(), StoreError> {
        let put = state::Put { scope: scope.into(), key: key.into(), value: value.into(), at, only_new: false };
        self.writer.submit(put).await.map(drop)
    }

    async fn state_put_new(&self, scope: &str, key: &str, value: &str, at: Timestamp) -> Result<bool, StoreError> {
        let put = state::Put { scope: scope.into(), key: key.into(), value: value.into(), at, only_new: true };
        self.writer.submit(put).await
    }

    async fn state_list(&self, scope: &str, prefix: &str, limit: u32) -> Result<Vec<(String, String)>, StoreError> {
        state::list(&self.reader, scope, prefix, limit).await
    }

    async fn state_prune(&self, scope: &str, before: Timestamp) -> Result<u64, StoreError> {
        self.writer.submit(state::Prune { scope: scope.into(), before }).await
    }

    async fn state_forget(&self, scope: &str, key: &str, value: &str) -> Result<bool, StoreError> {
        self.writer.submit(state::Forget { scope: scope.into(), key: key.into(), value: value.into() }).await
    }
}

#[async_trait]
impl HealthStore for SqliteStore {
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        admin::stats(&self.reader).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(db_error)?;
        Ok(())
    }
}

#[async_trait]
impl ProcessStore for SqliteStore {
    async fn record_process(&self, process: &StepProcess) -> Result<(), StoreError> {
        self.writer.submit(processes::Record(ProcessColumns::new(process)?)).await
    }

    async fn forget_process(&self, host: &str, group: &StepGroup) -> Result<(), StoreError> {
        self.writer.submit(processes::Forget::new(host, group)?).await
    }

    async fn processes_on(&self, host: &str) -> Result<Vec<StepProcess>, StoreError> {
        processes::on_host(&self.reader, host).await
    }
}

#[async_trait]
impl ResultStore for SqliteStore {
    async fn put_result(&self, result: &StoredResult) -> Result<(), StoreError> {
        self.writer.submit(results::Put(crate::results::ResultColumns::new(result)?)).await
    }

    async fn results(&self, ticket: &TicketId) -> Result<Vec<StoredResult>, StoreError> {
        results::of_ticket(&self.reader, ticket).await
    }
}
