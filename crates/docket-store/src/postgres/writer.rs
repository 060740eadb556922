//! Group commit on PostgreSQL: every write that appends to the audit chain (ticket commits,
//! loose audit appends, token changes) and every run claim goes to one writer task per store,
//! which takes whatever writes are queued when it is free (at most [`MAX_BATCH`], never waiting
//! for more) and runs them in one transaction (see `batch`):
//!
//! - the batch's ticket commits are written by one statement (see `commit`), one round trip
//!   however many; a commit whose ticket moved on (or whose id is taken) writes nothing and is
//!   refused alone, and the transaction goes on. Other writes follow, one statement each, run
//!   claims last. If a statement fails, the transaction is rolled back and every write runs
//!   again inside a savepoint of its own, so the failing one is rolled back alone and gets its
//!   error while its neighbours go on;
//! - the audit chain is appended once per batch, last: the advisory lock is taken and the head
//!   read in one round trip, every applied write's entries are chained after it in memory, and
//!   the records, the ticket-number bump and `COMMIT` go in one more; so the lock is held for two
//!   round trips and the commit's sync, however big the batch;
//! - every caller hears its result only after the shared `COMMIT` succeeded; if it fails, every
//!   caller in the batch gets the error, and nothing any of them did is durable.
//!
//! Several replicas each run their own writer on the same database; their batches meet only on
//! the audit lock (and on the rows of a ticket two of them write at once), so each commit's lock
//! and sync are shared by a whole batch instead of paid per write.

use async_trait::async_trait;
use docket_app::StoreError;
use docket_core::audit::{AuditEntry, AuditRecord};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};

use crate::settle::{Pending, Settle, same};

use super::batch;
use super::commit::Commit;

/// Most writes in one transaction: enough to share a commit among a busy replica's requesters
/// and workers; few enough that a batch never holds the audit lock for long.
pub(super) const MAX_BATCH: usize = 64;

/// Writes waiting for the writer; callers wait for room when it is full.
const QUEUE: usize = 1024;

/// Why a write did not apply.
#[derive(Debug)]
pub(super) enum Failure {
    /// Refused without writing anything (a stale version, a taken id): the transaction goes on.
    Refused(StoreError),
    /// Its statement failed: the transaction must be rolled back to before it.
    Failed(StoreError),
}

/// One write, run by the writer inside a batch's transaction.
#[async_trait]
pub(super) trait Write: Send + 'static {
    /// What the caller gets once the batch has committed.
    type Output: Send + 'static;

    /// Where it runs in its batch: by class, then by the ticket it writes. Ticket order means
    /// two replicas' batches never wait for each other's rows in opposite orders; commits made
    /// once per delivery (class 1; the app makes them to open tickets, which wait on no ticket
    /// row) in the order of their deliveries' keys, for the same reason; run claims (class 2,
    /// which never wait) go last.
    fn key(&self) -> (u8, &str) {
        (0, "")
    }

    /// A ticket commit: the batch writes all of its commits in one statement (see `commit`).
    fn commit(&self) -> Option<&Commit> {
        None
    }

    /// Writes everything but its audit records. May run twice (the second time in a savepoint,
    /// after the first attempt was rolled back): what it keeps of a run is replaced by the next.
    async fn apply(&mut self, conn: &mut PgConnection) -> Result<(), Failure>;

    /// A ticket number it took that the sequence must not hand out again.
    fn number(&self) -> Option<i64> {
        None
    }

    /// Its audit entries, in order; taken once, after it applied.
    fn take_audit(&mut self) -> Vec<AuditEntry>;

    /// Its output, given its audit records as chained.
    fn output(self, audit: Vec<AuditRecord>) -> Result<Self::Output, StoreError>;
}

/// A queued write with the channel its caller waits on.
struct Request<W: Write> {
    write: W,
    reply: oneshot::Sender<Result<W::Output, StoreError>>,
}

/// A write whose output type is forgotten, so writes of every kind share the queue.
#[async_trait]
pub(super) trait Job: Send {
    fn abandoned(&self) -> bool;
    fn key(&self) -> (u8, &str);
    fn commit(&self) -> Option<&Commit>;
    async fn apply(&mut self, conn: &mut PgConnection) -> Result<(), Failure>;
    fn number(&self) -> Option<i64>;
    fn take_audit(&mut self) -> Vec<AuditEntry>;
    /// Its result once applied, held until the batch commits.
    fn done(self: Box<Self>, audit: Vec<AuditRecord>) -> Box<dyn Settle>;
    /// Its own failure.
    fn fail(self: Box<Self>, error: StoreError) -> Box<dyn Settle>;
}

#[async_trait]
impl<W: Write> Job for Request<W> {
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn key(&self) -> (u8, &str) {
        self.write.key()
    }

    fn commit(&self) -> Option<&Commit> {
        self.write.commit()
    }

    async fn apply(&mut self, conn: &mut PgConnection) -> Result<(), Failure> {
        self.write.apply(conn).await
    }

    fn number(&self) -> Option<i64> {
        self.write.number()
    }

    fn take_audit(&mut self) -> Vec<AuditEntry> {
        self.write.take_audit()
    }

    fn done(self: Box<Self>, audit: Vec<AuditRecord>) -> Box<dyn Settle> {
        let result = self.write.output(audit);
        Box::new(Pending { reply: self.reply, result })
    }

    fn fail(self: Box<Self>, error: StoreError) -> Box<dyn Settle> {
        Box::new(Pending { reply: self.reply, result: Err(error) })
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the PostgreSQL store is closed".into())
}

enum Message {
    Job(Box<dyn Job>),
    Close(oneshot::Sender<()>),
}

/// The way to the writer task. Cloning it shares the task; the task ends when the last clone
/// is dropped or [`Writer::close`] is called.
#[derive(Clone)]
pub(super) struct Writer {
    queue: mpsc::Sender<Message>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("queued", &(QUEUE - self.queue.capacity())).finish()
    }
}

impl Writer {
    /// Starts the writer task on the current Tokio runtime; it writes through a connection taken
    /// from `pool`, kept between batches.
    pub(super) fn start(pool: PgPool) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            StoreError::Unavailable("the PostgreSQL store must be opened inside a Tokio runtime".into())
        })?;
        let (queue, inbox) = mpsc::channel(QUEUE);
        runtime.spawn(run(pool, inbox));
        Ok(Self { queue })
    }

    /// Queues `write` and waits until its batch has committed (or failed).
    pub(super) async fn submit<W: Write>(&self, write: W) -> Result<W::Output, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Message::Job(Box::new(Request { write, reply }))).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Waits for the writes queued so far, then stops the writer.
    pub(super) async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Close(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// Plans for the writer's statements: keyed lookups, never a hash or merge join. A plan is made
/// once per connection and kept; made while a table is still small (a new database), its
/// statistics would pick a join that scans the whole table, and keep it as the table grows.
const PLANS: &str = "SET enable_hashjoin = off; SET enable_mergejoin = off";

/// The writer's connection: taken from the pool for good (so one left inside a transaction, if
/// the task is dropped mid-batch, is closed, never reused), with its own [`PLANS`].
async fn connect(pool: &PgPool) -> Result<PgConnection, sqlx::Error> {
    let mut conn = pool.acquire().await.map(PoolConnection::detach)?;
    sqlx::raw_sql(PLANS).execute(&mut conn).await?;
    Ok(conn)
}

/// The writer task: one batch at a time, until every [`Writer`] is gone or one closes it.
async fn run(pool: PgPool, mut inbox: mpsc::Receiver<Message>) {
    let mut close = None;
    // The connection between batches, taken from the pool for good (so one left inside a
    // transaction, if this task is dropped mid-batch, is closed, never reused); closed after a
    // batch that failed, in case it broke.
    let mut held: Option<PgConnection> = None;
    while close.is_none() {
        let Some(first) = inbox.recv().await else { break };
        let mut jobs: Vec<Box<dyn Job>> = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Job(job) => jobs.push(job),
                Message::Close(done) => {
                    close = Some(done);
                    break;
                }
            }
            next = if jobs.len() < MAX_BATCH { inbox.try_recv().ok() } else { None };
        }
        jobs.retain(|job| !job.abandoned());
        if jobs.is_empty() {
            continue;
        }
        metrics::histogram!("docket_store_batch_writes").record(jobs.len() as f64);
        let conn = match held.take() {
            Some(conn) => Ok(conn),
            None => connect(&pool).await,
        };
        match conn {
            Ok(mut conn) => {
                if batch::write(&mut conn, jobs).await {
                    held = Some(conn);
                }
            }
            Err(e) => {
                let error = crate::rows::db_error(e);
                jobs.into_iter().for_each(|job| job.fail(same(&error)).settle(Ok(())));
            }
        }
    }
    inbox.close();
    // Writes queued behind a close are refused, not left waiting.
    while let Ok(message) = inbox.try_recv() {
        if let Message::Job(job) = message {
            job.fail(closed()).settle(Ok(()));
        }
    }
    if let Some(conn) = held {
        let _ = sqlx::Connection::close(conn).await;
    }
    if let Some(done) = close {
        let _ = done.send(());
    }
}
