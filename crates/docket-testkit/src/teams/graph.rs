//! The fake's Microsoft Graph: an app-only token per tenant (`/graph-login/{tenant}/oauth2/v2.0/
//! token`, scope `https://graph.microsoft.com/.default`) and the message lists Graph gives an app
//! with resource-specific consent — a channel's posts, a post's replies, a chat's messages —
//! built from what the fake connector recorded, newest first, paged with `@odata.nextLink`.
//! [`super::FakeBotFramework::refuse_graph`] makes the lists answer as without consent.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{APP_ID, APP_PASSWORD, AppState, Recorded, Shared, TENANT, lock};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/graph-login/{tenant}/oauth2/v2.0/token", post(token))
        .route("/graph/v1.0/teams/{team}/channels/{channel}/messages", get(channel_messages))
        .route("/graph/v1.0/teams/{team}/channels/{channel}/messages/{id}/replies", get(replies))
        .route("/graph/v1.0/chats/{chat}/messages", get(chat_messages))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

async fn token(State((shared, _)): State<AppState>, Path(tenant): Path<String>, body: String) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let field = |k: &str| form.get(k).map(String::as_str);
    if tenant != TENANT
        || field("grant_type") != Some("client_credentials")
        || field("client_id") != Some(APP_ID)
        || field("client_secret") != Some(APP_PASSWORD)
        || field("scope") != Some("https://graph.microsoft.com/.default")
    {
        let error =
            json!({ "error": "invalid_request", "error_description": "AADSTS90002: wrong tenant, client or scope" });
        return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
    }
    let mut inner = lock(&shared);
    let token = format!("fake-graph-token-{}", inner.graph_tokens.len() + 1);
    inner.graph_tokens.push(token.clone());
    axum::Json(json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": token })).into_response()
}

/// Where a recorded post is: its conversation without `;messageid=`, and the post it replies to.
fn whereabouts(r: &Recorded) -> (&str, Option<&str>) {
    let (base, thread) = match r.conversation.split_once(";messageid=") {
        Some((base, id)) => (base, Some(id)),
        None => (r.conversation.as_str(), None),
    };
    (base, r.reply_to.as_deref().or(thread))
}

/// Checks the token and consent, and records the request; `None` means go on.
fn gate(shared: &Shared, headers: &HeaderMap, path: String) -> Option<Response> {
    let mut inner = lock(shared);
    inner.graph_requests.push(path);
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !inner.graph_tokens.iter().any(|t| Some(t.as_str()) == token) {
        return Some(error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty or invalid"));
    }
    if let Some(status) = inner.graph_refusal {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
        return Some(error(status, "Forbidden", "Missing role permissions on the request."));
    }
    None
}

/// The posts `pick` keeps, newest first, as Graph shows them, one page from `$skiptoken`; the
/// request to `path` is recorded and refused first when [`gate`] says so.
fn list(
    shared: &Shared,
    url: &str,
    headers: &HeaderMap,
    path: String,
    query: &HashMap<String, String>,
    pick: impl Fn(&str, Option<&str>) -> bool,
) -> Response {
    if let Some(refused) = gate(shared, headers, path.clone()) {
        return refused;
    }
    let inner = lock(shared);
    let mut posts: Vec<Value> = inner
        .recorded
        .iter()
        .filter(|r| matches!(r.kind, "send" | "reply"))
        .filter(|r| {
            let (base, parent) = whereabouts(r);
            pick(base, parent)
        })
        .map(|r| {
            let latest = inner.recorded.iter().rev().find(|u| u.kind == "update" && u.activity_id == r.activity_id);
            let created = inner.created.get(&r.activity_id).cloned().unwrap_or_default();
            message(r, latest.map_or(&r.body, |u| &u.body), &created)
        })
        .collect();
    posts.reverse();
    let top: usize = query.get("$top").and_then(|t| t.parse().ok()).unwrap_or(20).clamp(1, 50);
    let skip: usize = query.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = posts.iter().skip(skip).take(top).cloned().collect();
    let mut answer = json!({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#messages", "value": page });
    if skip + top < posts.len() {
        answer["@odata.nextLink"] = json!(format!("{url}{path}?$top={top}&$skiptoken={}", skip + top));
    }
    axum::Json(answer).into_response()
}

/// A recorded post as a Graph `chatMessage` showing `body` (its latest version).
fn message(r: &Recorded, body: &Value, created: &str) -> Value {
    let cards: Vec<Value> = body
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, a)| {
            json!({ "id": format!("att-{i}"), "contentType": a["contentType"], "contentUrl": null,
                "content": a["content"].to_string(), "name": null, "thumbnailUrl": null })
        })
        .collect();
    let content = match body.get("text").and_then(Value::as_str) {
        Some(text) => format!("<p>{}</p>", escape(text).replace('\n', "<br>")),
        None => cards
            .iter()
            .map(|c| format!("<attachment id=\"{}\"></attachment>", c["id"].as_str().unwrap_or_default()))
            .collect(),
    };
    json!({
        "id": r.activity_id,
        "replyToId": whereabouts(r).1,
        "messageType": "message",
        "createdDateTime": created,
        "lastModifiedDateTime": created,
        "from": { "user": null, "application": { "id": APP_ID, "displayName": "Docket", "applicationIdentityType": "bot" } },
        "body": { "contentType": "html", "content": content },
        "attachments": cards,
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn channel_messages(
    State((shared, url)): State<AppState>,
    Path((team, channel)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/graph/v1.0/teams/{team}/channels/{channel}/messages");
    list(&shared, &url, &headers, path, &query, |base, parent| base == channel && parent.is_none())
}

async fn replies(
    State((shared, url)): State<AppState>,
    Path((team, channel, id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/graph/v1.0/teams/{team}/channels/{channel}/messages/{id}/replies");
    list(&shared, &url, &headers, path, &query, |base, parent| base == channel && parent == Some(id.as_str()))
}

async fn chat_messages(
    State((shared, url)): State<AppState>,
    Path(chat): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/graph/v1.0/chats/{chat}/messages");
    list(&shared, &url, &headers, path, &query, |base, _| base == chat)
}
