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
//! The WAL stays bounded. A passive checkpoint never blocks the writer, so under a steady load it
//! may never catch up with the end of the WAL, and SQLite only starts the WAL over from the
//! beginning once a checkpoint has copied all of it. So the writer keeps SQLite's own automatic
//! checkpoint, at [`WRITER_AUTOCHECKPOINT`] pages, as a backstop: when the WAL reaches that size
//! the writer checkpoints it itself (most pages are copied already), and the WAL starts over.
//! `journal_size_limit` then truncates the file back to [`WAL_SIZE_LIMIT`].

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
pub(super) const WRITER_AUTOCHECKPOINT: u32 = 16_384;

/// Bytes the WAL file is truncated to when it starts over.
pub(super) const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// Wakes the checkpoint task; [`Checkpoints::stop`] ends it.
#[derive(Debug)]
pub(super) struct Checkpoints {
    wake: mpsc::Sender<()>,
    task: JoinHandle<()>,
}

impl Checkpoints {
    /// Connects the checkpoint task's own connection and starts it.
    pub(super) async fn start(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError::Unavailable("the SQLite store must be opened inside a Tokio runtime".into()))?;
        let conn = <SqliteConnection as sqlx::Connection>::connect_with(&options).await.map_err(db_error)?;
        // Only one wake-up is ever pending: commits while a checkpoint runs ask for one more.
        let (wake, wakes) = mpsc::channel(1);
        let task = runtime.spawn(run(conn, wakes));
        Ok(Self { wake, task })
    }

    /// Asks for a checkpoint soon (after a commit).
    pub(super) fn wake(&self) {
        let _ = self.wake.try_send(());
    }

    /// Ends the task and waits until its connection is closed.
    pub(super) async fn stop(self) {
        drop(self.wake);
        let _ = self.task.await;
    }
}

async fn run(mut conn: SqliteConnection, mut wakes: mpsc::Receiver<()>) {
    let mut asked = false;
    'checkpoints: loop {
        if !asked && wakes.recv().await.is_none() {
            break;
        }
        // A passive checkpoint copies what it can without waiting for the writer or readers.
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut conn).await {
            tracing::warn!(%error, "background WAL checkpoint failed; the writer's own checkpoints take over");
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
