//! How far each external record has been brought, the same for every ticketing integration:
//! which changes a mirror wants a message for, how far a record says the ticket's story, and
//! the notes of changes whose messages the outbox gave up on (the system was away longer than
//! its retries last), brought up to date when it answers again.

use docket_core::{Event, Ticket};
use serde_json::Value;

use super::App;
use super::chat::earns_reply;
use crate::error::AppError;
use crate::ports::store::OutboxMessage;

/// The messages a ticketing system's mirror wants after `events`: one `sync` whenever the
/// change says something to people (what earns a chat reply, a request, a decision, a new
/// planning round); none otherwise.
pub fn mirror_wants(events: &[Event]) -> Vec<String> {
    let says_something = events.iter().any(|e| {
        earns_reply(e) || matches!(e, Event::Requested { .. } | Event::Decided { .. } | Event::PlanningStarted { .. })
    });
    if says_something { vec!["sync".to_owned()] } else { Vec::new() }
}

/// The ticket version a message's change ends at, and how many events it holds.
fn version_and_events(message: &OutboxMessage) -> (u64, u64) {
    let payload = &message.message.payload;
    let number = |key: &str| payload.get(key).and_then(Value::as_u64).unwrap_or(0);
    (number("version"), number("events"))
}

fn mirrored_key(ticket: &Ticket) -> String {
    format!("mirrored:{}", ticket.id)
}

impl App {
    /// The notes of changes between the last message `system` was delivered and this one, each
    /// with its marker (`DKT-7:event:12:0`): what messages the outbox gave up on said. Nothing
    /// before a first delivery (the record is new, and its description tells the ticket as it
    /// is).
    pub async fn missed_notes(
        &self,
        system: &str,
        message: &OutboxMessage,
        ticket: &Ticket,
    ) -> Result<Vec<(String, String)>, AppError> {
        let (version, events) = version_and_events(message);
        let before = version.saturating_sub(events);
        let last = self.mirrored_version(system, ticket).await?;
        let Some(last) = last.filter(|last| *last < before) else { return Ok(Vec::new()) };
        tracing::info!(ticket = %ticket.id, system, from = last + 1, to = before,
            "bringing the external record up to date with changes whose notes were not delivered");
        let mut out = Vec::new();
        for v in (last + 1)..=before {
            let mut one = message.clone();
            one.message.payload = serde_json::json!({"version": v, "events": 1});
            let change = self.mirror(system, &one, ticket).await?;
            for (i, note) in change.notes.into_iter().enumerate() {
                out.push((format!("{}:event:{v}:{i}", ticket.id), note));
            }
        }
        Ok(out)
    }

    /// Records that `system`'s record says everything up to this message's change.
    pub async fn mirrored_up_to(&self, system: &str, message: &OutboxMessage, ticket: &Ticket) -> Result<(), AppError> {
        let (version, _) = version_and_events(message);
        if self.mirrored_version(system, ticket).await?.is_some_and(|last| last >= version) {
            return Ok(());
        }
        self.remember(system, &mirrored_key(ticket), &version.to_string()).await
    }

    async fn mirrored_version(&self, system: &str, ticket: &Ticket) -> Result<Option<u64>, AppError> {
        Ok(self.recall(system, &mirrored_key(ticket)).await?.and_then(|v| v.parse::<u64>().ok()))
    }
}
