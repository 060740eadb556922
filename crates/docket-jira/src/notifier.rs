//! The outbox's way into Jira. Every change that says something is one outbox message
//! (`sync`); delivering it makes sure the ticket's issue exists (found by the ticket's label
//! before one is created, so a crash between Jira's answer and the store's record never makes
//! a second issue), adds the change's notes as comments and moves the issue to the status the
//! ticket's new state maps to. Each note sent is recorded under the outbox message's id, so a
//! retried delivery sends only what is left.

use std::sync::Arc;

use async_trait::async_trait;
use docket_app::{App, MirrorChange, Notifier, NotifyError, OutboxMessage, mirror_wants};
use docket_core::ticket::ExternalLink;
use docket_core::{Event, Ticket, TicketState};

use crate::adf::{Para, body};
use crate::client::{IssueRef, JiraClient, JiraError};
use crate::{SYSTEM, issue_key, ticket_key};

/// Mirrors tickets as Jira issues.
#[derive(Debug)]
pub struct JiraNotifier {
    client: JiraClient,
}

impl JiraNotifier {
    /// A notifier calling Jira through `client`.
    pub fn new(client: JiraClient) -> Arc<Self> {
        Arc::new(Self { client })
    }
}

#[async_trait]
impl Notifier for JiraNotifier {
    fn name(&self) -> &str {
        SYSTEM
    }

    fn mirrors(&self) -> bool {
        true
    }

    fn wants(&self, _ticket: &Ticket, events: &[Event]) -> Vec<String> {
        mirror_wants(events)
    }

    async fn deliver(&self, app: &App, message: &OutboxMessage, ticket: &Ticket) -> Result<(), NotifyError> {
        let issue = ensure_issue(&self.client, app, ticket).await?;
        let api = self.client.settings().api;
        for (marker, note) in app.missed_notes(SYSTEM, message, ticket).await.map_err(app_error)? {
            post_once(&self.client, app, message, &issue.key, &marker, body(api, &[Para::text(note)])).await?;
        }
        let change = app.mirror(SYSTEM, message, ticket).await.map_err(app_error)?;
        sync(&self.client, app, message, ticket, &issue, &change).await?;
        app.mirrored_up_to(SYSTEM, message, ticket).await.map_err(app_error)
    }
}

/// The ticket's issue: the one recorded, else the one labelled for it, else a new one.
pub(crate) async fn ensure_issue(client: &JiraClient, app: &App, ticket: &Ticket) -> Result<IssueRef, NotifyError> {
    if let Some(recorded) = app.recall(SYSTEM, &issue_key(&ticket.id)).await.map_err(app_error)?
        && let Some((id, key)) = recorded.split_once(' ')
    {
        return Ok(IssueRef { id: id.to_owned(), key: key.to_owned() });
    }
    let label = format!("docket-{}", ticket.id);
    let issue = match client.find_by_label(&label).await.map_err(jira_error)? {
        Some(found) => {
            tracing::info!(ticket = %ticket.id, issue = %found.key, "found the ticket's Jira issue; not creating another");
            found
        }
        None => {
            let summary = app.summarize(ticket);
            let title = format!("{} {}: {}", ticket.id, summary.title, params_line(&summary.params));
            let description = body(client.settings().api, &description(app, ticket));
            client.create_issue(&cut(&title, 250), description, &label).await.map_err(jira_error)?
        }
    };
    if let Some(url) = app.ticket_url(&ticket.id) {
        let title = format!("Docket {}", ticket.id);
        client
            .remote_link(&issue.key, &global_id(app, ticket), &url, &title, ticket.state.is_terminal())
            .await
            .map_err(jira_error)?;
    }
    app.remember(SYSTEM, &issue_key(&ticket.id), &format!("{} {}", issue.id, issue.key)).await.map_err(app_error)?;
    app.remember(SYSTEM, &ticket_key(&issue.key), &ticket.id.to_string()).await.map_err(app_error)?;
    let url = Some(format!("{}/browse/{}", client.settings().url, issue.key));
    let link = ExternalLink { system: SYSTEM.to_owned(), key: issue.key.clone(), url };
    app.link_external(&ticket.id, link).await.map_err(app_error)?;
    Ok(issue)
}

async fn sync(
    client: &JiraClient,
    app: &App,
    message: &OutboxMessage,
    ticket: &Ticket,
    issue: &IssueRef,
    change: &MirrorChange,
) -> Result<(), NotifyError> {
    let api = client.settings().api;
    for (i, note) in change.notes.iter().enumerate() {
        let marker = format!("{}:{}:note:{i}", ticket.id, message.id);
        post_once(client, app, message, &issue.key, &marker, body(api, &[Para::text(note.clone())])).await?;
    }
    for state in &change.states {
        follow(client, app, message, ticket, issue, *state).await?;
    }
    app.note_synced(SYSTEM, ticket).await.map_err(app_error)
}

/// Posts the comment `marker` names, once: nothing when it is recorded as sent; when an earlier
/// attempt may have posted it (its answer lost, or the server stopped before recording it),
/// the comment carrying `marker` is looked for on the issue first.
async fn post_once(
    client: &JiraClient,
    app: &App,
    message: &OutboxMessage,
    issue: &str,
    marker: &str,
    comment: serde_json::Value,
) -> Result<(), NotifyError> {
    let done = format!("done:{marker}");
    if app.recall(SYSTEM, &done).await.map_err(app_error)?.is_some() {
        return Ok(());
    }
    let found = match message.may_have_been_delivered() {
        true => client.find_comment(issue, marker).await.map_err(jira_error)?,
        false => None,
    };
    let id = match found {
        Some(id) => {
            tracing::info!(issue, marker, "found the comment an earlier attempt posted; not posting it again");
            id
        }
        None => client.comment(issue, comment, marker).await.map_err(jira_error)?,
    };
    app.remember(SYSTEM, &done, "").await.map_err(app_error)?;
    app.remember(SYSTEM, &crate::posted_key(&id), "").await.map_err(app_error)
}

/// Moves the issue to the status `state` maps to; a state the map leaves out gets a comment
/// instead (once); a terminal state marks the link back resolved.
async fn follow(
    client: &JiraClient,
    app: &App,
    message: &OutboxMessage,
    ticket: &Ticket,
    issue: &IssueRef,
    state: TicketState,
) -> Result<(), NotifyError> {
    let api = client.settings().api;
    match client.settings().status_for(state.as_str()) {
        Some(status) => move_to(client, &issue.key, status).await?,
        None if crate::section::MIRRORED_STATES.contains(&state) => {
            let marker = format!("{}:{}:state:{}", ticket.id, message.id, state.as_str());
            let note = format!("Docket: {} is now {state}", ticket.id);
            post_once(client, app, message, &issue.key, &marker, body(api, &[Para::text(note)])).await?;
        }
        None => {}
    }
    if state.is_terminal()
        && let Some(url) = app.ticket_url(&ticket.id)
    {
        let title = format!("Docket {} ({state})", ticket.id);
        client.remote_link(&issue.key, &global_id(app, ticket), &url, &title, true).await.map_err(jira_error)?;
    }
    Ok(())
}

/// Moves the issue to `status` through the transition that leads there (ids differ per
/// workflow); nothing when it is there already. No such transition is a permanent failure.
pub(crate) async fn move_to(client: &JiraClient, issue: &str, status: &str) -> Result<(), NotifyError> {
    let current = client.status(issue).await.map_err(jira_error)?;
    if current.eq_ignore_ascii_case(status) {
        return Ok(());
    }
    let transitions = client.transitions(issue).await.map_err(jira_error)?;
    let Some(transition) = transitions.iter().find(|t| t.to.eq_ignore_ascii_case(status)) else {
        let open: Vec<&str> = transitions.iter().map(|t| t.to.as_str()).collect();
        return Err(NotifyError::Permanent(format!(
            "{issue} has no transition from `{current}` to `{status}` (open: {})",
            open.join(", ")
        )));
    };
    client.transition(issue, &transition.id).await.map_err(jira_error)
}

/// The issue's description: the ticket, its workflow, requester, parameters, plan, the
/// policy's explanation and the link back.
fn description(app: &App, ticket: &Ticket) -> Vec<Para> {
    let summary = app.summarize(ticket);
    let mut paras = vec![
        Para::text(format!("Docket ticket {} — {} ({})", ticket.id, summary.title, summary.workflow)),
        Para::text(format!("Requested by {}", summary.requester)),
    ];
    if !summary.params.is_empty() {
        paras.push(Para::text(format!("Parameters: {}", params_line(&summary.params))));
    }
    if !summary.plan.is_empty() {
        paras.push(Para::text(format!("Plan:\n{}", summary.plan.join("\n"))));
    }
    if let Some(decision) = &ticket.decision {
        paras.push(Para::text(decision.explanation.clone()));
    }
    if let Some(digest) = &summary.digest {
        paras.push(Para::text(format!("Plan digest: {digest}")));
    }
    if let Some(url) = &summary.url {
        paras.push(Para::link(format!("Open {} in Docket", ticket.id), url.clone()));
    }
    paras
}

fn params_line(params: &[(String, String)]) -> String {
    params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// The remote link's `globalId`: stable per ticket, so a retry updates the link.
fn global_id(app: &App, ticket: &Ticket) -> String {
    format!("docket:{}:{}", app.public_url().unwrap_or("docket"), ticket.id)
}

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn jira_error(error: JiraError) -> NotifyError {
    if error.is_transient() {
        NotifyError::Transient(error.to_string())
    } else {
        NotifyError::Permanent(error.to_string())
    }
}

fn app_error(error: docket_app::AppError) -> NotifyError {
    NotifyError::Transient(error.to_string())
}
