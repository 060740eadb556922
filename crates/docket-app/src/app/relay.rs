//! Reaching a person on another surface: when a surface cannot deliver to someone (they
//! blocked the bot), it hands the message to the app, which offers it to the other notifiers in
//! the order they were configured. Surfaces never call each other. The block itself is a
//! security-relevant fact and goes in the audit log.

use docket_core::audit::AuditEntry;
use docket_core::{PersonId, Ticket, TicketId};

use super::App;
use crate::ports::notifier::{NotifyError, Relay};

/// Where a relayed message went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reached {
    /// The notifier with this name told the person.
    By(String),
    /// No other configured surface can reach the person.
    Nobody,
}

impl Reached {
    /// The surface that carried it, if any.
    pub fn surface(&self) -> Option<&str> {
        match self {
            Self::By(name) => Some(name),
            Self::Nobody => None,
        }
    }
}

/// A surface found that it may no longer write somewhere (Teams' `MessageWritesBlocked`).
#[derive(Clone, Copy, Debug)]
pub struct Blocked<'a> {
    /// The surface (`teams`).
    pub surface: &'a str,
    /// The person who blocked the bot, when it was their 1:1 chat.
    pub person: Option<&'a PersonId>,
    /// The conversation the surface could not write to.
    pub conversation: &'a str,
    /// The ticket whose message was refused.
    pub ticket: &'a TicketId,
    /// Where the message went instead.
    pub reached: &'a Reached,
    /// Why handing it to another surface failed this time, if it did (the outbox tries again).
    pub relay_error: Option<&'a str>,
}

impl App {
    /// Offers `relay` to every notifier but the one it comes from, in configuration order,
    /// until one reaches the person. A failure of the one that can reach them is returned (the
    /// delivery is tried again later; relays are idempotent).
    pub async fn relay(&self, relay: &Relay<'_>, ticket: &Ticket) -> Result<Reached, NotifyError> {
        for notifier in self.inner.notifiers.iter().filter(|n| n.name() != relay.from) {
            if notifier.relay(self, relay, ticket).await? {
                tracing::info!(ticket = %ticket.id, person = %relay.person, from = relay.from, to = notifier.name(),
                    kind = relay.kind.as_str(), "relayed a message the first surface could not deliver");
                return Ok(Reached::By(notifier.name().to_owned()));
            }
        }
        tracing::warn!(ticket = %ticket.id, person = %relay.person, from = relay.from, kind = relay.kind.as_str(),
            "no other surface can reach this person");
        Ok(Reached::Nobody)
    }

    /// Records in the audit log that a surface may no longer write to a person or
    /// conversation, and where the message went instead. A failure to record is logged: the
    /// delivery itself goes on.
    pub async fn audit_blocked(&self, blocked: &Blocked<'_>) {
        let actor = match blocked.person {
            Some(person) => person.to_string(),
            None => format!("{}:{}", blocked.surface, blocked.conversation),
        };
        let entry = AuditEntry {
            at: self.now(),
            actor,
            action: format!("{}.bot_blocked", blocked.surface),
            ticket: Some(blocked.ticket.to_string()),
            details: serde_json::json!({
                "conversation": blocked.conversation,
                "person": blocked.person.map(ToString::to_string),
                "reached_on": blocked.reached.surface(),
                "relay_error": blocked.relay_error,
            }),
        };
        if let Err(error) = self.store().append_audit(vec![entry]).await {
            tracing::error!(%error, "could not record a blocked conversation in the audit log");
        }
    }
}
