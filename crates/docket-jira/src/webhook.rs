//! `POST /jira/webhook`: Jira's webhooks. The signature is checked over the raw body first;
//! an unsigned, badly signed or replayed delivery is an opaque 401 and an audit record, and
//! changes nothing. A comment written by a person Docket knows becomes a ticket comment, once
//! (by Jira's comment id), and is never sent back; Docket's own comments are ignored. An issue
//! moved to the status `approved` maps to, by a person Docket knows, is that person's approval
//! in Jira (`App::approve_in`), decided by core: it counts for a `from: [jira]` stage only,
//! never the requester's, on the plan the issue last showed. Moved to the status `rejected`
//! maps to, it is their rejection (`App::reject_in`), decided by core's rule for rejections. A
//! decision that does not count changes nothing in Docket, and is answered in the issue (see
//! `refused`).

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use docket_app::App;
use docket_core::{PersonId, TicketId};
use docket_http::{Peer, RawBody, error_response};
use serde_json::Value;

use crate::client::JiraClient;
use crate::own::OwnAccount;
use crate::refused::Refused;
use crate::{SYSTEM, ticket_key};

/// Where Jira's webhooks are sent.
pub const WEBHOOK_PATH: &str = "/jira/webhook";
const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
struct Shared {
    app: App,
    /// Answers a decision that does not count; its settings are the webhook's too.
    client: JiraClient,
    /// The account Docket calls Jira as (see `own`).
    me: Arc<OwnAccount>,
}

/// The webhook route, answering for `app` through `client` (the one the notifier uses).
pub fn router(app: App, client: JiraClient) -> Router {
    let me = OwnAccount::new(client.clone());
    Router::new().route(WEBHOOK_PATH, post(webhook)).layer(DefaultBodyLimit::max(BODY_LIMIT)).with_state(Shared {
        app,
        client,
        me,
    })
}

async fn webhook(
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
    let event = payload.get("webhookEvent").and_then(Value::as_str).unwrap_or_default();
    let result = match event {
        "comment_created" => comment(&shared, &payload).await,
        "jira:issue_updated" => status_changed(&shared, &payload).await,
        _ => Ok(()),
    };
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => {
            tracing::warn!(%error, event, "a Jira webhook could not be handled");
            error_response(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the webhook could not be handled now")
        }
    }
}

/// Checks the signature, then that this delivery was not handled before.
async fn authenticate(shared: &Shared, peer: Option<IpAddr>, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature = header("x-hub-signature");
    if let Err(error) = docket_http::hub_signature::verify(&shared.client.settings().webhook_secret, signature, body) {
        shared.app.audit_rejected_credentials(SYSTEM, peer, &format!("webhook signature refused: {error}")).await;
        return Err(unauthenticated());
    }
    // Jira names each delivery (the same id on its retries); without it, the signature does.
    let delivery = header("x-atlassian-webhook-identifier").or(signature).unwrap_or_default();
    match shared.app.remember_first(SYSTEM, &format!("seen:{delivery}"), "").await {
        Ok(true) => Ok(()),
        Ok(false) => {
            shared
                .app
                .audit_rejected_credentials(SYSTEM, peer, "webhook replayed (its delivery was handled before)")
                .await;
            Err(unauthenticated())
        }
        Err(error) => {
            tracing::warn!(%error, "could not record a Jira delivery");
            Err(error_response(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again later"))
        }
    }
}

fn unauthenticated() -> Response {
    error_response(StatusCode::UNAUTHORIZED, "unauthenticated", "the request could not be authenticated")
}

/// `comment_created`: `{issue: {key}, comment: {id, author: {accountId, emailAddress}, body}}`.
async fn comment(shared: &Shared, payload: &Value) -> Result<(), docket_app::AppError> {
    let app = &shared.app;
    let Some(ticket) = ticket_of(app, payload).await? else { return Ok(()) };
    let comment = payload.get("comment").cloned().unwrap_or_default();
    let Some(id) = comment.get("id").and_then(Value::as_str) else { return Ok(()) };
    if app.recall(SYSTEM, &crate::posted_key(id)).await?.is_some() {
        return Ok(());
    }
    let author = comment.get("author").cloned().unwrap_or_default();
    if docket_s_own(shared, &author) {
        return Ok(());
    }
    let Some(person) = person_of(app, &author) else {
        let account = author.get("accountId").and_then(Value::as_str).unwrap_or("unknown");
        app.audit_unknown_chat_user(SYSTEM, account, "comment").await;
        return Ok(());
    };
    let text = crate::adf::plain_text(comment.get("body").unwrap_or(&Value::Null));
    if text.trim().is_empty() {
        return Ok(());
    }
    match app.import_comment(SYSTEM, &ticket, id, &person, &text).await {
        Ok(_) => Ok(()),
        // A refusal (the text is too long, say) is final: Jira is told it was received.
        Err(docket_app::AppError::Refused(refusal)) => {
            tracing::info!(%refusal, %ticket, "a Jira comment was not added to the ticket");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// `jira:issue_updated` with a `changelog` item `{field: "status", toString}`: when the issue
/// reached the status mapped to `approved`, the `user` who moved it approves; to the status
/// mapped to `rejected`, they reject.
async fn status_changed(shared: &Shared, payload: &Value) -> Result<(), docket_app::AppError> {
    let items = payload.pointer("/changelog/items").and_then(Value::as_array).cloned().unwrap_or_default();
    let reached = |wanted: Option<&str>| {
        wanted.is_some_and(|wanted| {
            items.iter().any(|item| {
                item.get("field").and_then(Value::as_str) == Some("status")
                    && item.get("toString").and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case(wanted))
            })
        })
    };
    let settings = shared.client.settings();
    let (decision, status) = if reached(settings.status_for("approved")) {
        (Decision::Approve, settings.status_for("approved").unwrap_or_default())
    } else if reached(settings.status_for("rejected")) {
        (Decision::Reject, settings.status_for("rejected").unwrap_or_default())
    } else {
        return Ok(());
    };
    let app = &shared.app;
    let Some(ticket) = ticket_of(app, payload).await? else { return Ok(()) };
    let user = payload.get("user").cloned().unwrap_or_default();
    if docket_s_own(shared, &user) {
        // Docket's own transition, after a decision taken in Docket.
        return Ok(());
    }
    let Some(person) = person_of(app, &user) else {
        // Jira Cloud names accounts by id, which a person's `jira` key holds; Data Center by
        // user name, and a person is found by email there.
        let cloud_id = user.get("accountId").and_then(Value::as_str);
        let account = cloud_id.or_else(|| user.get("name").and_then(Value::as_str)).unwrap_or("unknown");
        let action = if decision == Decision::Approve { "approve" } else { "reject" };
        app.audit_unknown_chat_user(SYSTEM, account, action).await;
        let who = user.get("displayName").and_then(Value::as_str).unwrap_or(account).to_owned();
        let reason = docket_app::unknown_account_reason("Jira account", cloud_id.map(|id| ("account id", id)));
        let (by, code) = (account.to_owned(), "unknown");
        answer_refused(shared, Refused { ticket, who, moved_to: status.to_owned(), reason, by, code });
        return Ok(());
    };
    let key = payload.pointer("/issue/key").and_then(Value::as_str).unwrap_or_default();
    let words = format!("moved {key} to {status} in Jira");
    let result = match decision {
        Decision::Approve => app.approve_in(SYSTEM, &person, &ticket, Some(words)).await,
        Decision::Reject => app.reject_in(SYSTEM, &person, &ticket, words).await,
    };
    match result {
        Ok(_) => Ok(()),
        Err(docket_app::AppError::Refused(refusal)) => {
            tracing::info!(%refusal, %ticket, %person, ?decision, "a decision taken in Jira does not count");
            let who = app.person_name(&person);
            let reason = app.refusal_for("Jira", &refusal);
            let (by, code) = (person.to_string(), refusal.code());
            answer_refused(shared, Refused { ticket, who, moved_to: status.to_owned(), reason, by, code });
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// Whether `user` is the account Docket calls Jira as: by email when the webhook carries it
/// (Jira may leave it out), else by the account `/myself` named (see `own`).
fn docket_s_own(shared: &Shared, user: &Value) -> bool {
    let email = user.get("emailAddress").and_then(Value::as_str);
    (email.is_some() && email == shared.client.settings().email.as_deref()) || shared.me.is(user)
}

/// Answers in the issue, after the webhook is answered, a decision that did not count (see
/// `refused`).
fn answer_refused(shared: &Shared, refused: Refused) {
    let (client, app) = (shared.client.clone(), shared.app.clone());
    shared.app.after_answer(async move { crate::refused::answer(&client, &app, refused).await });
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    Approve,
    Reject,
}

/// The ticket whose issue the payload is about, if it is one of Docket's.
async fn ticket_of(app: &App, payload: &Value) -> Result<Option<TicketId>, docket_app::AppError> {
    let Some(key) = payload.pointer("/issue/key").and_then(Value::as_str) else { return Ok(None) };
    let Some(id) = app.recall(SYSTEM, &ticket_key(key)).await? else { return Ok(None) };
    Ok(TicketId::parse(&id).ok())
}

/// The person behind a Jira user: their `jira` account id in `people`, else their email.
fn person_of(app: &App, user: &Value) -> Option<PersonId> {
    let directory = &app.rules().directory;
    let by_account = user.get("accountId").and_then(Value::as_str).and_then(|a| directory.by_id_on(SYSTEM, a));
    let by_email = || user.get("emailAddress").and_then(Value::as_str).and_then(|e| directory.by_email(e));
    by_account.or_else(by_email).map(|p| p.id.clone())
}
