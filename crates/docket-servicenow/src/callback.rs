//! `POST /servicenow/callback`: what the instance's business rule sends (the README gives the
//! rule and its outbound REST message). The signature (`X-Hub-Signature: sha256=<hex>`, the
//! HMAC-SHA256 of the raw body with `callback_secret`) is checked first; an unsigned, badly
//! signed or replayed delivery is an opaque 401 and an audit record, and changes nothing.
//!
//! The body: `{"event": "comment", "sys_id", "number", "journal_id", "author", "email",
//! "text"}` for a work note or comment written on Docket's record (`author` is the writer's
//! user name, `journal_id` the `sys_journal_field` entry's `sys_id`). A comment by a person
//! Docket knows becomes a ticket comment, once, and is never sent back.
//!
//! `{"event": "approval", "sys_id", "approver", "email", "state"}` when an approver approved
//! or rejected the record (`sysapproval_approver` moved to `state`, `approved` if absent).
//! Docket reads the record back and acts only when its `approval` field says the same: an
//! approval is then decided by core (`App::approve_in`): it counts for a `from: [servicenow]`
//! stage only, never the requester's, on the plan the record last showed; a rejection
//! (`App::reject_in`) by core's rule for rejections. A decision that does not count changes
//! nothing in Docket and gets a work note saying why (see `refused`). Other events are
//! acknowledged and left alone.

use std::net::IpAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use docket_app::App;
use docket_core::{PersonId, TicketId};
use docket_http::{Peer, RawBody, error_response};
use serde_json::Value;

use crate::client::ServiceNowClient;
use crate::refused::Refused;
use crate::{SYSTEM, ticket_key};

/// Where the business rule posts.
pub const CALLBACK_PATH: &str = "/servicenow/callback";
const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
struct Shared {
    app: App,
    /// Reads records back and writes work notes (its OAuth token shared with the notifier);
    /// its settings are the callback's too.
    client: ServiceNowClient,
}

/// The callback route, answering for `app` through `client` (the one the notifier uses).
pub fn router(app: App, client: ServiceNowClient) -> Router {
    Router::new()
        .route(CALLBACK_PATH, post(callback))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(Shared { app, client })
}

async fn callback(
    State(shared): State<Shared>,
    Peer(peer): Peer,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    if let Err(refused) = authenticate(&shared, peer, &headers, &body).await {
        return refused;
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return error_response(StatusCode::BAD_REQUEST, "malformed_request", "the body is not JSON");
    };
    let result = match payload.get("event").and_then(Value::as_str) {
        // Docket's own work notes come back through the same rule: they are not comments.
        Some("comment")
            if payload.get("author").and_then(Value::as_str) == Some(shared.client.settings().username.as_str()) =>
        {
            Ok(())
        }
        Some("comment") => comment(&shared.app, &payload).await,
        Some("approval") => approval(&shared, &payload).await,
        _ => Ok(()),
    };
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => {
            tracing::warn!(%error, "a ServiceNow callback could not be handled");
            error_response(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the callback could not be handled now")
        }
    }
}

async fn authenticate(shared: &Shared, peer: Option<IpAddr>, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
    let signature = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
    if let Err(error) = docket_http::hub_signature::verify(&shared.client.settings().callback_secret, signature, body) {
        shared.app.audit_rejected_credentials(SYSTEM, peer, &format!("callback signature refused: {error}")).await;
        return Err(unauthenticated());
    }
    match shared.app.remember_first(SYSTEM, &format!("seen:{}", signature.unwrap_or_default()), "").await {
        Ok(true) => Ok(()),
        Ok(false) => {
            shared
                .app
                .audit_rejected_credentials(SYSTEM, peer, "callback replayed (its signature was used before)")
                .await;
            Err(unauthenticated())
        }
        Err(error) => {
            tracing::warn!(%error, "could not record a ServiceNow delivery");
            Err(error_response(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again later"))
        }
    }
}

fn unauthenticated() -> Response {
    error_response(StatusCode::UNAUTHORIZED, "unauthenticated", "the request could not be authenticated")
}

async fn comment(app: &App, payload: &Value) -> Result<(), docket_app::AppError> {
    let field = |name: &str| payload.get(name).and_then(Value::as_str);
    let Some(sys_id) = field("sys_id") else { return Ok(()) };
    let Some(ticket) = app.recall(SYSTEM, &ticket_key(sys_id)).await? else { return Ok(()) };
    let Ok(ticket) = TicketId::parse(&ticket) else { return Ok(()) };
    let (Some(journal), Some(text)) = (field("journal_id"), field("text")) else { return Ok(()) };
    let Some(person) = person_of(app, field("author"), field("email")) else {
        app.audit_unknown_chat_user(SYSTEM, field("author").unwrap_or("unknown"), "comment").await;
        return Ok(());
    };
    if text.trim().is_empty() {
        return Ok(());
    }
    match app.import_comment(SYSTEM, &ticket, journal, &person, text).await {
        Ok(_) => Ok(()),
        Err(docket_app::AppError::Refused(refusal)) => {
            tracing::info!(%refusal, %ticket, "a ServiceNow comment was not added to the ticket");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

async fn approval(shared: &Shared, payload: &Value) -> Result<(), docket_app::AppError> {
    let app = &shared.app;
    let field = |name: &str| payload.get(name).and_then(Value::as_str);
    let Some(sys_id) = field("sys_id") else { return Ok(()) };
    let Some(ticket) = app.recall(SYSTEM, &ticket_key(sys_id)).await? else { return Ok(()) };
    let Ok(ticket) = TicketId::parse(&ticket) else { return Ok(()) };
    let what = if field("state") == Some("rejected") { "rejection" } else { "approval" };
    let approver = field("approver").unwrap_or("unknown");
    let person = person_of(app, field("approver"), field("email"));
    if person.is_none() {
        let attempted = if what == "rejection" { "reject" } else { "approve" };
        app.audit_unknown_chat_user(SYSTEM, approver, attempted).await;
    }
    // The record itself must say so: the callback only points at it.
    let client = &shared.client;
    let record = match client.get(sys_id).await {
        Ok(record) => record,
        Err(error) => {
            tracing::warn!(%error, %ticket, "could not read the record an approval callback names");
            return Err(docket_app::AppError::Invalid(error.to_string()));
        }
    };
    // What the approver did (`approved` when the rule does not say), as the record confirms.
    let decided = field("state").unwrap_or("approved");
    if !matches!(decided, "approved" | "rejected") || record.get("approval").and_then(Value::as_str) != Some(decided) {
        tracing::info!(%ticket, decided, "an approval callback the record does not confirm; ignored");
        return Ok(());
    }
    let Some(person) = person else {
        let reason = docket_app::unknown_account_reason("ServiceNow user", Some(("user name", approver)));
        let (by, code) = (approver.to_owned(), "unknown");
        let refused = Refused { ticket, sys_id: sys_id.to_owned(), who: approver.to_owned(), what, reason, by, code };
        answer_refused(shared, refused);
        return Ok(());
    };
    let number = record.get("number").and_then(Value::as_str).unwrap_or(sys_id);
    let result = if decided == "approved" {
        app.approve_in(SYSTEM, &person, &ticket, Some(format!("approved {number} in ServiceNow"))).await
    } else {
        app.reject_in(SYSTEM, &person, &ticket, format!("rejected {number} in ServiceNow")).await
    };
    match result {
        Ok(_) => Ok(()),
        Err(docket_app::AppError::Refused(refusal)) => {
            tracing::info!(%refusal, %ticket, %person, decided, "a decision taken in ServiceNow does not count");
            let who = app.person_name(&person);
            let reason = app.refusal_for("ServiceNow", &refusal);
            let (by, code) = (person.to_string(), refusal.code());
            answer_refused(shared, Refused { ticket, sys_id: sys_id.to_owned(), who, what, reason, by, code });
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// Says on the record, after the callback is answered, why a decision does not count (see
/// `refused`).
fn answer_refused(shared: &Shared, refused: Refused) {
    let (client, app) = (shared.client.clone(), shared.app.clone());
    shared.app.after_answer(async move { crate::refused::answer(&client, &app, refused).await });
}

/// The person behind a ServiceNow user: their `servicenow` user name in `people`, else email.
fn person_of(app: &App, user: Option<&str>, email: Option<&str>) -> Option<PersonId> {
    let directory = &app.rules().directory;
    let by_name = user.and_then(|u| directory.by_id_on(SYSTEM, u));
    by_name.or_else(|| email.and_then(|e| directory.by_email(e))).map(|p| p.id.clone())
}
