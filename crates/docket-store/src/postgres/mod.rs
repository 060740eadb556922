//! The PostgreSQL store: one database shared by any number of Docket replicas. Ticket writes
//! are guarded by their version (`UPDATE … WHERE version = $n`) and go, with every other write
//! that appends to the audit chain, through one writer task per store that commits them in
//! batches (see `writer`); audit appends are serialized across replicas by a transaction-scoped
//! advisory lock, taken once per batch; runs are claimed with `FOR UPDATE SKIP LOCKED`.

mod admin;
mod audit;
mod audit_checkpoints;
mod batch;
mod commit;
mod logs;
pub(crate) mod notify;
mod once;
mod outbox;
mod processes;
mod queue;
mod results;
mod state;
mod tickets;
mod writer;

use std::time::Duration;

use async_trait::async_trait;
use docket_app::{
    ApiToken, AuditStore, Change, Claim, Committed, Delivery, HealthStore, LogLine, LogStore, OutboxMessage,
    OutboxStore, Revocation, RunQueue, StateStore, StoreError, StoreStats, StoredTicket, TicketFilter, TicketPage,
    TicketStore, TokenStore, WakeupSink, Wakeups,
};
use docket_app::{ProcessStore, ResultStore, StepGroup, StepProcess, StoredResult};
use docket_core::audit::{AuditEntry, AuditRecord};
use docket_core::checkpoint::Checkpoint;
use docket_core::{Event, TicketId, TicketState};
use jiff::Timestamp;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::rows::db_error;

/// Connections a store opens at most, unless told otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long a caller waits for a free connection before the store reports itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL [`Store`], for several replicas sharing one database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// The writer task: ticket commits, audit appends and token changes, in batches.
    writer: writer::Writer,
    /// This store's name in the notifications it sends, so its own are not heard back.
    instance: String,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host/db`) with up to
    /// [`DEFAULT_MAX_CONNECTIONS`] connections and applies migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Connects with up to `max_connections` connections and applies migrations.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to {}: {e}", crate::rows::redact_url(url))))?;
        crate::migrate::postgres(&pool).await?;
        let writer = writer::Writer::start(pool.clone())?;
        Ok(Self { pool, writer, instance: instance_name() })
    }

    /// Closes every connection, waiting for work in progress (the writes queued so far commit
    /// first; later ones are refused).
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// A name for this store that no other process shares: the process id and the time it was
/// opened, to the nanosecond.
fn instance_name() -> String {
    format!("{}-{}", std::process::id(), Timestamp::now().as_nanosecond())
}

#[async_trait]
impl Wakeups for PgStore {
    async fn listen(&self, sink: WakeupSink, shutdown: tokio_util::sync::CancellationToken) {
        notify::listen(&self.pool, &self.instance, sink, shutdown).await;
    }

    async fn announce_reload(&self, digest: &str) -> Result<(), StoreError> {
        notify::reloaded(&self.pool, &self.instance, digest).await
    }
}

#[async_trait]
impl TicketStore for PgStore {
    async fn next_ticket_number(&self) -> Result<u64, StoreError> {
        tickets::next_number(&self.pool).await
    }

    async fn release_numbers(&self) -> Result<(), StoreError> {
        // A sequence hands out numbers one at a time (no cache): none is reserved ahead.
        Ok(())
    }

    async fn commit(&self, change: Change) -> Result<Committed, StoreError> {
        self.writer.submit(commit::Commit::new(change, &self.instance)?).await
    }

    /// The delivery's record is written in the commit's own transaction (see `once`).
    async fn commit_once(&self, change: Change, delivery: Delivery<'_>) -> Result<Committed, StoreError> {
        let (value, at) = (delivery.value(&change.ticket.id), change.at);
        let commit = commit::Commit::new(change, &self.instance)?;
        self.writer.submit(once::CommitOnce::new(commit, delivery, value, at)).await
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<StoredTicket>, StoreError> {
        tickets::ticket(&self.pool, id).await
    }

    async fn events(&self, id: &TicketId) -> Result<Vec<(Event, Timestamp)>, StoreError> {
        tickets::events(&self.pool, id).await
    }

    async fn tickets(&self, filter: &TicketFilter) -> Result<TicketPage, StoreError> {
        tickets::list(&self.pool, filter).await
    }

    async fn due_for_expiry(&self, now: Timestamp, limit: u32) -> Result<Vec<TicketId>, StoreError> {
        tickets::due_for_expiry(&self.pool, now, limit).await
    }

    async fn tickets_in_state(&self, state: TicketState, limit: u32) -> Result<Vec<TicketId>, StoreError> {
        tickets::in_state(&self.pool, state, limit).await
    }
}

#[async_trait]
impl RunQueue for PgStore {
    async fn claim_run(
        &self,
        holder: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Claim>, StoreError> {
        self.writer.submit(queue::ClaimRun::new(holder, now, lease_until)).await
    }

    async fn heartbeat(&self, ticket: &TicketId, holder: &str, lease_until: Timestamp) -> Result<bool, StoreError> {
        queue::heartbeat(&self.pool, ticket, holder, lease_until).await
    }

    async fn end_all_leases(&self) -> Result<u64, StoreError> {
        queue::end_all_leases(&self.pool).await
    }

    async fn lead(&self, role: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool, StoreError> {
        queue::lead(&self.pool, role, holder, now, until).await
    }
}

#[async_trait]
impl LogStore for PgStore {
    async fn append_logs(&self, lines: &[LogLine]) -> Result<(), StoreError> {
        logs::append(&self.pool, &self.instance, lines).await
    }

    async fn logs(&self, ticket: &TicketId, after: u64, limit: u32) -> Result<Vec<LogLine>, StoreError> {
        logs::read(&self.pool, ticket, after, limit).await
    }

    async fn last_log_seq(&self, ticket: &TicketId) -> Result<u64, StoreError> {
        logs::last_seq(&self.pool, ticket).await
    }
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn due_outbox(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        outbox::due(&self.pool, now, limit).await
    }

    async fn claim_outbox(
        &self,
        holder: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        outbox::claim(&self.pool, holder, now, lease_until, limit).await
    }

    async fn renew_outbox(&self, holder: &str, ticket: &TicketId, lease_until: Timestamp) -> Result<bool, StoreError> {
        outbox::renew(&self.pool, holder, ticket, lease_until).await
    }

    async fn release_outbox(&self, holder: &str, ticket: &TicketId) -> Result<(), StoreError> {
        outbox::release(&self.pool, holder, ticket).await
    }

    async fn outbox_delivered(&self, id: u64, at: Timestamp) -> Result<(), StoreError> {
        outbox::delivered(&self.pool, id, at).await
    }

    async fn outbox_failed(&self, id: u64, error: &str, retry_at: Option<Timestamp>) -> Result<(), StoreError> {
        outbox::failed(&self.pool, id, error, retry_at).await
    }
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, entries: Vec<AuditEntry>) -> Result<Vec<AuditRecord>, StoreError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        self.writer.submit(audit::Append(entries)).await
    }

    async fn audit(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        audit::read(&self.pool, after, limit).await
    }

    async fn audit_head(&self) -> Result<Option<(u64, String)>, StoreError> {
        audit_checkpoints::head(&self.pool).await
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        audit_checkpoints::save(&self.pool, checkpoint).await
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        audit_checkpoints::read(&self.pool).await
    }
}

#[async_trait]
impl TokenStore for PgStore {
    async fn create_token(&self, token: &ApiToken, audit: Vec<AuditEntry>) -> Result<(), StoreError> {
        self.writer.submit(admin::CreateToken { token: token.clone(), audit }).await
    }

    async fn token(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        admin::token(&self.pool, "hash", hash).await
    }

    async fn token_by_id(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        admin::token(&self.pool, "id", id).await
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        admin::tokens(&self.pool).await
    }

    async fn revoke_token(&self, id: &str, revocation: &Revocation, audit: Vec<AuditEntry>) -> Result<(), StoreError> {
        let revocation = revocation.clone();
        self.writer.submit(admin::RevokeToken { id: id.to_owned(), revocation, audit }).await
    }

    async fn token_used(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        admin::token_used(&self.pool, id, at).await
    }
}

#[async_trait]
impl StateStore for PgStore {
    async fn state_get(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        state::get(&self.pool, scope, key).await
    }

    async fn state_put(&self, scope: &str, key: &str, value: &str, at: Timestamp) -> Result<(), StoreError> {
        state::put(&self.pool, (scope, key, value), at, false).await.map(drop)
    }

    async fn state_put_new(&self, scope: &str, key: &str, value: &str, at: Timestamp) -> Result<bool, StoreError> {
        state::put(&self.pool, (scope, key, value), at, true).await
    }

    async fn state_list(&self, scope: &str, prefix: &str, limit: u32) -> Result<Vec<(String, String)>, StoreError> {
        state::list(&self.pool, scope, prefix, limit).await
    }

    async fn state_prune(&self, scope: &str, before: Timestamp) -> Result<u64, StoreError> {
        state::prune(&self.pool, scope, before).await
    }

    async fn state_forget(&self, scope: &str, key: &str, value: &str) -> Result<bool, StoreError> {
        state::forget(&self.pool, (scope, key, value)).await
    }
}

#[async_trait]
impl HealthStore for PgStore {
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        admin::stats(&self.pool).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_error)?;
        Ok(())
    }
}

#[async_trait]
impl ProcessStore for PgStore {
    async fn record_process(&self, process: &StepProcess) -> Result<(), StoreError> {
        processes::record(&self.pool, process).await
    }

    async fn forget_process(&self, host: &str, group: &StepGroup) -> Result<(), StoreError> {
        processes::forget(&self.pool, host, group).await
    }

    async fn processes_on(&self, host: &str) -> Result<Vec<StepProcess>, StoreError> {
        processes::on_host(&self.pool, host).await
    }
}

#[async_trait]
impl ResultStore for PgStore {
    async fn put_result(&self, result: &StoredResult) -> Result<(), StoreError> {
        results::put(&self.pool, result).await
    }

    async fn results(&self, ticket: &TicketId) -> Result<Vec<StoredResult>, StoreError> {
        results::of_ticket(&self.pool, ticket).await
    }
}
