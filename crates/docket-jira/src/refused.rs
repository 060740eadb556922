//! What the person hears in Jira when a decision they took there does not count (their own
//! ticket, a stage that is not Jira's, a plan changed since the issue showed it, a ticket no
//! longer waiting): the issue goes back to the status the ticket's state maps to, so Jira does
//! not show an approval Docket never counted, and a comment says why. Both are best effort,
//! after the webhook is answered: the decision changed nothing in Docket either way, and a
//! failure is logged.

use docket_app::App;
use docket_core::TicketId;

use crate::adf::{Para, body};
use crate::client::JiraClient;
use crate::notifier::move_to;
use crate::{SYSTEM, issue_key};

/// How many times the issue follows a ticket that changes while it is moved back.
const FOLLOW_AT_MOST: usize = 3;

/// A decision taken in Jira that core refused, or by an account Docket does not know.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) ticket: TicketId,
    /// The person's name, as the directory gives it.
    pub(crate) who: String,
    /// The status the person moved the issue to.
    pub(crate) moved_to: String,
    /// Why it does not count, in core's words.
    pub(crate) reason: String,
    /// The change's id in Jira, which marks the comment.
    pub(crate) change: String,
}

/// Moves the issue back and comments why; logs what could not be done.
pub(crate) async fn answer(client: &JiraClient, app: &App, refused: Refused) {
    if let Err(error) = try_answer(client, app, &refused).await {
        tracing::warn!(%error, ticket = %refused.ticket, "could not tell Jira why a decision there does not count");
    }
}

async fn try_answer(client: &JiraClient, app: &App, refused: &Refused) -> Result<(), String> {
    let Some(recorded) = app.recall(SYSTEM, &issue_key(&refused.ticket)).await.map_err(|e| e.to_string())? else {
        return Ok(());
    };
    let Some((_, issue)) = recorded.split_once(' ') else { return Ok(()) };
    let mut note = format!("Docket did not count {}'s move to {}: {}.", refused.who, refused.moved_to, refused.reason);
    if let Some(back) = move_back(client, app, issue, refused).await? {
        note.push_str(&format!(" The issue is back in {back}."));
    }
    let marker = format!("{}:refused:{}", refused.ticket, refused.change);
    let comment = body(client.settings().api, &[Para::text(note)]);
    let id = client.comment(issue, comment, &marker).await.map_err(|e| e.to_string())?;
    // Jira sends this comment back as a webhook: it is Docket's own.
    app.remember(SYSTEM, &format!("posted:{id}"), "").await.map_err(|e| e.to_string())
}

/// Moves the issue to the status the ticket's state maps to, unless it is there already (a
/// refused move to where the ticket is); answers the status it moved it to. Should the ticket
/// change meanwhile (another person's decision, moving the issue on through the outbox), the
/// issue follows it, so the last move is always the ticket's latest state.
async fn move_back(client: &JiraClient, app: &App, issue: &str, refused: &Refused) -> Result<Option<String>, String> {
    let mut ticket = app.ticket(&refused.ticket).await.map_err(|e| e.to_string())?;
    let mut moved = None;
    for _ in 0..FOLLOW_AT_MOST {
        let Some(status) = client.settings().status_for(ticket.state.as_str()) else { break };
        if moved.is_some() || !status.eq_ignore_ascii_case(&refused.moved_to) {
            if let Err(error) = move_to(client, issue, status).await {
                tracing::warn!(%error, issue, "could not move the issue back after a decision that does not count");
                break;
            }
            moved = Some(status.to_owned());
        }
        let now = app.ticket(&refused.ticket).await.map_err(|e| e.to_string())?;
        if now.version == ticket.version {
            break;
        }
        ticket = now;
    }
    Ok(moved)
}
