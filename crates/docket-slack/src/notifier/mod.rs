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
//!
//! `relay` carries what another surface could not deliver (a person blocked the bot in Teams):
//! the requester's ticket message and its replies by DM, or an approval request by DM, each
//! under the same keys as Slack's own, so nobody gets a message twice.

mod approvals;
mod copies;
mod thread;
mod users;

use async_trait::async_trait;
use docket_app::{App, ApprovalNotice, Notifier, NotifyError, OutboxMessage, Relay, RelayKind};
use docket_core::policy::Outcome;
use docket_core::ticket::Verdict;
use docket_core::{Event, Ticket};

use crate::client::SlackClient;
use crate::settings::SlackSettings;

/// Tells Slack about tickets.
#[derive(Debug)]
pub struct SlackNotifier {
    settings: SlackSettings,
    client: SlackClient,
    users: users::SlackUsers,
}

impl SlackNotifier {
    /// A notifier posting through `client`.
    pub fn new(settings: SlackSettings, client: SlackClient) -> Self {
        Self { settings, client, users: users::SlackUsers::default() }
    }

    fn delivery<'a>(&'a self, app: &'a App, ticket: &'a Ticket) -> Delivery<'a> {
        Delivery { app, client: &self.client, settings: &self.settings, users: &self.users, ticket }
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
    let superseded = events.iter().any(|e| matches!(e, Event::Amended { .. } | Event::RetryRequested { .. }));
    if superseded {
        keys.push(ApprovalNotice::Closed { round: ticket.round.saturating_sub(1) }.key());
    }
    if let Some(opened) = ApprovalNotice::opened(ticket, events) {
        keys.push(opened.key());
    }
    let asked_approvals = ticket.decision.as_ref().is_some_and(|d| matches!(d.outcome, Outcome::Approvals(_)));
    let decided = events.iter().any(|e| match e {
        Event::Approved { .. } | Event::Cancelled { .. } | Event::Expired { .. } => true,
        Event::Reviewed(review) => review.verdict != Verdict::Approve,
        _ => false,
    });
    if decided && !superseded && asked_approvals {
        keys.push(ApprovalNotice::Closed { round: ticket.round }.key());
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
        let delivery = self.delivery(app, ticket);
        if key == "thread" {
            return delivery.thread().await;
        }
        if key == "reply" {
            let version = message.message.payload.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
            return delivery.reply(message, version).await;
        }
        match ApprovalNotice::parse(key) {
            Some(ApprovalNotice::Closed { round }) => return delivery.approvals_done(round).await,
            Some(ApprovalNotice::Opened { round, stage }) => return delivery.approvals(round, &stage).await,
            None => {}
        }
        Err(NotifyError::Permanent(format!("unknown Slack message key `{key}`")))
    }

    async fn relay(&self, app: &App, relay: &Relay<'_>, ticket: &Ticket) -> Result<bool, NotifyError> {
        let delivery = self.delivery(app, ticket);
        match relay.kind {
            RelayKind::Approval { round, stage } => {
                delivery.approval_relayed(*round, stage, relay.person, relay.from).await
            }
            // The requester's ticket message, by DM; the key events go under it.
            RelayKind::Ticket | RelayKind::Happenings if relay.person != &ticket.requester => Ok(false),
            RelayKind::Ticket | RelayKind::Happenings if delivery.slack_user(relay.person).await?.is_none() => {
                Ok(false)
            }
            RelayKind::Ticket => delivery.thread().await.map(|()| true),
            RelayKind::Happenings => {
                let version = relay.message.message.payload.get("version").and_then(serde_json::Value::as_u64);
                delivery.reply(relay.message, version.unwrap_or(0)).await.map(|()| true)
            }
        }
    }
}

/// One delivery's context.
struct Delivery<'a> {
    app: &'a App,
    client: &'a SlackClient,
    settings: &'a SlackSettings,
    users: &'a users::SlackUsers,
    ticket: &'a Ticket,
}

/// An app error while delivering: the store may be back later.
fn transient(error: docket_app::AppError) -> NotifyError {
    NotifyError::Transient(error.to_string())
}
