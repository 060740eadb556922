//! Group commit: every SQLite write goes to one writer thread, which owns the only connection
//! that writes. It takes whatever writes are queued when it is free (at most [`MAX_BATCH`],
//! never waiting for more) and runs them in one `BEGIN IMMEDIATE … COMMIT` (see `batch`):
//!
//! - one write that fails (a version conflict, a taken token hash) is rolled back alone and
//!   gets its error, while its neighbours go on (the batch runs again with savepoints: see
//!   `batch`; only if the write lock cannot be had again within the busy timeout, because a
//!   `docket` command on the same file holds it, does every write of the batch get that error);
//! - every caller hears its result only after the shared `COMMIT` succeeded; if it fails, every
//!   caller in the batch gets the error, and nothing any of them did is durable;
//! - the audit chain's head is read inside the transaction and carried from one write to the
//!   next in memory; a write that is rolled back puts it back.
//!
//! The writer is a thread of its own that calls SQLite directly (`rusqlite`), not a task over
//! sqlx's driver: that driver runs each connection on a thread of its own and sends every
//! statement and every row across threads, so a write cost several thread wake-ups, which on a
//! busy server were most of its time. Here a batch is handed over once (the queue) and answered
//! once per caller (its channel); the statements in between are plain calls. The writer keeps
//! each kind of write's statements prepared.
//!
//! Between batches, when the checkpoint task asks for it (see `checkpoint`), the writer copies
//! the last few WAL pages into the database itself, so that its next transaction starts the WAL
//! over; it picks a moment when no write is queued if one comes within [`DEFER_CHECKPOINT`]
//! batches.

use std::sync::OnceLock;

use docket_app::StoreError;
use docket_core::audit::{AuditEntry, AuditRecord};
use rusqlite::Connection;
use rusqlite::types::{FromSql, ToSql, ToSqlOutput, Value, ValueRef};
use tokio::sync::{mpsc, oneshot};

use crate::rows;
use crate::settle::{Pending, Settle};

use super::batch;
use super::checkpoint::Checkpoints;

/// Most writes in one transaction: enough to spread a commit over a busy server's requesters
/// and workers; few enough that a batch never holds the write lock for long.
pub(super) const MAX_BATCH: usize = 64;

/// Writes waiting for the writer; callers wait for room when it is full.
const QUEUE: usize = 1024;

/// Batches a due checkpoint (see `checkpoint`) may wait for a moment when no write is queued.
const DEFER_CHECKPOINT: u32 = 32;

/// The SQL of one kind of write.
#[derive(Debug)]
pub(super) struct Sql {
    /// One write's statements, each ending with `;`. Parameters are plain `?`s, bound in the
    /// order they appear, across the statements.
    body: &'static str,
    /// How many rows one write returns, always (reads are shaped to return exactly this many).
    pub(super) rows: usize,
    /// `body` cut into its statements.
    statements: OnceLock<Vec<&'static str>>,
}

impl Sql {
    /// The SQL of a kind of write whose statements are `body` and that returns `rows` rows.
    pub(super) const fn new(body: &'static str, rows: usize) -> Self {
        Self { body, rows, statements: OnceLock::new() }
    }

    /// Its statements, one by one.
    pub(super) fn statements(&'static self) -> &'static [&'static str] {
        self.statements.get_or_init(|| split_statements(self.body))
    }
}

/// Cuts SQL text into its statements at each `;` outside quotes (the write kinds' texts hold no
/// trigger bodies, whose `;`s would need more care).
fn split_statements(text: &'static str) -> Vec<&'static str> {
    let mut statements = Vec::new();
    let (mut start, mut quote) = (0, None);
    for (i, c) in text.char_indices() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            (';', None) => {
                statements.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    statements.push(text[start..].trim());
    statements.retain(|s| !s.is_empty());
    statements
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
    /// Chains `entries` after the head and moves the head past them; no entries leave it where
    /// it is (a commit without audit records, such as taking a ticket off the queue).
    pub(super) fn chain(&mut self, entries: Vec<AuditEntry>) -> Vec<AuditRecord> {
        if entries.is_empty() {
            return Vec::new();
        }
        let records = rows::chain(entries, self.0.take());
        self.0 = records.last().map(|r| (r.seq, r.hash.clone()));
        records
    }
}

/// A write's parameters, in the order its statements use them.
pub(super) type Args = Vec<Value>;

/// One row a write's statements returned, by column name.
#[derive(Debug)]
pub(super) struct Row(Vec<(String, Value)>);

impl Row {
    /// Copies the current row of a statement.
    pub(super) fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let statement = row.as_ref();
        (0..statement.column_count())
            .map(|i| {
                let value = Value::try_from(row.get_ref(i)?).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
                })?;
                Ok((statement.column_name(i)?.to_owned(), value))
            })
            .collect::<rusqlite::Result<_>>()
            .map(Self)
    }

    /// Column `name`, as a `T`.
    pub(super) fn try_get<T: FromSql>(&self, name: &str) -> Result<T, StoreError> {
        let Some((_, value)) = self.0.iter().find(|(n, _)| n == name) else {
            return Err(StoreError::Corrupt(format!("a write returned no column {name}")));
        };
        T::column_result(ValueRef::from(value))
            .map_err(|e| StoreError::Corrupt(format!("a write's column {name} could not be read: {e}")))
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
    fn bind(&self, args: &mut Args) -> Result<(), StoreError>;

    /// Its output, from the rows it returned ([`Sql::rows`] of them).
    fn output(self, rows: Vec<Row>) -> Result<Self::Output, StoreError>;

    /// What its caller hears when it failed alone with `error`.
    fn error(&self, error: rusqlite::Error) -> StoreError {
        write_error(error)
    }
}

/// Adds one parameter; for [`Write::bind`].
pub(super) fn bind<T: ToSql>(args: &mut Args, value: T) -> Result<(), StoreError> {
    let cannot = |e: &dyn std::fmt::Display| StoreError::Unavailable(format!("cannot bind a parameter: {e}"));
    let value = match value.to_sql() {
        Ok(ToSqlOutput::Borrowed(value)) => Value::try_from(value).map_err(|e| cannot(&e))?,
        Ok(ToSqlOutput::Owned(value)) => value,
        Ok(_) => return Err(cannot(&"a parameter of an unexpected kind")),
        Err(e) => return Err(cannot(&e)),
    };
    args.push(value);
    Ok(())
}

/// The store's error for what SQLite answered a write.
pub(super) fn write_error(error: rusqlite::Error) -> StoreError {
    use rusqlite::Error as E;
    match error {
        E::FromSqlConversionFailure(..)
        | E::IntegralValueOutOfRange(..)
        | E::InvalidColumnIndex(_)
        | E::InvalidColumnName(_)
        | E::InvalidColumnType(..) => StoreError::Corrupt(error.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// The message SQLite gave with `error`, if it is one SQLite raised (a `RAISE` in a trigger).
pub(super) fn raised(error: &rusqlite::Error) -> Option<&str> {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => Some(message),
        _ => None,
    }
}

/// Whether `error` is a unique-key violation.
pub(super) fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _)
        if matches!(e.extended_code, rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
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
    fn bind(&self, args: &mut Args) -> Result<(), StoreError>;
    /// Its result, held until the batch commits: from its rows, or its own failure.
    fn done(self: Box<Self>, result: Result<Vec<Row>, rusqlite::Error>) -> Box<dyn Settle>;
    /// Its result when it failed before reaching SQLite, or with its whole batch.
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

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        self.write.bind(args)
    }

    fn done(self: Box<Self>, result: Result<Vec<Row>, rusqlite::Error>) -> Box<dyn Settle> {
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

/// What a closed writer hands back: the checkpoint task, for the closer to stop, and a database
/// in memory's folder, for the closer to remove once the readers are closed too.
pub(super) struct Left {
    checkpoints: Option<Checkpoints>,
    pub(super) folder: Option<tempfile::TempDir>,
}

enum Message {
    Job(Box<dyn Job>),
    /// Stop, and hand back what the closer ends after the writer.
    Close(oneshot::Sender<Left>),
}

/// The way to the writer thread. Cloning it shares the thread; the thread ends when the last
/// clone is dropped or [`Writer::close`] is called.
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
    /// Starts the writer thread, which writes through `conn` and wakes `checkpoints` after each
    /// commit. It holds `folder` (a database in memory's) until it is closed, which hands it
    /// back, or, dropped without a close, removes it once its connection is closed.
    pub(super) fn start(
        conn: Connection,
        checkpoints: Option<Checkpoints>,
        folder: Option<tempfile::TempDir>,
    ) -> Result<Self, StoreError> {
        let (queue, inbox) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("docket-sqlite-writer".into())
            .spawn(move || run(conn, inbox, Left { checkpoints, folder }))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Self { queue })
    }

    /// Queues `write` and waits until its batch has committed (or failed).
    pub(super) async fn submit<W: Write>(&self, write: W) -> Result<W::Output, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Message::Job(Box::new(Request { write, reply }))).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Waits for the writes queued so far, then stops the writer and the checkpoint task.
    /// Answers a database in memory's folder, for the caller to remove after the readers close.
    pub(super) async fn close(&self) -> Option<tempfile::TempDir> {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Close(done)).await.is_err() {
            return None;
        }
        let left = wait.await.ok()?;
        if let Some(checkpoints) = left.checkpoints {
            checkpoints.stop().await;
        }
        left.folder
    }
}

/// The writer thread: one batch at a time, until every [`Writer`] is gone or one closes it.
fn run(conn: Connection, mut inbox: mpsc::Receiver<Message>, left: Left) {
    let mut close = None;
    // Batches since the checkpoint task asked for the writer's part of a checkpoint.
    let mut deferred = 0;
    while close.is_none() {
        let Some(first) = inbox.blocking_recv() else { break };
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
        if batch::write(&conn, jobs)
            && let Some(c) = &left.checkpoints
        {
            c.wake();
            // The writer's part of a checkpoint (two syncs) holds up the writes queued
            // meanwhile: it waits for a moment when none is, but not for ever.
            if c.restart_due() {
                if inbox.is_empty() || deferred >= DEFER_CHECKPOINT {
                    deferred = 0;
                    c.finish(&conn);
                } else {
                    deferred += 1;
                }
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
    if let Err((_, error)) = conn.close() {
        tracing::warn!(%error, "the SQLite writer's connection did not close cleanly");
    }
    // Dropped without a close, the checkpoint task ends by itself and the folder goes here.
    if let Some(done) = close {
        let _ = done.send(left);
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

#[cfg(test)]
mod tests {
    use super::{Writer, split_statements};

    fn writer_in(folder: &tempfile::TempDir) -> rusqlite::Connection {
        rusqlite::Connection::open(folder.path().join("db")).unwrap()
    }

    #[tokio::test]
    async fn a_close_hands_the_folder_back_for_the_closer_to_remove() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().to_owned();
        let writer = Writer::start(writer_in(&folder), None, Some(folder)).unwrap();
        let left = writer.close().await;
        assert!(path.exists(), "the folder went before the closer was done with it");
        drop(left);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn a_writer_dropped_without_a_close_removes_the_folder_itself() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().to_owned();
        drop(Writer::start(writer_in(&folder), None, Some(folder)).unwrap());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while path.exists() {
            assert!(std::time::Instant::now() < deadline, "the folder was never removed");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    #[test]
    fn statements_are_cut_at_semicolons_outside_quotes() {
        assert_eq!(
            split_statements("UPDATE t SET v = 'a; b' WHERE k = ?; SELECT changes() AS n; "),
            ["UPDATE t SET v = 'a; b' WHERE k = ?", "SELECT changes() AS n"]
        );
        assert_eq!(split_statements("SELECT 1"), ["SELECT 1"]);
    }
}
