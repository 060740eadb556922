//! `/tickets`: open a ticket, read one or a page of them, and every command on a ticket
//! (approve, reject, request changes, amend, comment, cancel, retry). Each command is the
//! app's; this module only reads the request and shows the ticket it returns.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docket_app::{Requested, TicketFilter};
use docket_core::ticket::Origin;
use docket_core::{Digest, PersonId, RawParams, TicketState, WorkflowId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::extract::{Caller, JsonBody, OptionalJsonBody, QueryPairs, TicketPath, whole_number};
use super::idempotency::{IdempotencyKey, Keyed};
use super::schema::{
    BadRequest, Conflict, DIGEST_PATTERN, Forbidden, NotFound, ParamValues, PayloadTooLarge, Unauthenticated,
    Unavailable, Unprocessable, UnsupportedMediaType, state_filter,
};
use super::view::{TicketSummary, TicketView};
use crate::Web;

/// Tickets per page unless `limit` says otherwise.
const DEFAULT_PAGE: u64 = 50;
/// The most tickets one page may hold.
const MAX_PAGE: u64 = 500;
/// The largest ticket number the store holds; a cursor beyond it means "from the newest".
const MAX_NUMBER: u64 = i64::MAX as u64;

/// A new ticket. The origin is always the API: clients do not get to claim a chat thread, and
/// unknown fields (including `origin`) are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewTicket, example = json!({
    "workflow": "deploy",
    "params": { "service": "api", "version": "1.4.2", "environment": "staging" }
}))]
pub(crate) struct NewTicketBody {
    /// The workflow's id, as `GET /workflows` lists them.
    workflow: String,
    /// The parameter values; leaving it out is the same as `{}` (defaults fill in).
    #[serde(default)]
    #[schema(value_type = ParamValues)]
    params: RawParams,
}

/// An approval of the plan with `digest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Approval)]
pub(crate) struct ApproveBody {
    /// The digest of the plan being approved, as the ticket shows it.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    digest: String,
    /// Why; a blank comment is the same as none. At most 4000 characters besides surrounding
    /// whitespace.
    #[serde(default)]
    #[schema(max_length = 4000)]
    comment: Option<String>,
}

/// Why a ticket is rejected or sent back: at most 4000 characters besides surrounding
/// whitespace, and not blank.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Reason)]
pub(crate) struct ReasonBody {
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    reason: String,
}

/// New parameter values; the ticket is planned again. The ticket's workflow decides which
/// names and values are valid.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Amendment)]
pub(crate) struct AmendBody {
    #[schema(value_type = ParamValues)]
    params: RawParams,
}

/// A comment: at most 4000 characters besides surrounding whitespace, and not blank.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewComment)]
pub(crate) struct CommentBody {
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    text: String,
}

/// Why the ticket is cancelled; the body may also be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Cancellation)]
pub(crate) struct CancelBody {
    /// Not blank, and at most 4000 characters besides surrounding whitespace; null or left out
    /// for no reason.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    reason: Option<String>,
}

/// A page of tickets, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TicketList)]
pub(crate) struct TicketList {
    tickets: Vec<TicketSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(pattern = "^[0-9]{1,19}$")]
    next_cursor: Option<String>,
}

/// The query of `GET /tickets`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TicketQuery {
    /// Only tickets in these states: repeat the parameter (`state=queued&state=running`), or
    /// separate states with commas (`state=queued,running`).
    #[param(schema_with = state_filter, required = false, style = Form, explode)]
    state: Vec<TicketState>,
    /// Only tickets of this workflow; empty means any.
    workflow: Option<String>,
    /// Only tickets this person requested; empty means anyone.
    requester: Option<String>,
    /// At most this many tickets.
    #[param(required = false, minimum = 1, maximum = 500, default = 50)]
    limit: u64,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, pattern = "^[0-9]{1,19}$")]
    cursor: Option<u64>,
}

impl TicketQuery {
    /// Reads the query, refusing unknown names and values the document does not allow.
    fn read(query: &QueryPairs) -> Result<Self, ApiError> {
        let query = query.only(&["state", "workflow", "requester", "limit", "cursor"])?;
        let mut state = Vec::new();
        for name in query.all("state").flat_map(|v| v.split(',')) {
            let parsed = TicketState::parse(name).ok_or_else(|| unknown_state(name))?;
            if !state.contains(&parsed) {
                state.push(parsed);
            }
        }
        let limit = query.number("limit", DEFAULT_PAGE, 1..=MAX_PAGE)?;
        let cursor = match query.last("cursor") {
            None => None,
            Some(text) => Some(cursor(text)?),
        };
        Ok(Self {
            state,
            workflow: query.get("workflow").map(str::to_owned),
            requester: query.get("requester").map(str::to_owned),
            limit,
            cursor,
        })
    }
}

/// A cursor: up to 19 digits, clamped to the largest ticket number there can be.
fn cursor(text: &str) -> Result<u64, ApiError> {
    if text.len() > 19 {
        return Err(invalid_cursor());
    }
    whole_number(text, 0..=u64::MAX).map(|n| n.min(MAX_NUMBER)).map_err(|_| invalid_cursor())
}

fn invalid_cursor() -> ApiError {
    ApiError::bad_request("invalid_query", "`cursor` must be the `next_cursor` of a previous page")
        .with_details(json!({ "param": "cursor" }))
}

/// `{id}` of `/tickets/{id}/…`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TicketIdParam {
    /// A ticket id such as `DKT-42` (the prefix in any case, the number with or without
    /// leading zeros). Anything else is answered with 400 `invalid_ticket_id`; an id of no
    /// ticket with 404 `not_found`.
    #[param(pattern = "^[A-Za-z]{1,16}-[0-9]{1,19}$", example = "DKT-1")]
    #[allow(dead_code, reason = "describes the path parameter TicketPath reads")]
    id: String,
}

fn view(web: &Web, ticket: &docket_core::Ticket) -> Json<TicketView> {
    Json(TicketView::new(ticket, &web.app))
}

/// Opens a ticket: the workflow is planned and the policies decide at once.
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
    tag = "tickets",
    operation_id = "create_ticket",
    request_body = NewTicketBody,
    params(IdempotencyKey),
    responses(
        (status = 200, description = "The ticket an earlier request with the same `Idempotency-Key` opened.",
            body = TicketView,
            headers(("Location" = String, description = "The ticket's URL path."))),
        (status = 201, description = "The ticket, planned and decided.", body = TicketView,
            headers(("Location" = String, description = "The ticket's URL path.")),
            links(
                ("GetTicket" = (operation_id = "get_ticket", parameters(("id" = "$response.body#/id")))),
                ("TicketLogs" = (operation_id = "ticket_logs", parameters(("id" = "$response.body#/id")))),
                ("TicketEvents" = (operation_id = "ticket_events", parameters(("id" = "$response.body#/id")))),
                ("CommentOnTicket" = (operation_id = "comment_on_ticket", parameters(("id" = "$response.body#/id")))),
                ("CancelTicket" = (operation_id = "cancel_ticket", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn create(
    State(web): State<Web>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewTicketBody>,
) -> Result<Response, ApiError> {
    let origin = Origin { surface: "api".to_owned(), ..Origin::default() };
    let workflow = WorkflowId::new(body.workflow);
    let Some(keyed) = Keyed::from_headers(&headers, &caller.actor.to_string(), &workflow, &body.params)? else {
        let ticket = caller.app.request(&caller.actor, &workflow, body.params, origin).await?;
        return Ok(answer(&web, StatusCode::CREATED, &ticket));
    };
    match caller.app.request_keyed(&caller.actor, &workflow, body.params, origin, Some(keyed.once())).await? {
        Requested::Opened(ticket) => Ok(answer(&web, StatusCode::CREATED, &ticket)),
        Requested::Before(earlier) => Ok(answer(&web, StatusCode::OK, &keyed.opened(earlier)?)),
    }
}

/// A ticket opened (201), or opened before (200), with its address.
fn answer(web: &Web, status: StatusCode, ticket: &docket_core::Ticket) -> Response {
    let location = format!("{}/tickets/{}", super::view::API_BASE, ticket.id);
    (status, [(header::LOCATION, location)], view(web, ticket)).into_response()
}

/// One ticket in full.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}",
    tag = "tickets",
    operation_id = "get_ticket",
    params(TicketIdParam),
    responses(
        (status = 200, description = "The ticket.", body = TicketView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn get(
    State(web): State<Web>,
    _caller: Caller,
    TicketPath(id): TicketPath,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = web.app.ticket(&id).await?;
    Ok(view(&web, &ticket))
}

/// A page of tickets, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/tickets",
    tag = "tickets",
    operation_id = "list_tickets",
    params(TicketQuery),
    responses(
        (status = 200, description = "A page of tickets.", body = TicketList),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn list(
    State(web): State<Web>,
    _caller: Caller,
    query: QueryPairs,
) -> Result<Json<TicketList>, ApiError> {
    let query = TicketQuery::read(&query)?;
    let filter = TicketFilter {
        states: query.state,
        workflow: query.workflow.map(WorkflowId::new),
        requester: query.requester.map(PersonId::new),
        before: query.cursor,
        // In 1..=500, as read.
        limit: u32::try_from(query.limit).unwrap_or(u32::MAX),
    };
    let page = web.app.tickets(&filter).await?;
    let tickets: Vec<TicketSummary> = page.tickets.iter().map(TicketSummary::from).collect();
    Ok(Json(TicketList { tickets, next_cursor: page.next.map(|n| n.to_string()) }))
}

fn unknown_state(name: &str) -> ApiError {
    let valid: Vec<&str> = TicketState::ALL.iter().map(|s| s.as_str()).collect();
    let shown: String = name.chars().take(40).collect();
    ApiError::bad_request("invalid_query", format!("unknown state `{shown}` (valid states: {})", valid.join(", ")))
        .with_details(json!({ "param": "state", "valid": valid }))
}

/// Approves the plan with `digest` for the caller's stage.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/approve",
    tag = "tickets",
    operation_id = "approve_ticket",
    params(TicketIdParam),
    request_body = ApproveBody,
    responses(
        (status = 200, description = "The ticket, approved for the stage.", body = TicketView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn approve(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    JsonBody(body): JsonBody<ApproveBody>,
) -> Result<Json<TicketView>, ApiError> {
    // Exactly the 64 hex digits the pattern says: no surrounding whitespace either.
    let digest = Digest::parse(&body.digest)
        .ok()
        .filter(|_| body.digest.len() == 64)
        .ok_or_else(|| ApiError::bad_request("invalid_digest", format!("the digest must match {DIGEST_PATTERN}")))?;
    let ticket = caller.app.approve(&caller.actor, &id, digest, body.comment).await?;
    Ok(view(&web, &ticket))
}

/// Rejects the ticket for good.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/reject",
    tag = "tickets",
    operation_id = "reject_ticket",
    params(TicketIdParam),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The ticket, rejected.", body = TicketView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn reject(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    JsonBody(body): JsonBody<ReasonBody>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = caller.app.reject(&caller.actor, &id, body.reason).await?;
    Ok(view(&web, &ticket))
}

/// Sends the ticket back to its requester to amend.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/request-changes",
    tag = "tickets",
    operation_id = "request_changes",
    params(TicketIdParam),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The ticket, back with its requester.", body = TicketView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn request_changes(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    JsonBody(body): JsonBody<ReasonBody>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = caller.app.request_changes(&caller.actor, &id, body.reason).await?;
    Ok(view(&web, &ticket))
}

/// New parameter values from the requester; the ticket is planned again.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/amend",
    tag = "tickets",
    operation_id = "amend_ticket",
    params(TicketIdParam),
    request_body = AmendBody,
    responses(
        (status = 200, description = "The ticket, planned again.", body = TicketView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn amend(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    JsonBody(body): JsonBody<AmendBody>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = caller.app.amend(&caller.actor, &id, body.params).await?;
    Ok(view(&web, &ticket))
}

/// Adds a comment.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/comment",
    tag = "tickets",
    operation_id = "comment_on_ticket",
    params(TicketIdParam),
    request_body = CommentBody,
    responses(
        (status = 200, description = "The ticket with the comment.", body = TicketView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn comment(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    JsonBody(body): JsonBody<CommentBody>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = caller.app.comment(&caller.actor, &id, body.text).await?;
    Ok(view(&web, &ticket))
}

/// Cancels the ticket (the requester, or an admin); a running one is stopped.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/cancel",
    tag = "tickets",
    operation_id = "cancel_ticket",
    params(TicketIdParam),
    request_body = Option<CancelBody>,
    responses(
        (status = 200, description = "The ticket, cancelled.", body = TicketView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn cancel(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
    OptionalJsonBody(body): OptionalJsonBody<CancelBody>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = caller.app.cancel(&caller.actor, &id, body.reason).await?;
    Ok(view(&web, &ticket))
}

/// Plans a failed or interrupted ticket again (the requester).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/retry",
    tag = "tickets",
    operation_id = "retry_ticket",
    params(TicketIdParam),
    responses(
        (status = 200, description = "The ticket, planned again.", body = TicketView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn retry(
    State(web): State<Web>,
    caller: Caller,
    TicketPath(id): TicketPath,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = caller.app.retry(&caller.actor, &id).await?;
    Ok(view(&web, &ticket))
}
