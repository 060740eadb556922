//! The ticket message and its thread replies.

use docket_app::{NotifyError, OutboxMessage, TicketAction};
use docket_core::Actor;

use super::copies::{self, Copy};
use super::{Delivery, transient};
use crate::render::reply::reply;
use crate::render::ticket::{relayed_note, ticket_message};

/// Errors that mean "Docket cannot post in that channel": the message goes to a DM instead.
const NOT_THERE: [&str; 4] = ["channel_not_found", "not_in_channel", "is_archived", "restricted_action"];

impl Delivery<'_> {
    /// Posts or edits the ticket message: where it was asked in Slack, else by DM to the
    /// requester (a ticket asked on a surface that can no longer reach them).
    pub(super) async fn thread(&self) -> Result<(), NotifyError> {
        let ticket = self.ticket;
        let summary = self.app.summarize(ticket);
        let requester = Actor::Person { id: ticket.requester.clone() };
        let actions: Vec<TicketAction> = self
            .app
            .actions_for(ticket, &requester)
            .into_iter()
            .filter(|a| matches!(a, TicketAction::Amend | TicketAction::Cancel | TicketAction::Retry))
            .collect();
        let mut message = ticket_message(&summary, &actions);
        let origin = &ticket.origin;
        let asked_here = origin.surface == crate::SCOPE;
        if !asked_here {
            message = relayed_note(message, &origin.surface);
        }
        let key = copies::key(&ticket.id, "thread");
        if let Some(copy) = copies::recall(self.app, &key).await? {
            return copies::edit(self.app, self.client, &key, &copy, &message).await;
        }
        if let Some(channel) = origin.channel.as_deref().filter(|_| asked_here) {
            match copies::post(self.app, self.client, &key, channel, origin.thread.as_deref(), &message, self.resumed)
                .await
            {
                Ok(_) => return Ok(()),
                Err(NotifyError::Permanent(error)) if NOT_THERE.iter().any(|e| error.ends_with(e)) => {
                    tracing::info!(ticket = %ticket.id, %error, "posting the ticket to its requester by DM instead");
                }
                Err(other) => return Err(other),
            }
        }
        let Some(user) = self.slack_user(&ticket.requester).await? else {
            return Err(NotifyError::Permanent(format!("{} has no Slack id to send the ticket to", ticket.requester)));
        };
        let dm = self.client.open_dm(&user).await?;
        copies::post(self.app, self.client, &key, &dm, None, &message, self.resumed).await.map(drop)
    }

    /// Replies in the ticket's thread with the key events of one change (once per change).
    pub(super) async fn reply(&self, message: &OutboxMessage, version: u64) -> Result<(), NotifyError> {
        let ticket = self.ticket;
        let key = copies::key(&ticket.id, &format!("reply:{version}"));
        if copies::recall(self.app, &key).await?.is_some() {
            return Ok(());
        }
        let Some(Copy { channel, ts, .. }) = copies::recall(self.app, &copies::key(&ticket.id, "thread")).await? else {
            return Ok(());
        };
        let happenings = self.app.happenings(message, ticket).await.map_err(transient)?;
        let Some(reply) = reply(&happenings) else { return Ok(()) };
        copies::post(self.app, self.client, &key, &channel, Some(&ts), &reply, self.resumed).await.map(drop)
    }

    /// The Slack user of `person`: from the directory, else found by email.
    pub(super) async fn slack_user(&self, person: &docket_core::PersonId) -> Result<Option<String>, NotifyError> {
        self.users.find(self.app, self.client, person).await
    }
}
