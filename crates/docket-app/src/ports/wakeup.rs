//! Wake-ups from the other processes sharing the store (PostgreSQL's `LISTEN/NOTIFY`): what
//! another replica just committed, so this one's workers, outbox dispatcher and live followers
//! act at once instead of at their next poll. Best effort by design: the store is the record,
//! every wake-up only says "look again", and a lost one is covered by polling.

use async_trait::async_trait;
use docket_core::{TicketId, TicketState};
use tokio_util::sync::CancellationToken;

use crate::ports::store::StoreError;

/// Something another process committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wakeup {
    /// A ticket changed.
    Ticket {
        /// Which.
        ticket: TicketId,
        /// Its version now.
        version: u64,
        /// Its state now.
        state: TicketState,
        /// The change queued a run or freed one's place (workers should look).
        run: bool,
        /// The change wrote notifications (the outbox dispatcher should look).
        outbox: bool,
    },
    /// Log lines of a ticket were stored, up to `seq`.
    Logged {
        /// Which ticket.
        ticket: TicketId,
        /// The last line stored.
        seq: u64,
    },
    /// Wake-ups may have been missed (the listening connection broke and is back): look at
    /// everything again.
    Missed,
    /// The listening connection is open for the first time: nothing sent before was heard, so a
    /// reload another replica took between this one's start and now is looked for.
    Listening,
    /// Another replica reloaded its configuration and put the one with `digest` in force: this
    /// one reads its own files again.
    Reloaded {
        /// The digest of the configuration that replica put in force.
        digest: String,
    },
}

/// Where wake-ups go.
pub type WakeupSink = Box<dyn Fn(Wakeup) + Send + Sync>;

/// A store that other processes may share tells this one what they commit.
#[async_trait]
pub trait Wakeups: Send + Sync + 'static {
    /// Hands every wake-up from other processes to `sink` until `shutdown`: first
    /// [`Wakeup::Listening`] once it listens, then what it hears, reconnecting when the
    /// connection breaks (and then sending [`Wakeup::Missed`]). A store only one process
    /// uses (SQLite) has nothing to hear and just waits for `shutdown`.
    async fn listen(&self, sink: WakeupSink, shutdown: CancellationToken) {
        let _ = sink;
        shutdown.cancelled().await;
    }

    /// Tells the other processes sharing the store that this one put the configuration with
    /// `digest` in force (they hear [`Wakeup::Reloaded`]). A store only one process uses has
    /// nobody to tell.
    async fn announce_reload(&self, digest: &str) -> Result<(), StoreError> {
        let _ = digest;
        Ok(())
    }
}
