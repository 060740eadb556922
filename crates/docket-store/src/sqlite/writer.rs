//! Group commit: every SQLite write goes to one writer task, which owns the only connection
//! that writes. It takes whatever writes are queued when it is free (at most [`MAX_BATCH`],
//! never waiting for more) and runs them in one `BEGIN IMMEDIATE … COMMIT` (see `batch`):
//!
//! - writes run inside savepoints, so one that fails (a version conflict, a taken token hash)
//!   is rolled back alone and gets its error, while its neighbours go on;
//! - every caller hears its result only after the shared `COMMIT` succeeded; if it fails, every
//!   caller in the batch gets the error, and nothing any of them did is durable;
//! - the audit chain's head is read inside the transaction, in the same round trip as `BEGIN`,
//!   and carried from one write to the next in memory; a write that is rolled back puts it back.
//!
//! Round trips to SQLite's thread (a hand-off between threads each way) are much of what a
//! write costs, so writes share them. Writes of one kind run [`CHUNKS`] at a time as one
//! constant multi-statement string (the kind's statements repeated) inside one savepoint; if
//! anything in it fails, the savepoint undoes all of it and each of its writes runs again alone,
//! in a savepoint of its own, so a failure still lands on its own write. A batch of one write
//! (a quiet server) runs as one round trip: `BEGIN`, a check that the chain's head is the one
//! the last batch left, the write, `COMMIT`; anything failing there is rolled back and retried
//! the careful way. Writes of a batch may run in a different order than they arrived: none has
//! been answered yet, so any order is one they could have had.
//!
//! Between batches, when the checkpoint task asks for it (see `checkpoint`), the writer copies
//! the last few WAL pages into the database itself, so that its next transaction starts the WAL
//! over; it picks a moment when no write is queued if one comes within [`DEFER_CHECKPOINT`]
//! batches.

use std::sync::OnceLock;

use docket_app::StoreError;
use docket_core::audit::{AuditEntry, AuditRecord};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::settle::{Pending, Settle, same};

use super::batch;
use super::checkpoint::Checkpoints;
use crate::rows::{self, db_error};

/// Most writes in one transaction: enough to spread a commit over a busy server's requesters
/// and workers; few enough that a batch never holds the write lock for long.
pub(super) const MAX_BATCH: usize = 64;

/// Writes waiting for the writer; callers wait for room when it is full.
const QUEUE: usize = 1024;

/// Batches a due checkpoint (see `checkpoint`) may wait for a moment when no write is queued.
const DEFER_CHECKPOINT: u32 = 32;

/// How many writes of one kind share a round trip: each round trip takes the largest that is
/// not more than the writes left, so a kind needs only these few strings in the statement cache.
pub(super) const CHUNKS: [usize; 5] = [16, 8, 4, 2, 1];

/// Starts a transaction of one write (see `batch`) and checks that the chain's head is still
/// the one the write was chained after (its seq and hash, or NULLs for an empty chain); if it is
/// not, the check fails like a version conflict and the write runs again the careful way.
const LONE: &str = "BEGIN IMMEDIATE; \
    INSERT INTO expect_one_change VALUES (\
    (SELECT seq FROM audit ORDER BY seq DESC LIMIT 1) IS ? AND (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1) IS ?); ";

/// The SQL of one kind of write.
#[derive(Debug)]
pub(super) struct Sql {
    /// One write's statements, each ending with `; `. Constant text, so the statement cache
    /// keeps it; parameters are plain `?`s, bound in the order they appear (numbered ones would
    /// point into the first write's parameters when the statements are repeated).
    body: &'static str,
    /// How many rows one write returns, always: reads are shaped to return exactly this many, so
    /// the rows of a shared round trip can be told apart by position.
    pub(super) rows: usize,
    /// `SAVEPOINT op; ` + the body repeated + `RELEASE op`, for each of [`CHUNKS`].
    texts: OnceLock<Vec<String>>,
    /// A whole transaction of one write: [`LONE`], the body, `COMMIT`.
    lone: OnceLock<String>,
}

impl Sql {
    /// The SQL of a kind of write whose statements are `body` and that returns `rows` rows.
    pub(super) const fn new(body: &'static str, rows: usize) -> Self {
        Self { body, rows, texts: OnceLock::new(), lone: OnceLock::new() }
    }

    /// The text that runs `n` (one of [`CHUNKS`]) writes of this kind.
    pub(super) fn text(&'static self, n: usize) -> &'static str {
        let texts = self.texts.get_or_init(|| {
            CHUNKS.iter().map(|&n| format!("SAVEPOINT op; {}RELEASE op", self.body.repeat(n))).collect()
        });
        let i = CHUNKS.iter().position(|&c| c == n).unwrap_or(CHUNKS.len() - 1);
        texts.get(i).map_or("", String::as_str)
    }

    /// The text that runs one write as a transaction of its own (see `batch`).
    pub(super) fn lone(&'static self) -> &'static str {
        self.lone.get_or_init(|| format!("{LONE}{}COMMIT", self.body))
    }
}

/// The audit chain's last record, as the transaction stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Head(Option<(u64, String)>);

impl From<Option<(u64, String)>> for Head {
    fn from(head: Option<(u64, String)>) -> Self {
        Self(head)
    }
}

impl Head {
    /// Adds the head's seq and hash (NULLs for an empty chain), for [`LONE`]'s check.
    pub(super) fn bind(&self, args: &mut SqliteArguments) -> Result<(), StoreError> {
        let (seq, hash) = match &self.0 {
            Some((seq, hash)) => (Some(rows::to_i64(*seq, "audit seq")?), Some(hash.as_str())),
            None => (None, None),
        };
        bind(args, seq)?;
        bind(args, hash)
    }

    /// Chains `entries` after the head and moves the head past them.
    pub(super) fn chain(&mut self, entries: Vec<AuditEntry>) -> Vec<AuditRecord> {
        let records = rows::chain(entries, self.0.take());
        self.0 = records.last().map(|r| (r.seq, r.hash.clone()));
        records
    }
}

/// One write, run by the writer inside a batch's transaction.
pub(super) trait Write: Send + 'static {
    /// What the caller gets once the batch has committed.
    type Output: Send + 'static;

    /// Its kind's SQL.
    fn sql(&self) -> &'static Sql;

    /// Chains its audit entries after `head`, if it has any; called again, after a new head,
    /// if it has to run again. On an error, `head` must be left as it was.
    fn chain(&mut self, _head: &mut Head) -> Result<(), StoreError> {
        Ok(())
    }

    /// Adds its parameters, in the order its statements use them.
    fn bind(&self, args: &mut SqliteArguments) -> Result<(), StoreError>;

    /// Its output, from the rows it returned ([`Sql::rows`] of them).
    fn output(self, rows: Vec<SqliteRow>) -> Result<Self::Output, StoreError>;

    /// What its caller hears when it failed alone with `error`.
    fn error(&self, error: sqlx::Error) -> StoreError {
        db_error(error)
    }
}

/// Adds one parameter; for [`Write::bind`].
pub(super) fn bind<'t, T>(args: &mut SqliteArguments, value: T) -> Result<(), StoreError>
where
    T: sqlx::Encode<'t, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    sqlx::Arguments::add(args, value).map_err(|e| StoreError::Unavailable(format!("cannot bind a parameter: {e}")))
}

/// A queued write with the channel its caller waits on.
struct Request<W: Write> {
    write: W,
    reply: oneshot::Sender<Result<W::Output, StoreError>>,
}

/// A write whose output type is forgotten, so writes of every kind share the queue.
pub(super) trait Job: Send {
    fn abandoned(&self) -> bool;
    fn sql(&self) -> &'static Sql;
    fn chain(&mut self, head: &mut Head) -> Result<(), StoreError>;
    fn bind(&self, args: &mut SqliteArguments) -> Result<(), StoreError>;
    /// Its result, held until the batch commits: from its rows, or its own failure.
    fn done(self: Box<Self>, result: Result<Vec<SqliteRow>, sqlx::Error>) -> Box<dyn Settle>;
    /// Its result when it failed before reaching SQLite.
    fn fail(self: Box<Self>, error: StoreError) -> Box<dyn Settle>;
}

impl<W: Write> Job for Request<W> {
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn sql(&self) -> &'static Sql {
        self.write.sql()
    }

    fn chain(&mut self, head: &mut Head) -> Result<(), StoreError> {
        self.write.chain(head)
    }

    fn bind(&self, args: &mut SqliteArguments) -> Result<(), StoreError> {
        self.write.bind(args)
    }

    fn done(self: Box<Self>, result: Result<Vec<SqliteRow>, sqlx::Error>) -> Box<dyn Settle> {
        let result = match result {
            Ok(rows) => self.write.output(rows),
            Err(error) => Err(self.write.error(error)),
        };
        Box::new(Pending { reply: self.reply, result })
    }

    fn fail(self: Box<Self>, error: StoreError) -> Box<dyn Settle> {
        Box::new(Pending { reply: self.reply, result: Err(error) })
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the SQLite store is closed".into())
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
    /// Starts the writer task on the current Tokio runtime. It writes through `pool`, which
    /// holds one connection: the writer keeps it, or, when `shared` (an in-memory store, whose
    /// reads need the same connection), takes it for each batch. It wakes `checkpoints` after
    /// each commit.
    pub(super) fn start(pool: SqlitePool, shared: bool, checkpoints: Option<Checkpoints>) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError::Unavailable("the SQLite store must be opened inside a Tokio runtime".into()))?;
        let (queue, inbox) = mpsc::channel(QUEUE);
        runtime.spawn(run(pool, shared, inbox, checkpoints));
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

/// The writer task: one batch at a time, until every [`Writer`] is gone or one closes it.
async fn run(pool: SqlitePool, shared: bool, mut inbox: mpsc::Receiver<Message>, checkpoints: Option<Checkpoints>) {
    let mut close = None;
    // The connection between batches, unless it is shared.
    let mut held: Option<PoolConnection<Sqlite>> = None;
    // The chain's head after the last batch that committed, while it is known.
    let mut head: Option<Head> = None;
    // Batches since the checkpoint task asked for the writer's part of a checkpoint.
    let mut deferred = 0;
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
        let conn = match held.take() {
            Some(conn) => Ok(conn),
            None => pool.acquire().await,
        };
        match conn {
            Ok(mut conn) => {
                if batch::write(&mut conn, jobs, &mut head).await
                    && let Some(c) = &checkpoints
                {
                    c.wake();
                    // The writer's part of a checkpoint (two syncs) holds up the writes queued
                    // meanwhile: it waits for a moment when none is, but not for ever.
                    if c.restart_due() {
                        if inbox.is_empty() || deferred >= DEFER_CHECKPOINT {
                            deferred = 0;
                            c.finish(&mut conn).await;
                        } else {
                            deferred += 1;
                        }
                    }
                }
                if !shared {
                    held = Some(conn);
                }
            }
            Err(e) => {
                let error = db_error(e);
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
    if let Some(checkpoints) = checkpoints {
        checkpoints.stop().await;
    }
    drop(held);
    pool.close().await;
    if let Some(done) = close {
        let _ = done.send(());
    }
}

/// Where a caller waits for the answer to its write.
#[cfg(test)]
pub(super) type Answer<T> = oneshot::Receiver<Result<T, StoreError>>;

/// A queued write as the writer holds it, and the channel its answer comes back on; for tests
/// of the batching logic.
#[cfg(test)]
pub(super) fn job<W: Write>(write: W) -> (Box<dyn Job>, Answer<W::Output>) {
    let (reply, answer) = oneshot::channel();
    (Box::new(Request { write, reply }), answer)
}
