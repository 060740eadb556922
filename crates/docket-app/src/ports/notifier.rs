//! The `Notifier` port: something that tells people about a ticket (a chat thread, a card, a
//! terminal). The outbox dispatcher calls it after commit, with retries and backoff. When one
//! surface cannot reach a person (they blocked the bot), it hands the message to the others
//! through [`App::relay`]; surfaces never call each other.

use async_trait::async_trait;
use docket_core::{Event, PersonId, Ticket};

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

    /// Whether this notifier mirrors tickets as records in a ticketing system (Jira,
    /// ServiceNow). The app then asks it only for tickets whose workflow's `mirror` names it
    /// (every ticket when the workflow does not say).
    fn mirrors(&self) -> bool {
        false
    }

    /// Delivers one message. `ticket` is the ticket as it is now, so a late retry shows the
    /// current state; `app` answers the questions a message needs (who may approve, links) and
    /// keeps the surface's state (which chat message shows the ticket). Delivery must be
    /// idempotent per (ticket, key): edit, never duplicate.
    async fn deliver(&self, app: &App, message: &OutboxMessage, ticket: &Ticket) -> Result<(), NotifyError>;

    /// Tells `relay.person` directly, on this surface, what another surface could not deliver
    /// to them. `Ok(false)` means this surface has no way to reach that person (the default);
    /// `Ok(true)` that they were told (or already had been: relays are idempotent per ticket,
    /// kind and person, like deliveries).
    async fn relay(&self, app: &App, relay: &Relay<'_>, ticket: &Ticket) -> Result<bool, NotifyError> {
        let _ = (app, relay, ticket);
        Ok(false)
    }
}

/// A message one surface could not deliver to one person, for another surface to carry.
#[derive(Clone, Copy, Debug)]
pub struct Relay<'a> {
    /// The surface that could not reach them (its notifier's name).
    pub from: &'a str,
    /// Who it is for.
    pub person: &'a PersonId,
    /// What they should see.
    pub kind: &'a RelayKind,
    /// The outbox message being delivered when the surface gave up; its payload names the
    /// change (`version`, `events`), for the key events of that change.
    pub message: &'a OutboxMessage,
}

/// What a relayed message shows, in terms every surface understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelayKind {
    /// The requester's view of their ticket, as it is now (one message, edited as it changes).
    Ticket,
    /// The key events of the change named by the message (a reply under the ticket message).
    Happenings,
    /// A request to approve stage `stage` of planning round `round`, with the buttons the
    /// person may use.
    Approval {
        /// The planning round.
        round: u32,
        /// The stage's name.
        stage: String,
    },
}

impl RelayKind {
    /// A short name for logs and audit records (`ticket`, `happenings`, `approval`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ticket => "ticket",
            Self::Happenings => "happenings",
            Self::Approval { .. } => "approval",
        }
    }
}
