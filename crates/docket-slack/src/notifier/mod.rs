//! The Slack notifier. `wants` (pure, inside the command's transaction) names the messages a
//! change needs:
//!
//! - `thread` — the ticket message of a ticket asked in Slack, edited on every change;
//! - `reply` — a thread reply with the key events of the change (approved by…, run started,
//!   each step, succeeded / failed with the log tail and a hint);
//! - `approvals:<round>:<stage>` — a stage opened: the approval request in the approvals
//!   channel and a DM to each eligible approver (on-call first); earlier copies are edited;
//! - `approvals-done:<round>` — the round was decided (or superseded): every copy is edited to
//!   show the outcome, without buttons.
//!
//! `deliver` keeps the `(channel, ts)` of every message it posts in surface state
//! (`copy:<ticket>:…`, see [`copies`]), so a retried delivery edits instead of posting twice,
//! and an edit whose content did not change is not sent at all (late rows of a busy ticket
//! render the same final state, so only that is sent).

mod approvals;
mod copies;
mod thread;

use async_trait::async_trait;
use docket_app::{App, Notifier, NotifyError, OutboxMessage};
use docket_core::policy::Outcome;
use docket_core::ticket::{Verdict, quorum};
use docket_core::{Event, Ticket, TicketState};

use crate::client::SlackClient;
use crate::settings::SlackSettings;

/// Tells Slack about tickets.
#[derive(Clone, Debug)]
pub struct SlackNotifier {
    settings: SlackSettings,
    client: SlackClient,
}

impl SlackNotifier {
    /// A notifier posting through `client`.
    pub fn new(settings: SlackSettings, client: SlackClient) -> Self {
        Self { settings, client }
    }
}

/// Events worth a thread reply.
fn is_key_event(event: &Event) -> bool {
    !matches!(
        event,
        Event::Requested { .. }
            | Event::PlanningStarted { .. }
            | Event::Planned { .. }
            | Event::Decided { .. }
            | Event::Queued
    )
}

/// The keys a change to `ticket` needs (pure).
pub(crate) fn wants(ticket: &Ticket, events: &[Event]) -> Vec<String> {
    let mut keys = Vec::new();
    if ticket.origin.surface == crate::SCOPE {
        keys.push("thread".to_owned());
        if events.iter().any(is_key_event) {
            keys.push("reply".to_owned());
        }
    }
    let requirement = ticket.decision.as_ref().and_then(|d| match &d.outcome {
        Outcome::Approvals(requirement) => Some(requirement),
        _ => None,
    });
    let superseded = events.iter().any(|e| matches!(e, Event::Amended { .. } | Event::RetryRequested { .. }));
    if superseded {
        keys.push(format!("approvals-done:{}", ticket.round.saturating_sub(1)));
    }
    let Some(requirement) = requirement else { return keys };
    let opens = events.iter().any(|e| match e {
        Event::Decided { .. } => true,
        Event::Reviewed(review) => review.verdict == Verdict::Approve,
        _ => false,
    });
    if opens && ticket.state == TicketState::AwaitingApproval {
        let statuses = quorum(ticket, requirement, ticket.updated_at);
        let current = requirement.stages.iter().zip(statuses).find(|(_, s)| !s.is_satisfied()).map(|(st, _)| st);
        if let Some(stage) = current {
            keys.push(format!("approvals:{}:{}", ticket.round, stage.name));
        }
    }
    let decided = events.iter().any(|e| match e {
        Event::Approved { .. } | Event::Cancelled { .. } | Event::Expired { .. } => true,
        Event::Reviewed(review) => review.verdict != Verdict::Approve,
        _ => false,
    });
    if decided && !superseded {
        keys.push(format!("approvals-done:{}", ticket.round));
    }
    keys
}

#[async_trait]
impl Notifier for SlackNotifier {
    fn name(&self) -> &str {
        crate::SCOPE
    }

    fn wants(&self, ticket: &Ticket, events: &[Event]) -> Vec<String> {
        wants(ticket, events)
    }

    async fn deliver(&self, app: &App, message: &OutboxMessage, ticket: &Ticket) -> Result<(), NotifyError> {
        let key = message.message.key.as_str();
        let delivery = Delivery { app, client: &self.client, settings: &self.settings, ticket };
        if key == "thread" {
            return delivery.thread().await;
        }
        if key == "reply" {
            let version = message.message.payload.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
            return delivery.reply(message, version).await;
        }
        if let Some(rest) = key.strip_prefix("approvals-done:") {
            return delivery.approvals_done(rest.parse().unwrap_or(0)).await;
        }
        if let Some(rest) = key.strip_prefix("approvals:") {
            let (round, stage) = rest.split_once(':').unwrap_or((rest, ""));
            return delivery.approvals(round.parse().unwrap_or(0), stage).await;
        }
        Err(NotifyError::Permanent(format!("unknown Slack message key `{key}`")))
    }
}

/// One delivery's context.
struct Delivery<'a> {
    app: &'a App,
    client: &'a SlackClient,
    settings: &'a SlackSettings,
    ticket: &'a Ticket,
}

/// An app error while delivering: the store may be back later.
fn transient(error: docket_app::AppError) -> NotifyError {
    NotifyError::Transient(error.to_string())
}
