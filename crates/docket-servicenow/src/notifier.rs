//! The outbox's way into ServiceNow. Every change that says something is one outbox message
//! (`sync`); delivering it makes sure the ticket's record exists (found by its
//! `correlation_id` before one is created, so a crash between the instance's answer and the
//! store's record never makes a second one), adds the change's notes as work notes and moves
//! the record's `state` along the change model, closing it with `close_code` and
//! `close_notes`. Each note sent is recorded under the outbox message's id, so a retried
//! delivery sends only what is left; the last change delivered is recorded too, so the notes
//! of changes whose messages the outbox gave up on (a long outage) are sent at the next
//! delivery, before its own.

use std::sync::Arc;

use async_trait::async_trait;
use docket_app::{App, Notifier, NotifyError, OutboxMessage, mirror_wants};
use docket_core::ticket::ExternalLink;
use docket_core::{Event, Ticket, TicketState};
use serde_json::{Map, Value, json};

use crate::client::{Record, ServiceNowClient, ServiceNowError};
use crate::settings::Table;
use crate::{SYSTEM, record_key, ticket_key};

/// Mirrors tickets as ServiceNow records.
#[derive(Debug)]
pub struct ServiceNowNotifier {
    client: ServiceNowClient,
}

impl ServiceNowNotifier {
    /// A notifier calling the instance through `client`.
    pub fn new(client: ServiceNowClient) -> Arc<Self> {
        Arc::new(Self { client })
    }
}

#[async_trait]
impl Notifier for ServiceNowNotifier {
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
        let record = ensure_record(&self.client, app, ticket).await?;
        let mut notes = app.missed_notes(SYSTEM, message, ticket).await.map_err(app_error)?;
        let change = app.mirror(SYSTEM, message, ticket).await.map_err(app_error)?;
        notes.extend(
            change
                .notes
                .iter()
                .enumerate()
                .map(|(i, note)| (format!("{}:{}:note:{i}", ticket.id, message.id), note.clone())),
        );
        for (marker, note) in notes {
            let done = format!("done:{marker}");
            if app.recall(SYSTEM, &done).await.map_err(app_error)?.is_some() {
                continue;
            }
            let mut fields = Map::new();
            fields.insert("work_notes".to_owned(), Value::String(note));
            self.client.patch(&record.sys_id, fields).await.map_err(sn_error)?;
            app.remember(SYSTEM, &done, "").await.map_err(app_error)?;
        }
        let table = self.client.settings().table;
        for state in &change.states {
            if let Some(fields) = state_fields(table, *state, ticket) {
                // Setting a state is idempotent: no record of it is needed.
                self.client.patch(&record.sys_id, fields).await.map_err(sn_error)?;
            }
        }
        app.note_synced(SYSTEM, ticket).await.map_err(app_error)?;
        app.mirrored_up_to(SYSTEM, message, ticket).await.map_err(app_error)
    }
}

/// The ticket's record: the one recorded, else the one correlated with it, else a new one.
async fn ensure_record(client: &ServiceNowClient, app: &App, ticket: &Ticket) -> Result<Record, NotifyError> {
    if let Some(recorded) = app.recall(SYSTEM, &record_key(&ticket.id)).await.map_err(app_error)?
        && let Some((sys_id, number)) = recorded.split_once(' ')
    {
        return Ok(Record { sys_id: sys_id.to_owned(), number: number.to_owned() });
    }
    let correlation = ticket.id.to_string();
    let record = match client.find(&correlation).await.map_err(sn_error)? {
        Some(found) => {
            tracing::info!(ticket = %ticket.id, record = %found.number, "found the ticket's ServiceNow record; not creating another");
            found
        }
        None => client.create(new_record(app, ticket)).await.map_err(sn_error)?,
    };
    app.remember(SYSTEM, &record_key(&ticket.id), &format!("{} {}", record.sys_id, record.number))
        .await
        .map_err(app_error)?;
    app.remember(SYSTEM, &ticket_key(&record.sys_id), &correlation).await.map_err(app_error)?;
    let settings = client.settings();
    let url = format!("{}/{}.do?sys_id={}", settings.instance_url, settings.table.as_str(), record.sys_id);
    let link = ExternalLink { system: SYSTEM.to_owned(), key: record.number.clone(), url: Some(url) };
    app.link_external(&ticket.id, link).await.map_err(app_error)?;
    Ok(record)
}

/// A new record's fields: `correlation_id` is the ticket id (how it is found again),
/// `correlation_display` says Docket, the description starts with the link back and holds
/// the workflow, requester, parameters, plan and the policy's explanation.
fn new_record(app: &App, ticket: &Ticket) -> Map<String, Value> {
    let summary = app.summarize(ticket);
    let params = summary.params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
    let mut lines = Vec::new();
    if let Some(url) = &summary.url {
        lines.push(format!("Docket: {url}"));
    }
    lines.push(format!("Docket ticket {} — {} ({})", ticket.id, summary.title, summary.workflow));
    lines.push(format!("Requested by {}", summary.requester));
    if !params.is_empty() {
        lines.push(format!("Parameters: {params}"));
    }
    if !summary.plan.is_empty() {
        lines.push(format!("Plan:\n{}", summary.plan.join("\n")));
    }
    if let Some(decision) = &ticket.decision {
        lines.push(decision.explanation.clone());
    }
    if let Some(digest) = &summary.digest {
        lines.push(format!("Plan digest: {digest}"));
    }
    let short: String = format!("{} {}: {params}", ticket.id, summary.title).chars().take(160).collect();
    let fields = json!({
        "short_description": short,
        "description": lines.join("\n\n"),
        "correlation_id": ticket.id.to_string(),
        "correlation_display": "Docket",
    });
    match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The fields a ticket's state sets on the record, if it sets any. Change requests follow the
/// change model (Authorize −3, Scheduled −2, Implement −1, Closed 3, Canceled 4); incidents go
/// In Progress 2, Resolved 6, Canceled 8.
fn state_fields(table: Table, state: TicketState, ticket: &Ticket) -> Option<Map<String, Value>> {
    let reason = ticket.closing_reason.clone().unwrap_or_else(|| format!("Docket: {state}"));
    let fields = match (table, state) {
        (Table::ChangeRequest, TicketState::AwaitingApproval) => json!({"state": "-3"}),
        (Table::ChangeRequest, TicketState::Approved | TicketState::Queued) => json!({"state": "-2"}),
        (Table::ChangeRequest, TicketState::Running) => json!({"state": "-1"}),
        (Table::ChangeRequest, TicketState::Succeeded) => {
            json!({"state": "3", "close_code": "successful", "close_notes": format!("Docket: {} succeeded", ticket.id)})
        }
        (Table::ChangeRequest, TicketState::Failed | TicketState::Interrupted) => {
            json!({"state": "3", "close_code": "unsuccessful", "close_notes": reason})
        }
        (Table::ChangeRequest, s) if s.is_terminal() => json!({"state": "4", "close_notes": reason}),
        (Table::Incident, TicketState::Running) => json!({"state": "2"}),
        (Table::Incident, TicketState::Succeeded) => json!({"state": "6", "close_code": "Solved (Permanently)",
            "close_notes": format!("Docket: {} succeeded", ticket.id)}),
        (Table::Incident, TicketState::Failed | TicketState::Interrupted) => {
            json!({"state": "6", "close_code": "Not Solved (Not Reproducible)", "close_notes": reason})
        }
        (Table::Incident, s) if s.is_terminal() => json!({"state": "8", "close_notes": reason}),
        _ => return None,
    };
    match fields {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn sn_error(error: ServiceNowError) -> NotifyError {
    if error.is_transient() {
        NotifyError::Transient(error.to_string())
    } else {
        NotifyError::Permanent(error.to_string())
    }
}

fn app_error(error: docket_app::AppError) -> NotifyError {
    NotifyError::Transient(error.to_string())
}
