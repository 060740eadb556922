//! The ticket message and its thread replies.

use docket_app::{NotifyError, OutboxMessage, StoredResult, TicketAction};
use docket_core::Actor;

use super::copies::{self, Copy};
use super::{Delivery, transient};
use crate::client::Upload;
use crate::render::reply::reply;
use crate::render::results::result_message;
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
        let results = self.app.results_of_change(message, ticket).await.map_err(transient)?;
        // The results first: once the reply is kept, a retry of this delivery stops above.
        for result in &results {
            self.result(&channel, &ts, result).await?;
        }
        copies::post(self.app, self.client, &key, &channel, Some(&ts), &reply, self.resumed).await.map(drop)
    }

    /// Posts one step's result in the thread, once, and shares a report's whole kept table as a
    /// CSV file under it, once (each remembered under its own key, so a retry does neither twice).
    async fn result(&self, channel: &str, ts: &str, result: &StoredResult) -> Result<(), NotifyError> {
        let ticket = self.ticket;
        let name = ticket.plan.as_ref().and_then(|p| p.steps.get(result.step)).map_or("", |s| s.name.as_str());
        let key = copies::key(&ticket.id, &format!("result:{}:{}", result.run, result.step));
        if copies::recall(self.app, &key).await?.is_none() {
            let message = result_message(result, name);
            copies::post(self.app, self.client, &key, channel, Some(ts), &message, self.resumed).await?;
        }
        let Some(table) = &result.result.table else { return Ok(()) };
        let file_key = format!("file:{}:{}:{}", ticket.id, result.run, result.step);
        if self.app.recall(crate::SCOPE, &file_key).await.map_err(transient)?.is_some() {
            return Ok(());
        }
        let filename = format!("{}-step{}.csv", ticket.id, result.step + 1);
        let title = format!("{} step {} ({name}): {}", ticket.id, result.step + 1, table.count_text());
        let csv = table.csv();
        let upload = Upload {
            channel,
            thread_ts: Some(ts),
            filename: &filename,
            title: &title,
            comment: "",
            content: csv.as_bytes(),
        };
        let id = self.client.upload_file(&upload).await?;
        self.app.remember(crate::SCOPE, &file_key, &id).await.map_err(transient)
    }

    /// The Slack user of `person`: from the directory, else found by email.
    pub(super) async fn slack_user(&self, person: &docket_core::PersonId) -> Result<Option<String>, NotifyError> {
        self.users.find(self.app, self.client, person).await
    }
}
