//! Live updates: a broadcast of ticket changes and log lines for subscribers (SSE, chat
//! surfaces streaming a run). Best effort: a slow subscriber misses events and is told so; the
//! store stays the record.

use std::sync::Arc;

use docket_core::{Ticket, TicketId, TicketState};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::ports::store::LogLine;

/// Something that just happened, for whoever is watching.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum LiveEvent {
    /// A ticket changed.
    Ticket {
        /// Which.
        ticket: TicketId,
        /// Its state now.
        state: TicketState,
        /// Its version now.
        version: u64,
        /// The audit actions of the change (`ticket.approval_given`, `run.step_started`).
        actions: Vec<&'static str>,
        /// The ticket as this replica committed it at `version`, so a follower need not read it
        /// back; `None` when the change was heard from another replica (read the store).
        #[serde(skip)]
        committed: Option<Arc<Ticket>>,
    },
    /// A step printed a line.
    Log(LogLine),
    /// Another replica stored a ticket's log lines up to `seq`: read them from the store.
    Logged {
        /// Which ticket.
        ticket: TicketId,
        /// The last line stored.
        seq: u64,
    },
    /// Events may have been missed (the connection that hears other replicas broke and is
    /// back): read the store again.
    Resync,
}

impl LiveEvent {
    /// The ticket it concerns; `None` for [`LiveEvent::Resync`], which concerns every ticket.
    pub fn ticket(&self) -> Option<&TicketId> {
        match self {
            LiveEvent::Ticket { ticket, .. } | LiveEvent::Logged { ticket, .. } => Some(ticket),
            LiveEvent::Log(line) => Some(&line.ticket),
            LiveEvent::Resync => None,
        }
    }
}

/// The sending side, shared by the engine and command handlers.
#[derive(Debug, Clone)]
pub(crate) struct LiveHub {
    sender: broadcast::Sender<LiveEvent>,
}

impl LiveHub {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { sender: broadcast::channel(capacity).0 }
    }

    pub(crate) fn publish(&self, event: LiveEvent) {
        // No subscribers is normal; the store has everything anyway.
        let _ = self.sender.send(event);
    }

    /// Whether anyone is listening now (so an event worth building only for listeners can be
    /// skipped).
    pub(crate) fn has_subscribers(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }
}
