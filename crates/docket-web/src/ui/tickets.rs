//! `/tickets`: every ticket, newest first, filtered by state, workflow and requester, a page
//! at a time (the store's cursor).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use docket_app::TicketFilter;
use docket_core::{PersonId, TicketState, WorkflowId};

use super::auth::Viewer;
use super::page::{Chrome, UiError, ok};
use super::view::TicketRow;
use crate::Web;

/// Tickets per page.
const PAGE: u32 = 50;

#[derive(Template)]
#[template(path = "tickets.html")]
struct TicketsPage {
    chrome: Chrome,
    rows: Vec<TicketRow>,
    states: Vec<(&'static str, String, bool)>,
    workflows: Vec<(String, String)>,
    workflow: String,
    requester: String,
    people: Vec<(String, String)>,
    next: Option<String>,
}

/// `GET /tickets?state=…&workflow=…&requester=…&before=…`
pub(crate) async fn page(
    State(web): State<Web>,
    viewer: Viewer,
    RawQuery(query): RawQuery,
) -> Result<Response, UiError> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let value = |name: &str| pairs.iter().rev().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.clone());
    let mut states = Vec::new();
    for (_, text) in pairs.iter().filter(|(n, v)| n == "state" && !v.is_empty()) {
        let state =
            TicketState::parse(text).ok_or_else(|| UiError::BadRequest(format!("`{text}` is not a ticket state.")))?;
        states.push(state);
    }
    let workflow = value("workflow").unwrap_or_default();
    let requester = value("requester").unwrap_or_default();
    let before = match value("before") {
        Some(text) => {
            Some(text.parse::<u64>().map_err(|_| UiError::BadRequest("`before` must be a ticket number.".to_owned()))?)
        }
        None => None,
    };
    let filter = TicketFilter {
        states: states.clone(),
        workflow: (!workflow.is_empty()).then(|| WorkflowId::new(workflow.clone())),
        requester: (!requester.is_empty()).then(|| PersonId::new(requester.clone())),
        before,
        limit: PAGE,
    };
    let found = web.app.tickets(&filter).await?;
    let next = found.next.map(|n| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for s in &states {
            q.append_pair("state", s.as_str());
        }
        if !workflow.is_empty() {
            q.append_pair("workflow", &workflow);
        }
        if !requester.is_empty() {
            q.append_pair("requester", &requester);
        }
        q.append_pair("before", &n.to_string());
        format!("/tickets?{}", q.finish())
    });
    ok(&TicketsPage {
        chrome: Chrome::new(&web, &viewer),
        rows: found.tickets.iter().map(|t| TicketRow::new(&web.app, t)).collect(),
        states: TicketState::ALL.into_iter().map(|s| (s.as_str(), s.to_string(), states.contains(&s))).collect(),
        workflows: web.app.workflows().iter().map(|w| (w.id.to_string(), w.title.clone())).collect(),
        workflow,
        requester,
        people: web.app.rules().directory.people().map(|p| (p.id.to_string(), p.name.clone())).collect(),
        next,
    })
}
