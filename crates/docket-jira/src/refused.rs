//! What the person hears in Jira when a decision they took there does not count (their own
//! ticket, a stage that is not Jira's, a plan changed since the issue showed it, an account no
//! one in the directory has): while the ticket still waits for approval, the issue goes back to
//! the status the ticket's state maps to, so Jira does not go on showing a decision Docket never
//! counted, and a comment says why — once per person, ticket and reason, however often the
//! issue is moved. Once the ticket has moved on, the outbox keeps the issue where the ticket is
//! (a move Docket itself made after a decision taken in Docket comes back this way too, and is
//! left alone). Both are best effort, after the webhook is answered: the decision changed
//! nothing in Docket either way, and a failure is logged; a comment Jira did not get is not
//! counted as said, so the same decision taken again is answered then.

use docket_app::{App, Pruned};
use docket_core::{Ticket, TicketId, TicketState};

use crate::adf::{Para, body};
use crate::client::{JiraClient, JiraError};
use crate::notifier::move_to;
use crate::settings::Api;
use crate::{SYSTEM, issue_key};

/// The answers given, one per ticket, person and reason: kept 30 days, then forgotten (a
/// decision still refused after that is answered again).
static ANSWERED: Pruned = Pruned::new("jira.refused", std::time::Duration::from_secs(30 * 24 * 3600), 100);

/// How many times the issue follows a ticket that changes while it is moved back.
const FOLLOW_AT_MOST: usize = 3;

/// A decision taken in Jira that core refused, or by an account Docket does not know.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) ticket: TicketId,
    /// The person's name, as the directory gives it, else the account's.
    pub(crate) who: String,
    /// The status the person moved the issue to.
    pub(crate) moved_to: String,
    /// Why it does not count, in words for Jira.
    pub(crate) reason: String,
    /// Who decided, for the comment said once: the person's id, or the account no one has.
    pub(crate) by: String,
    /// Why, for the comment said once: the refusal's code, or `unknown` for an account no one has.
    pub(crate) code: &'static str,
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
    let (ticket, version) = app.ticket_with_version(&refused.ticket).await.map_err(|e| e.to_string())?;
    if ticket.state != TicketState::AwaitingApproval {
        // Moved on: the outbox keeps the issue where the ticket is.
        return Ok(());
    }
    let back = move_back(client, app, issue, refused, (ticket, version)).await?;
    let Some(once) = app
        .answer_refusal_once(&ANSWERED, &refused.ticket, &refused.by, refused.code)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let mut note = format!("Docket did not count {}'s move to {}: {}.", refused.who, refused.moved_to, refused.reason);
    if let Some(status) = back {
        note.push_str(&format!(" The issue is back in {status}."));
    }
    let comment = body(client.settings().api, &[Para::text(note)]);
    let id = match client.comment(issue, comment, &once).await {
        Ok(id) => id,
        Err(error) => return not_answered(client, app, issue, &once, error).await,
    };
    if id.is_empty() {
        return Ok(());
    }
    // Jira sends this comment back as a webhook: it is Docket's own.
    app.remember(SYSTEM, &crate::posted_key(&id), "").await.map_err(|e| e.to_string())
}

/// The comment could not be posted (`error`). When Jira says it wrote nothing, or Jira Cloud's
/// mark shows the comment is not there, the answer is given back, so the same decision taken
/// again is answered then; a comment found by its mark (an answer lost on the way back) is
/// Docket's own. Where it cannot be told (Data Center, or the look failed), the answer is kept
/// as given: a comment said twice would be worse than one a later move does not repeat.
async fn not_answered(client: &JiraClient, app: &App, issue: &str, once: &str, error: JiraError) -> Result<(), String> {
    if !error.nothing_written() {
        match client.find_comment(issue, once).await {
            Ok(Some(id)) => return app.remember(SYSTEM, &crate::posted_key(&id), "").await.map_err(|e| e.to_string()),
            Ok(None) if client.settings().api == Api::Cloud => {}
            _ => return Err(format!("{error} (it may have been posted, so it is not said again)")),
        }
    }
    if let Err(forget) = app.refusal_not_answered(&ANSWERED, once).await {
        tracing::warn!(error = %forget, issue, "could not give back an answer Jira did not get; that decision stays unanswered");
    }
    Err(error.to_string())
}

/// Moves the issue to the status the ticket's state maps to, unless it is there already; the
/// status it moved the issue to, if it did. `read` is the ticket and its event count as read
/// last. Should the ticket change meanwhile (another person's decision, which the outbox also
/// carries to the issue), the issue follows it, up to [`FOLLOW_AT_MOST`] times.
async fn move_back(
    client: &JiraClient,
    app: &App,
    issue: &str,
    refused: &Refused,
    read: (Ticket, u64),
) -> Result<Option<String>, String> {
    let (mut ticket, mut version) = read;
    let mut moved = None;
    for _ in 0..FOLLOW_AT_MOST {
        let Some(status) = client.settings().status_for(ticket.state.as_str()) else { break };
        if moved.is_none() && status.eq_ignore_ascii_case(&refused.moved_to) {
            // Already where the ticket is: nothing to move back, and nothing to follow.
            break;
        }
        if let Err(error) = move_to(client, issue, status).await {
            tracing::warn!(%error, issue, "could not move the issue back after a decision that does not count");
            break;
        }
        moved = Some(status.to_owned());
        let (now, now_version) = app.ticket_with_version(&refused.ticket).await.map_err(|e| e.to_string())?;
        if now_version == version {
            break;
        }
        (ticket, version) = (now, now_version);
    }
    Ok(moved)
}
