//! The `Store` port: everything Docket keeps. One [`Store::commit`] per command writes the
//! ticket, its events, their audit records, outbox rows and queue changes in one transaction.
//!
//! Implementations live in `docket-store` (SQLite and PostgreSQL); its contract test suite
//! checks both against the rules written on each method here.

pub use super::wakeup::Wakeups;
use async_trait::async_trait;
use docket_core::audit::{AuditEntry, AuditRecord};
use docket_core::checkpoint::Checkpoint;
use docket_core::{Event, PersonId, Ticket, TicketId, TicketState, WorkflowId};

pub use crate::ports::processes::ProcessStore;
use crate::ports::processes::StepGroup;
pub use crate::ports::results::ResultStore;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What can go wrong in a store. Each variant says what the caller may do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The ticket changed since it was read (`expected_version` did not match), or a new
    /// ticket's id is taken. Nothing was written; read again and retry the command.
    #[error("ticket {0} changed concurrently")]
    Conflict(TicketId),
    /// The database could not be reached or refused the statement. Nothing was written.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back (a bug or a hand-edited database).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The delivery a change was made once for (see [`TicketStore::commit_once`]) is recorded
    /// already: the request was delivered before. Nothing was written.
    #[error("delivery {0} was recorded before")]
    Delivered(String),
}

/// A ticket as stored, with its version for optimistic concurrency.
#[derive(Clone, Debug)]
pub struct StoredTicket {
    /// The ticket.
    pub ticket: Ticket,
    /// How many events it has; [`Change::expected_version`] must match it.
    pub version: u64,
}

/// One command's effects, written atomically by [`Store::commit`].
#[derive(Clone, Debug)]
pub struct Change {
    /// The ticket after the events.
    pub ticket: Ticket,
    /// The version read before deciding; 0 creates the ticket.
    pub expected_version: u64,
    /// When the command was decided.
    pub at: Timestamp,
    /// The events, in order. The new version is `expected_version + events.len()`.
    pub events: Vec<Event>,
    /// Audit entries, in order, already redacted; the store chains them.
    pub audit: Vec<AuditEntry>,
    /// Notifications to deliver after commit.
    pub outbox: Vec<NewOutboxMessage>,
    /// What happens to the ticket's place in the run queue.
    pub queue: QueueOp,
}

/// A change to the run queue, made with the ticket change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum QueueOp {
    /// No change.
    #[default]
    None,
    /// Put the ticket at the back of the queue. Only the oldest entry with a given key may be
    /// claimed, so runs with the same key go one at a time, in order.
    Enqueue {
        /// The rendered `concurrency` key, if the workflow has one.
        concurrency_key: Option<String>,
    },
    /// Take the ticket off the queue (its run ended, or it was cancelled or expired).
    Remove,
}

/// What a commit wrote.
#[derive(Clone, Debug)]
pub struct Committed {
    /// The ticket's new version.
    pub version: u64,
    /// The audit records, as chained.
    pub audit: Vec<AuditRecord>,
}

/// Filters for [`Store::tickets`]. Every field narrows the result; all empty lists everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFilter {
    /// Only these states.
    pub states: Vec<TicketState>,
    /// Only this workflow.
    pub workflow: Option<WorkflowId>,
    /// Only tickets this person requested.
    pub requester: Option<PersonId>,
    /// Newest first; continue below this ticket number (from [`TicketPage::next`]).
    pub before: Option<u64>,
    /// At most this many (the store caps it at 500).
    pub limit: u32,
}

/// A page of tickets, newest first.
#[derive(Clone, Debug)]
pub struct TicketPage {
    /// The tickets.
    pub tickets: Vec<Ticket>,
    /// The cursor for the next page, if there may be more.
    pub next: Option<u64>,
}

/// A run the worker now holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The ticket to run.
    pub ticket: TicketId,
    /// Whether an earlier holder's lease lapsed on this entry (a crash or a lost worker).
    pub recovered: bool,
}

/// Which stream a log line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// The process's standard output.
    Stdout,
    /// The process's standard error.
    Stderr,
    /// Docket's own notes (started, exit code, truncation, response excerpt).
    System,
}

impl LogStream {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
            LogStream::System => "system",
        }
    }

    /// Parses [`LogStream::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        [LogStream::Stdout, LogStream::Stderr, LogStream::System].into_iter().find(|s| s.as_str() == text)
    }
}

/// One line of a step's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// The ticket.
    pub ticket: TicketId,
    /// The run number (from 1).
    pub run: u32,
    /// The step index (from 0).
    pub step: usize,
    /// Position in the ticket's log, from 1, increasing across runs; unique per ticket.
    pub seq: u64,
    /// Where it came from.
    pub stream: LogStream,
    /// The line, redacted, without its newline.
    pub text: String,
    /// When it was read.
    pub at: Timestamp,
}

/// A notification to send once the change is committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOutboxMessage {
    /// The notifier's name ([`crate::Notifier::name`]).
    pub notifier: String,
    /// The ticket it is about.
    pub ticket: TicketId,
    /// What it says, for the notifier; with the ticket and notifier it forms the
    /// idempotency key, so a notifier edits one message per key instead of posting again.
    pub key: String,
    /// The audit actions that caused it, and anything the notifier needs.
    pub payload: serde_json::Value,
}

/// A notification waiting for delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Its id, increasing in commit order.
    pub id: u64,
    /// The message.
    pub message: NewOutboxMessage,
    /// Failed deliveries so far.
    pub attempts: u32,
    /// When it was committed.
    pub created_at: Timestamp,
    /// How many times it has been claimed for delivery, this time included. More than one
    /// (or failed attempts) means an earlier claimant may have delivered it before it stopped:
    /// a surface looks for what it posted before posting again.
    pub claims: u32,
}

impl OutboxMessage {
    /// Whether an earlier attempt may have reached the chat (a failed attempt, or a claimant
    /// that stopped), so the surface should look for its message before posting.
    pub fn may_have_been_delivered(&self) -> bool {
        self.attempts > 0 || self.claims > 1
    }
}

/// An API token's record. The token itself is never stored, only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    /// Its public id (`tok_` and 16 hex digits): named in listings, revocations and the audit
    /// record of everything done with it.
    pub id: String,
    /// SHA-256 of the token, in hex.
    pub hash: String,
    /// The person it acts as; for an agent's token, the agent's owner when it was made.
    pub person: PersonId,
    /// The agent it acts as, if it is an agent's token.
    pub agent: Option<String>,
    /// A label to tell tokens apart (`laptop`, `ci`).
    pub name: String,
    /// Who made it, as the audit names actors (`erin`, `operator:root@build-1`).
    pub created_by: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it stops working; `None`: never.
    pub expires_at: Option<Timestamp>,
    /// When it was last used (recorded at most once a minute).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked, and by whom.
    pub revoked: Option<Revocation>,
}

/// A token's revocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// When.
    pub at: Timestamp,
    /// Who, as the audit names actors.
    pub by: String,
}

/// Counts for metrics and readiness.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Tickets per state.
    pub tickets_by_state: Vec<(TicketState, u64)>,
    /// Queue entries not yet claimed.
    pub queue_depth: u64,
    /// When the oldest undelivered notification was committed.
    pub oldest_undelivered: Option<Timestamp>,
}

/// Everything Docket keeps, one port per concern: a store implements them all; a part of
/// Docket that needs only one (a surface's small state, say) can depend on that one alone.
///
/// Every method's writes are all or nothing and durable when it returns; an implementation may
/// commit several callers' writes in one transaction (group commit), but never acknowledges a
/// write before that transaction has committed. Errors mean the same on every port:
/// [`StoreError::Unavailable`] — nothing was written (or read), try again later;
/// [`StoreError::Corrupt`] — stored data could not be read back, a bug or a hand-edited
/// database; [`StoreError::Conflict`] — only from [`TicketStore::commit`], see there;
/// [`StoreError::Delivered`] — only from [`TicketStore::commit_once`].
pub trait Store:
    TicketStore
    + RunQueue
    + LogStore
    + OutboxStore
    + AuditStore
    + TokenStore
    + StateStore
    + HealthStore
    + Wakeups
    + ProcessStore
    + ResultStore
{
}

impl<T> Store for T where
    T: TicketStore
        + RunQueue
        + LogStore
        + OutboxStore
        + AuditStore
        + TokenStore
        + StateStore
        + HealthStore
        + Wakeups
        + ProcessStore
        + ResultStore
{
}

/// What the commit that records a step's end writes besides the change: what is left of the
/// step, so a short step costs one write at its end.
#[derive(Clone, Copy, Debug, Default)]
pub struct EndOfStep<'a> {
    /// The step's output not stored yet (its last lines), to be stored with its end. The
    /// step's end commits to their digest, so they are stored when the change is.
    pub lines: &'a [LogLine],
    /// The step's process group, which has ended: its record (on host `.0`) goes.
    pub ended: Option<(&'a str, &'a StepGroup)>,
}

/// A surface's record that one delivery was seen (a request's signature, an envelope id, a
/// form's or a client's key), kept in its small state ([`StateStore`]) under (`scope`, `key`)
/// and written with the change the delivery asked for (see [`TicketStore::commit_once`]). Its
/// value is the change's ticket id, then a space and `note` when there is one
/// ([`Delivery::value`]): a repeat finds the ticket the delivery opened from the record alone.
#[derive(Clone, Copy, Debug)]
pub struct Delivery<'a> {
    /// The surface's state scope (`slack.seen`).
    pub scope: &'a str,
    /// What identifies the delivery (`sig:{timestamp}:v0=…`).
    pub key: &'a str,
    /// What else the record keeps (a fingerprint of the request, say); empty for nothing.
    pub note: &'a str,
}

impl Delivery<'_> {
    /// The record's value for a change to `ticket`.
    pub fn value(&self, ticket: &TicketId) -> String {
        if self.note.is_empty() { ticket.to_string() } else { format!("{ticket} {}", self.note) }
    }

    /// The ticket id and the note of a record's value.
    pub fn read(value: &str) -> Option<(TicketId, &str)> {
        let (id, note) = value.split_once(' ').unwrap_or((value, ""));
        Some((TicketId::parse(id).ok()?, note))
    }
}

/// Tickets and their events: numbers, the one commit per command, reads and the lists the engine works from.
/// The commit that ends a step also writes what is left of it, hence [`LogStore`] and [`ProcessStore`];
/// a commit made once per delivery records the delivery, hence [`StateStore`].
#[async_trait]
pub trait TicketStore: LogStore + ProcessStore + StateStore + Send + Sync + 'static {
    /// Allocates a ticket number: unique, and increasing from one call to the next. Numbers may
    /// be skipped (a request refused after allocation, numbers a stopped server had reserved),
    /// never reused.
    async fn next_ticket_number(&self) -> Result<u64, StoreError>;

    /// A clean stop: numbers this store reserved and has not handed out are given back, so the
    /// next start continues from the last number used (the numbers people type stay dense). A
    /// number allocated afterwards is still unique. Nothing to do for a store that reserves none.
    async fn release_numbers(&self) -> Result<(), StoreError>;

    /// Writes one command's effects atomically: the ticket (created when
    /// `expected_version` is 0), its events, its audit records appended to the single chain,
    /// its outbox rows and its queue change. Fails with [`StoreError::Conflict`] and writes
    /// nothing if the stored version is not `expected_version`.
    async fn commit(&self, change: Change) -> Result<Committed, StoreError>;

    /// Commits `change`, which records a step's end, with what is left of the step (`end`).
    /// The lines are stored when the change is (lines already stored are ignored, so a commit
    /// retried after a conflict may carry them again); the process record goes whether or not
    /// the change commits (the group has ended either way). This default takes three writes:
    /// the lines first, then the change and the record's removal side by side, whose failure
    /// is not the commit's (a record left behind is found gone and dropped when the server
    /// next starts). SQLite writes all three in the one transaction.
    async fn commit_end_of_step(&self, change: Change, end: EndOfStep<'_>) -> Result<Committed, StoreError> {
        if !end.lines.is_empty() {
            self.append_logs(end.lines).await?;
        }
        let forget = async {
            if let Some((host, group)) = end.ended {
                let _ = self.forget_process(host, group).await;
            }
        };
        let (committed, ()) = tokio::join!(self.commit(change), forget);
        committed
    }

    /// Commits `change` only if `delivery` was never recorded, recording it (stamped with the
    /// change's time) with the change: a request delivered twice changes things once, and
    /// what records the delivery is the change itself. Fails with [`StoreError::Delivered`]
    /// and writes nothing if it was recorded before. This default takes two writes, the record
    /// first (a record whose change then fails stays: the delivery is spent); SQLite and
    /// PostgreSQL write both in one transaction, so a change not written leaves the delivery
    /// unrecorded.
    async fn commit_once(&self, change: Change, delivery: Delivery<'_>) -> Result<Committed, StoreError> {
        let value = delivery.value(&change.ticket.id);
        if !self.state_put_new(delivery.scope, delivery.key, &value, change.at).await? {
            return Err(StoreError::Delivered(delivery.key.to_owned()));
        }
        self.commit(change).await
    }

    /// One ticket, or `None`.
    async fn ticket(&self, id: &TicketId) -> Result<Option<StoredTicket>, StoreError>;

    /// A ticket's events with their times, in order.
    async fn events(&self, id: &TicketId) -> Result<Vec<(Event, Timestamp)>, StoreError>;

    /// Tickets matching `filter`, newest (highest number) first.
    async fn tickets(&self, filter: &TicketFilter) -> Result<TicketPage, StoreError>;

    /// Candidates for expiry, at most `limit`: tickets awaiting approval or with changes
    /// requested whose `respond_by` is at or before `now`, and approved or queued tickets whose
    /// `start_by` is.
    async fn due_for_expiry(&self, now: Timestamp, limit: u32) -> Result<Vec<TicketId>, StoreError>;

    /// Tickets in `state` (for start-up recovery of interrupted planning). At most `limit`.
    async fn tickets_in_state(&self, state: TicketState, limit: u32) -> Result<Vec<TicketId>, StoreError>;
}

/// The run queue: claims with a lease, heartbeats, and the start-up that ends every lease of a single node.
#[async_trait]
pub trait RunQueue: Send + Sync + 'static {
    /// Claims the oldest claimable queue entry for `holder` until `lease_until`. An entry is
    /// claimable if it is the oldest entry with its concurrency key (or has none) and is
    /// either unclaimed or its lease ended at or before `now`.
    async fn claim_run(
        &self,
        holder: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Claim>, StoreError>;

    /// Extends `holder`'s lease on `ticket`. Returns false if the holder no longer has it.
    async fn heartbeat(&self, ticket: &TicketId, holder: &str, lease_until: Timestamp) -> Result<bool, StoreError>;

    /// Ends every lease at once, so a restarted single-node server resumes interrupted runs
    /// immediately instead of waiting for their leases to lapse (notification claims included).
    /// Returns how many runs it released.
    async fn end_all_leases(&self) -> Result<u64, StoreError>;

    /// Takes or keeps `role` (`scheduler`) for `holder` until `until`: true when `holder` has
    /// it now — it held it, or nobody did, or the holder's term ended at or before `now`. Of
    /// several callers at once exactly one gets a free role. A holder that cannot renew must
    /// stop acting before its term ends.
    async fn lead(&self, role: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool, StoreError>;
}

/// Step output: appended in batches, read a page at a time.
#[async_trait]
pub trait LogStore: Send + Sync + 'static {
    /// Appends log lines (already redacted). Lines whose (ticket, seq) exists are ignored.
    async fn append_logs(&self, lines: &[LogLine]) -> Result<(), StoreError>;

    /// A ticket's log lines with `seq > after`, in order, at most `limit`.
    async fn logs(&self, ticket: &TicketId, after: u64, limit: u32) -> Result<Vec<LogLine>, StoreError>;

    /// The highest log `seq` of a ticket (0 if none), so a resumed run continues the numbering.
    async fn last_log_seq(&self, ticket: &TicketId) -> Result<u64, StoreError>;
}

/// Notifications waiting for delivery, in order per ticket and notifier.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Undelivered messages whose next attempt is due at `now`, oldest first, at most `limit`;
    /// a message is withheld while an older undelivered one for the same notifier and ticket
    /// exists, so each thread sees its updates in order.
    async fn due_outbox(&self, now: Timestamp, limit: u32) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Claims the tickets with due messages that no other holder has a live claim on, up to
    /// `limit` tickets, for `holder` until `lease_until`, and returns their due messages (each
    /// the oldest pending one of its thread), oldest first, each counted as claimed once more.
    /// Of two holders claiming at once, exactly one gets a ticket; a claim whose lease lapsed
    /// may be taken by anyone.
    async fn claim_outbox(
        &self,
        holder: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Extends `holder`'s claim on `ticket`'s messages; false if the holder no longer has it.
    async fn renew_outbox(&self, holder: &str, ticket: &TicketId, lease_until: Timestamp) -> Result<bool, StoreError>;

    /// Ends `holder`'s claim on `ticket`'s messages (its delivery task is done).
    async fn release_outbox(&self, holder: &str, ticket: &TicketId) -> Result<(), StoreError>;

    /// Marks a message delivered.
    async fn outbox_delivered(&self, id: u64, at: Timestamp) -> Result<(), StoreError>;

    /// Records a failed attempt; the message is due again at `retry_at`, or never if `None`
    /// (given up, kept for inspection with its error).
    async fn outbox_failed(&self, id: u64, error: &str, retry_at: Option<Timestamp>) -> Result<(), StoreError>;
}

/// The audit chain: appends outside a ticket change, and reads in order.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Appends audit entries that belong to no ticket change (a refused command, a forged
    /// request, a token created), chained like any other.
    async fn append_audit(&self, entries: Vec<AuditEntry>) -> Result<Vec<AuditRecord>, StoreError>;

    /// Audit records with `seq > after`, in order, at most `limit`.
    async fn audit(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError>;

    /// The chain's head: its last record's sequence number and hash, if it has any.
    async fn audit_head(&self) -> Result<Option<(u64, String)>, StoreError>;

    /// Keeps a signed checkpoint of the chain; the same checkpoint again changes nothing.
    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError>;

    /// Every checkpoint kept, by the head they name.
    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError>;
}

/// API tokens, by the SHA-256 of the token and by id. Nothing is cached: a revocation is seen
/// by the next read on every replica.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Saves a token's record and `audit` (its creation) in one transaction. A token whose hash
    /// or id is already saved is refused with [`StoreError::Unavailable`].
    async fn create_token(&self, token: &ApiToken, audit: Vec<AuditEntry>) -> Result<(), StoreError>;

    /// The record of the token with this hash, if any.
    async fn token(&self, hash: &str) -> Result<Option<ApiToken>, StoreError>;

    /// The record of the token with this id, if any.
    async fn token_by_id(&self, id: &str) -> Result<Option<ApiToken>, StoreError>;

    /// Every token's record, newest first.
    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError>;

    /// Marks token `id` revoked (unless it already is) and appends `audit`, in one transaction.
    async fn revoke_token(&self, id: &str, revocation: &Revocation, audit: Vec<AuditEntry>) -> Result<(), StoreError>;

    /// Records that token `id` was used at `at`.
    async fn token_used(&self, id: &str, at: Timestamp) -> Result<(), StoreError>;
}

/// Surface state: small keyed values surfaces and integrations keep between requests, shared by replicas.
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// A surface's stored value under (`scope`, `key`), if any. Surfaces keep small values
    /// here between requests: the chat message showing a ticket, conversation references, event
    /// ids already seen, sessions.
    async fn state_get(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError>;

    /// Sets the value under (`scope`, `key`), replacing any, stamped `at`.
    async fn state_put(&self, scope: &str, key: &str, value: &str, at: Timestamp) -> Result<(), StoreError>;

    /// Sets the value only if the key is absent. Returns whether it was set: of several callers
    /// racing on one key (on any replica), exactly one hears `true`.
    async fn state_put_new(&self, scope: &str, key: &str, value: &str, at: Timestamp) -> Result<bool, StoreError>;

    /// Every (key, value) in `scope` whose key starts with `prefix`, by key, at most `limit`.
    async fn state_list(&self, scope: &str, prefix: &str, limit: u32) -> Result<Vec<(String, String)>, StoreError>;

    /// Deletes entries of `scope` stamped before `before`; returns how many.
    async fn state_prune(&self, scope: &str, before: Timestamp) -> Result<u64, StoreError>;

    /// Deletes the entry under (`scope`, `key`) if it still holds `value` (so a value another
    /// caller put since stays); returns whether it did.
    async fn state_forget(&self, scope: &str, key: &str, value: &str) -> Result<bool, StoreError>;
}

/// Counts for metrics, and whether the database answers.
#[async_trait]
pub trait HealthStore: Send + Sync + 'static {
    /// Counts for metrics.
    async fn stats(&self) -> Result<StoreStats, StoreError>;

    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Brings every store port into scope, so `store.commit(…)` works on a `dyn Store`.
pub mod prelude {
    pub use super::{
        AuditStore as _, HealthStore as _, LogStore as _, OutboxStore as _, RunQueue as _, StateStore as _,
        TicketStore as _, TokenStore as _, Wakeups as _,
    };
    pub use crate::ports::processes::ProcessStore as _;
    pub use crate::ports::results::ResultStore as _;
}
