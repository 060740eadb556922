//! WAL checkpoints off the commit path. A file database runs in WAL mode with
//! `synchronous = NORMAL`; there a commit appends its pages to the WAL file with plain writes
//! and syncs nothing. The fsyncs happen when a checkpoint copies the WAL back into the database
//! file. By default SQLite runs that checkpoint inside whichever commit crosses 1,000 WAL pages,
//! so that commit pays for the syncs and the copying; this task runs it on a connection of its
//! own instead, soon after commits (at most once per [`INTERVAL`]), while the writer goes on.
//!
//! Durability is unchanged where it matters and better where it did not. A commit is
//! acknowledged once its pages are written to the WAL, so it survives the process being killed
//! (kill -9): the pages are in the operating system's cache and reach the file whatever happens
//! to the process, and the next open replays the WAL. An operating-system crash or power loss can
//! lose the commits made since the last sync, as with any `synchronous = NORMAL` database; those
//! syncs come from checkpoints, which now run within [`INTERVAL`] of any commit instead of only
//! every 1,000 WAL pages (which, on a quiet server, could mean days).
//!
//! The WAL stays bounded, without a long checkpoint in the writer. SQLite starts the WAL over
//! from the beginning only when a write transaction begins with every page of it copied. A
//! passive checkpoint never blocks the writer, so under a steady load it never quite gets there:
//! the writer commits more pages while it copies. Left alone, the WAL would then grow until
//! SQLite's own automatic checkpoint in the writer fires, and that commit would copy everything
//! the last pass missed and sync twice while every write waits (20–40 ms every ~0.6 s at 1,000
//! Slack submissions a second). So once the WAL holds [`RESTART_AT`] pages, this task repeats
//! its pass until a pass finds almost nothing new ([`NEARLY_CAUGHT_UP`]), then asks the writer
//! to finish ([`Checkpoints::restart_due`]): between two batches the writer checkpoints the
//! last few pages itself, so its next transaction starts the WAL over. What the writer pays is
//! the two syncs of a near-empty checkpoint, once per WAL's worth of commits. The writer keeps
//! SQLite's automatic checkpoint at [`WRITER_AUTOCHECKPOINT`] pages as a backstop (a load this
//! task cannot keep up with), and `journal_size_limit` truncates the file back to
//! [`WAL_SIZE_LIMIT`] if it ever grew past it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteConnectOptions;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::rows::db_error;
use docket_app::StoreError;

/// Least time between two background checkpoints.
pub(super) const INTERVAL: Duration = Duration::from_millis(200);

/// WAL pages at which the writer checkpoints itself (the backstop; SQLite's default is 1,000).
pub(super) const WRITER_AUTOCHECKPOINT: u32 = 32_768;

/// Bytes the WAL file is truncated to when it starts over.
pub(super) const WAL_SIZE_LIMIT: u64 = 128 * 1024 * 1024;

/// WAL pages from which a background checkpoint prepares a restart: half the backstop, so a
/// restart comes long before it even when a pass copies thousands of pages.
pub(super) const RESTART_AT: i64 = WRITER_AUTOCHECKPOINT as i64 / 2;

/// New pages a pass may copy and still count as caught up: few enough that the writer's own
/// checkpoint of what is left costs little more than its two syncs.
const NEARLY_CAUGHT_UP: i64 = 128;

/// Passes in a row while preparing a restart (each copies what the writer added during the last).
const MOST_PASSES: usize = 4;

/// Wakes the checkpoint task; [`Checkpoints::stop`] ends it.
#[derive(Debug)]
pub(super) struct Checkpoints {
    wake: mpsc::Sender<()>,
    task: JoinHandle<()>,
    /// Set when the WAL is long and nearly all copied: the writer should finish the copy.
    restart: Arc<AtomicBool>,
}

impl Checkpoints {
    /// Connects the checkpoint task's own connection and starts it; it prepares a restart once
    /// the WAL holds `restart_at` pages ([`RESTART_AT`] in a store).
    pub(super) async fn start(options: SqliteConnectOptions, restart_at: i64) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError::Unavailable("the SQLite store must be opened inside a Tokio runtime".into()))?;
        let conn = <SqliteConnection as sqlx::Connection>::connect_with(&options).await.map_err(db_error)?;
        // Only one wake-up is ever pending: commits while a checkpoint runs ask for one more.
        let (wake, wakes) = mpsc::channel(1);
        let restart = Arc::new(AtomicBool::new(false));
        let task = runtime.spawn(run(conn, wakes, restart.clone(), restart_at));
        Ok(Self { wake, task, restart })
    }

    /// Asks for a checkpoint soon (after a commit).
    pub(super) fn wake(&self) {
        let _ = self.wake.try_send(());
    }

    /// Whether the writer should finish a checkpoint so the WAL starts over.
    pub(super) fn restart_due(&self) -> bool {
        self.restart.load(Ordering::Relaxed)
    }

    /// Copies what the background passes left, on the writer's connection between batches, so
    /// the writer's next transaction starts the WAL over.
    pub(super) fn finish(&self, writer: &rusqlite::Connection) {
        self.restart.store(false, Ordering::Relaxed);
        if let Err(error) = writer.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(%error, "could not finish a WAL checkpoint; the WAL starts over later");
        }
    }

    /// Ends the task and waits until its connection is closed.
    pub(super) async fn stop(self) {
        drop(self.wake);
        let _ = self.task.await;
    }
}

async fn run(mut conn: SqliteConnection, mut wakes: mpsc::Receiver<()>, restart: Arc<AtomicBool>, restart_at: i64) {
    let mut asked = false;
    'checkpoints: loop {
        if !asked && wakes.recv().await.is_none() {
            break;
        }
        if pass(&mut conn, restart_at).await {
            restart.store(true, Ordering::Relaxed);
        }
        // Rest before the next one, remembering whether a commit asked for it meanwhile.
        asked = false;
        let rested = Instant::now() + INTERVAL;
        loop {
            match tokio::time::timeout_at(rested, wakes.recv()).await {
                Ok(Some(())) => asked = true,
                Ok(None) => break 'checkpoints,
                Err(_) => break,
            }
        }
    }
    let _ = sqlx::Connection::close(conn).await;
}

/// Passive checkpoints: one, or, when the WAL holds `restart_at` pages, a few in a row until one
/// finds almost nothing new. Returns whether the writer should finish the copy.
async fn pass(conn: &mut SqliteConnection, restart_at: i64) -> bool {
    let mut copied_before = 0;
    for _ in 0..MOST_PASSES {
        // A passive checkpoint copies what it can without waiting for the writer or readers.
        // Its row: whether it was blocked, the WAL's pages, the pages copied so far.
        let checkpointed =
            sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&mut *conn).await;
        let (busy, pages, copied) = match checkpointed {
            Ok(row) => row,
            Err(error) => {
                tracing::warn!(%error, "background WAL checkpoint failed; the writer's own checkpoints take over");
                return false;
            }
        };
        // A reader still on older pages keeps them from being copied: it ends soon, try later.
        if busy != 0 || pages < restart_at || copied < pages {
            return false;
        }
        if copied - copied_before <= NEARLY_CAUGHT_UP {
            return true;
        }
        copied_before = copied;
    }
    true
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn insert(writer: &rusqlite::Connection, n: i64) {
        writer.execute("INSERT INTO t VALUES (?, zeroblob(3000))", [n]).unwrap();
    }

    /// The WAL file's checkpoint sequence number and salts: they change when the WAL starts over.
    fn wal_generation(wal: &Path) -> Vec<u8> {
        std::fs::read(wal).unwrap()[12..20].to_vec()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_wal_starts_over_once_the_writer_finishes_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new().filename(dir.path().join("wal.db")).create_if_missing(true);
        // SQLite's own checkpoint never fires here: only the task and `finish` copy pages.
        let writer = rusqlite::Connection::open(dir.path().join("wal.db")).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 1000000; \
                 CREATE TABLE t (n INTEGER PRIMARY KEY, pad BLOB)",
            )
            .unwrap();
        let wal = dir.path().join("wal.db-wal");
        let checkpoints = Checkpoints::start(options.clone(), 64).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut n = 0;
        // Commits keep coming, as under load.
        while !checkpoints.restart_due() {
            assert!(Instant::now() < deadline, "no restart was prepared");
            for _ in 0..20 {
                n += 1;
                insert(&writer, n);
            }
            checkpoints.wake();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The writer went on committing after the task's last pass, so pages are left to copy
        // (without the writer's own checkpoint, the WAL would go on growing).
        for _ in 0..5 {
            n += 1;
            insert(&writer, n);
        }
        let before = wal_generation(&wal);
        checkpoints.finish(&writer);
        assert!(!checkpoints.restart_due());
        // The next transaction writes from the start of the WAL again.
        insert(&writer, n + 1);
        assert_ne!(wal_generation(&wal), before, "the WAL did not start over");
        checkpoints.stop().await;
    }
}
