//! The Slack notifier. Which messages a change needs is the app's rule for every chat
//! ([`chat_messages`]); Slack lays them out and sends them:
//!
//! - the ticket message of a ticket asked in Slack, edited on every change;
//! - a thread reply with the key events of the change (approved by…, run started, a step
//!   failed with the log tail and a hint, succeeded);
//! - a stage opened: the approval request in the approvals channel and a DM to each eligible
//!   approver (on-call first); earlier copies are edited to show where the stages stand;
//! - the round closed (decided or superseded): every copy is edited to show the outcome,
//!   without buttons.
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
use docket_app::{
    App, ApprovalNotice, ChatMessage, Notifier, NotifyError, OutboxMessage, Relay, RelayKind, chat_messages,
};
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

    fn delivery<'a>(&'a self, app: &'a App, ticket: &'a Ticket, message: &OutboxMessage) -> Delivery<'a> {
        let resumed = message.may_have_been_delivered().then_some(message.created_at);
        Delivery { app, client: &self.client, settings: &self.settings, users: &self.users, ticket, resumed }
    }
}

/// The keys a change to `ticket` needs: the app's rules for every chat.
pub(crate) fn wants(ticket: &Ticket, events: &[Event]) -> Vec<String> {
    chat_messages(crate::SCOPE, ticket, events).iter().map(ChatMessage::key).collect()
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
        let delivery = self.delivery(app, ticket, message);
        match ChatMessage::parse(key) {
            Some(ChatMessage::Ticket) => delivery.thread().await,
            Some(ChatMessage::Reply) => {
                let version = message.message.payload.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
                delivery.reply(message, version).await
            }
            Some(ChatMessage::Approval(ApprovalNotice::Closed { round })) => delivery.approvals_done(round).await,
            Some(ChatMessage::Approval(ApprovalNotice::Opened { round, stage })) => {
                delivery.approvals(round, &stage).await
            }
            None => Err(NotifyError::Permanent(format!("unknown Slack message key `{key}`"))),
        }
    }

    async fn relay(&self, app: &App, relay: &Relay<'_>, ticket: &Ticket) -> Result<bool, NotifyError> {
        let delivery = self.delivery(app, ticket, relay.message);
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
    /// When the message being delivered was first due, if an earlier attempt may have posted
    /// it: posts then look for that copy first (see [`copies::post`]).
    resumed: Option<jiff::Timestamp>,
}

/// An app error while delivering: the store may be back later.
fn transient(error: docket_app::AppError) -> NotifyError {
    NotifyError::Transient(error.to_string())
}
