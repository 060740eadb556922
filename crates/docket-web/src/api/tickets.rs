//! `/tickets`: open a ticket, read one or a page of them, and every command on a ticket
//! (approve, reject, request changes, amend, comment, cancel, retry). Each command is the
//! app's; this module only reads the request and shows the ticket it returns.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use docket_app::TicketFilter;
use docket_core::ticket::Origin;
use docket_core::{Digest, PersonId, RawParams, TicketState, WorkflowId};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::{Caller, JsonBody, OptionalJsonBody, QueryPairs, TicketPath};
use super::view::{TicketSummary, TicketView};
use crate::Web;

/// Tickets per page unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 50;
/// The most tickets one page may hold.
const MAX_PAGE: u32 = 500;

/// `POST /tickets`. The origin is always the API: clients do not get to claim a chat thread.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTicketBody {
    workflow: String,
    #[serde(default)]
    params: RawParams,
}

/// `POST /tickets/{id}/approve`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApproveBody {
    digest: String,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /tickets/{id}/reject` and `/request-changes`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReasonBody {
    reason: String,
}

/// `POST /tickets/{id}/amend`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AmendBody {
    params: RawParams,
}

/// `POST /tickets/{id}/comment`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommentBody {
    text: String,
}

/// `POST /tickets/{id}/cancel`; the body may be empty.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelBody {
    #[serde(default)]
    reason: Option<String>,
}

fn view(web: &Web, ticket: &docket_core::Ticket) -> Json<TicketView> {
    Json(TicketView::new(ticket, &web.app))
}

/// `POST /tickets` → 201 with the ticket, planned and decided.
pub(crate) async fn create(
    State(web): State<Web>,
    caller: Caller,
    JsonBody(body): JsonBody<NewTicketBody>,
) -> Result<Response, ApiError> {
    let origin = Origin { surface: "api".to_owned(), ..Origin::default() };
    let workflow = WorkflowId::new(body.workflow);
    let ticket = web.app.request(&caller.actor, &workflow, body.params, origin).await?;
    let location = format!("{}/tickets/{}", super::view::API_BASE, ticket.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], view(&web, &ticket)).into_response())
}

/// `GET /tickets/{id}`
pub(crate) async fn get(
    State(web): State<Web>,
    _caller: Caller,
    TicketPath(id): TicketPath,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = web.app.ticket(&id).await?;
    Ok(view(&web, &ticket))
}

/// `GET /tickets?state=…&workflow=…&requester=…&limit=…&cursor=…`, newest first.
pub(crate) async fn list(
    State(web): State<Web>,
    _caller: Caller,
    query: QueryPairs,
) -> Result<Json<serde_json::Value>, ApiError> {
    let query = query.only(&["state", "workflow", "requester", "limit", "cursor"])?;
    let mut states = Vec::new();
    for name in query.all("state").flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()) {
        let state = TicketState::parse(name).ok_or_else(|| unknown_state(name))?;
        if !states.contains(&state) {
            states.push(state);
        }
    }
    let limit = query.number("limit", DEFAULT_PAGE)?;
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", format!("`limit` must be 1 to {MAX_PAGE}"))
            .with_details(json!({ "param": "limit" })));
    }
    let filter = TicketFilter {
        states,
        workflow: query.get("workflow").map(WorkflowId::new),
        requester: query.get("requester").map(PersonId::new),
        before: query.get("cursor").map(|_| query.number("cursor", 0u64)).transpose()?,
        limit,
    };
    let page = web.app.tickets(&filter).await?;
    let tickets: Vec<TicketSummary> = page.tickets.iter().map(TicketSummary::from).collect();
    Ok(Json(json!({ "tickets": tickets, "next_cursor": page.next.map(|n| n.to_string()) })))
}

fn unknown_state(name: &str) -> ApiError {
    let valid: Vec<&str> = TicketState::ALL.iter().map(|s| s.as_str()).collect();
    let shown: String = name.chars().take(40).collect();
    ApiError::bad_request("invalid_query", format!("unknown state `{shown}` (valid states: {})", valid.join(", ")))
        .with_details(json!({ "param": "state", "valid": valid }))
}

/// `POST /tickets/{id}/approve`: approves the plan with `digest`.
pub(crate) async fn approve(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    JsonBody(body): JsonBody<ApproveBody>,
) -> Result<Json<TicketView>, ApiError> {
    let digest = Digest::parse(&body.digest).map_err(|e| ApiError::bad_request("invalid_digest", e.to_string()))?;
    let ticket = web.app.approve(&caller.actor, &id, digest, body.comment).await?;
    Ok(view(&web, &ticket))
}

/// `POST /tickets/{id}/reject`
pub(crate) async fn reject(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    JsonBody(body): JsonBody<ReasonBody>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = web.app.reject(&caller.actor, &id, body.reason).await?;
    Ok(view(&web, &ticket))
}

/// `POST /tickets/{id}/request-changes`
pub(crate) async fn request_changes(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    JsonBody(body): JsonBody<ReasonBody>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = web.app.request_changes(&caller.actor, &id, body.reason).await?;
    Ok(view(&web, &ticket))
}

/// `POST /tickets/{id}/amend`: new parameters; the ticket is planned again.
pub(crate) async fn amend(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    JsonBody(body): JsonBody<AmendBody>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = web.app.amend(&caller.actor, &id, body.params).await?;
    Ok(view(&web, &ticket))
}

/// `POST /tickets/{id}/comment`
pub(crate) async fn comment(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    JsonBody(body): JsonBody<CommentBody>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = web.app.comment(&caller.actor, &id, body.text).await?;
    Ok(view(&web, &ticket))
}

/// `POST /tickets/{id}/cancel`
pub(crate) async fn cancel(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    OptionalJsonBody(body): OptionalJsonBody<CancelBody>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = web.app.cancel(&caller.actor, &id, body.reason).await?;
    Ok(view(&web, &ticket))
}

/// `POST /tickets/{id}/retry`: plans a failed or interrupted ticket again.
pub(crate) async fn retry(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = web.app.retry(&caller.actor, &id).await?;
    Ok(view(&web, &ticket))
}
