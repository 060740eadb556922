//! The `Notifier` port: something that tells people about a ticket (a chat thread, a card, a
//! terminal). The outbox dispatcher calls it after commit, with retries and backoff.

use async_trait::async_trait;
use docket_core::{Event, Ticket};

use crate::app::App;
use crate::ports::store::OutboxMessage;

/// Why a delivery failed, and whether trying again could help.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Worth retrying later (network, rate limit, 5xx).
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help (the channel is gone, the message is refused); the message is
    /// kept undelivered with this error.
    #[error("{0}")]
    Permanent(String),
}

/// Tells people about tickets.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// A stable name, stored with each outbox row (`slack`, `teams`, `console`).
    fn name(&self) -> &str;

    /// Which messages (keys) this notifier wants after `events` happened to `ticket`; none
    /// means it stays silent. Called inside the command, so it must be quick and pure.
    fn wants(&self, ticket: &Ticket, events: &[Event]) -> Vec<String>;

    /// Delivers one message. `ticket` is the ticket as it is now, so a late retry shows the
    /// current state; `app` answers the questions a message needs (who may approve, links) and
    /// keeps the surface's state (which chat message shows the ticket). Delivery must be
    /// idempotent per (ticket, key): edit, never duplicate.
    async fn deliver(&self, app: &App, message: &OutboxMessage, ticket: &Ticket) -> Result<(), NotifyError>;
}
