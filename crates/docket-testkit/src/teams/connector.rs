//! The fake connector: `/amer/v3/conversations…` as Teams answers it — a bearer token the fake
//! issued is required, activities get ids, a replaced activity must exist, and scripted
//! failures and blocked conversations answer as Teams does.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use serde_json::{Value, json};

use super::{AppState, Recorded, Shared, lock};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/amer/v3/conversations", post(create_conversation))
        .route("/amer/v3/conversations/{conversation}/activities", post(send))
        .route("/amer/v3/conversations/{conversation}/activities/{id}", post(reply).put(update))
        .route("/amer/v3/conversations/{conversation}/activities/{id}/", put(update))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

/// Checks the token and any scripted failure; `None` means go on.
fn gate(shared: &Shared, headers: &HeaderMap, target: &str) -> Option<Response> {
    let mut inner = lock(shared);
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !inner.tokens_issued.iter().any(|t| t == token) {
        return Some(error(StatusCode::UNAUTHORIZED, "BotNotAuthorized", "Authorization has been denied"));
    }
    if let Some(status) = inner.scripted.pop_front() {
        inner.failed_answers += 1;
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = error(status, "ServiceError", "scripted failure");
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("0"));
        }
        return Some(response);
    }
    if inner.blocked.contains(target) {
        return Some(error(StatusCode::FORBIDDEN, "MessageWritesBlocked", "Bot is not allowed to send messages"));
    }
    None
}

fn record(shared: &Shared, kind: &'static str, conversation: &str, id: Option<&str>, body: Value) -> String {
    let mut inner = lock(shared);
    let activity_id = match (kind, id) {
        ("update", Some(id)) => id.to_owned(),
        _ => {
            inner.next_id += 1;
            format!("1700000000{:03}", inner.next_id)
        }
    };
    if kind != "update" {
        inner.activities.insert(activity_id.clone(), conversation.to_owned());
        inner.created.insert(activity_id.clone(), jiff::Timestamp::now().to_string());
    }
    let reply_to = if kind == "reply" { id.map(str::to_owned) } else { None };
    inner.recorded.push(Recorded {
        kind,
        conversation: conversation.to_owned(),
        activity_id: activity_id.clone(),
        reply_to,
        body,
    });
    activity_id
}

async fn send(
    State((shared, _)): State<AppState>,
    Path(conversation): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(refused) = gate(&shared, &headers, &conversation) {
        return refused;
    }
    let id = record(&shared, "send", &conversation, None, body);
    (StatusCode::CREATED, axum::Json(json!({ "id": id }))).into_response()
}

async fn reply(
    State((shared, _)): State<AppState>,
    Path((conversation, id)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(refused) = gate(&shared, &headers, &conversation) {
        return refused;
    }
    let id = record(&shared, "reply", &conversation, Some(&id), body);
    (StatusCode::CREATED, axum::Json(json!({ "id": id }))).into_response()
}

async fn update(
    State((shared, _)): State<AppState>,
    Path((conversation, id)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(refused) = gate(&shared, &headers, &conversation) {
        return refused;
    }
    if lock(&shared)
        .activities
        .get(&id)
        .is_none_or(|c| !conversation.starts_with(c.split(";messageid=").next().unwrap_or(c)))
    {
        return error(StatusCode::NOT_FOUND, "ActivityNotFoundInConversation", "Unknown activity");
    }
    record(&shared, "update", &conversation, Some(&id), body);
    axum::Json(json!({ "id": id })).into_response()
}

async fn create_conversation(
    State((shared, _)): State<AppState>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let user = body.get("members").and_then(|m| m.get(0)).and_then(|m| m.get("id")).and_then(Value::as_str);
    let Some(user) = user.map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "BadArgument", "members is required");
    };
    if body.get("bot").and_then(|b| b.get("id")).and_then(Value::as_str) != Some(&format!("28:{}", super::APP_ID)) {
        return error(StatusCode::BAD_REQUEST, "BadArgument", "bot id is not this bot");
    }
    if let Some(refused) = gate(&shared, &headers, &user) {
        return refused;
    }
    let conversation = format!("a:1on1-{user}");
    let mut inner = lock(&shared);
    inner.recorded.push(Recorded {
        kind: "create_conversation",
        conversation: conversation.clone(),
        activity_id: String::new(),
        reply_to: None,
        body,
    });
    (StatusCode::CREATED, axum::Json(json!({ "id": conversation }))).into_response()
}
