//! A fake Jira Cloud (REST v3) for end-to-end tests: issues with labels and ADF descriptions,
//! a workflow whose transitions have ids of their own, comments in ADF, remote links upserted
//! on `globalId`, JQL search at `/rest/api/3/search/jql` (the retired `/search` answers 410),
//! Basic auth with an email and API token, and scripted outages: 503s, 429s with
//! `Retry-After`, and an issue created whose answer is lost.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The bot's account email in the fake.
pub const EMAIL: &str = "docket-bot@example.com";
/// Its API token.
pub const API_TOKEN: &str = "fake-jira-api-token";
/// The project issues are created in.
pub const PROJECT: &str = "OPS";
/// The account id Docket's own comments are written as.
pub const BOT_ACCOUNT: &str = "557058:docket-bot";
/// The statuses of the fake's workflow, the first being where an issue starts.
pub const STATUSES: [&str; 8] =
    ["To Do", "Waiting for approval", "Approved", "In Progress", "Done", "Failed", "Rejected", "Cancelled"];

/// An issue as the fake keeps it.
#[derive(Clone, Debug)]
pub struct Issue {
    /// Numeric id.
    pub id: String,
    /// `OPS-1`.
    pub key: String,
    /// Its summary.
    pub summary: String,
    /// Its ADF description.
    pub description: Value,
    /// Its labels.
    pub labels: Vec<String>,
    /// Its status.
    pub status: String,
    /// Its comments: (id, ADF body), in order.
    pub comments: Vec<(String, Value)>,
    /// Its comments' properties: comment id → (key → value), as set when they were created.
    pub comment_properties: BTreeMap<String, BTreeMap<String, Value>>,
    /// Its remote links by `globalId`: (id, the object).
    pub links: BTreeMap<String, (u64, Value)>,
    /// Statuses it went through, in order, the first included.
    pub history: Vec<String>,
}

#[derive(Default)]
struct Inner {
    issues: Vec<Issue>,
    next: u64,
    calls: Vec<String>,
    down: bool,
    rate_limited: u32,
    lose_next_create: bool,
    lose_next_comment: bool,
}

type Shared = Arc<Mutex<Inner>>;

/// The fake, serving on loopback until dropped.
pub struct FakeJira {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeJira {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl std::fmt::Debug for FakeJira {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeJira").field("url", &self.url).finish_non_exhaustive()
    }
}

impl FakeJira {
    /// Starts the fake.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let shared: Shared = Arc::new(Mutex::new(Inner { next: 10_000, ..Inner::default() }));
        let router = Router::new()
            .route("/rest/api/3/search", get(|| async { gone() }))
            .route("/rest/api/3/search/jql", get(search))
            .route("/rest/api/3/myself", get(myself))
            .route("/rest/api/3/issue", post(create))
            .route("/rest/api/3/issue/{key}", get(issue))
            .route("/rest/api/3/issue/{key}/transitions", get(transitions).post(transition))
            .route("/rest/api/3/issue/{key}/comment", get(comments).post(comment))
            .route("/rest/api/3/issue/{key}/remotelink", get(links).post(link))
            .route("/rest/api/3/comment/{id}/properties/{property}", get(comment_property))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, shared, server }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.lock().expect("the fake's lock")
    }

    /// Every issue, in creation order.
    pub fn issues(&self) -> Vec<Issue> {
        self.lock().issues.clone()
    }

    /// The issue with `key`.
    pub fn issue(&self, key: &str) -> Option<Issue> {
        self.lock().issues.iter().find(|i| i.key == key).cloned()
    }

    /// Every call received, as `METHOD /path`.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Takes the fake down (every call answers 503) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// The next `n` calls answer 429 with `Retry-After: 1`.
    pub fn rate_limit(&self, n: u32) {
        self.lock().rate_limited = n;
    }

    /// The next issue is created, but its answer is a 502, as when the caller dies (or the
    /// connection drops) between Jira's write and the caller's record of it.
    pub fn lose_next_create(&self) {
        self.lock().lose_next_create = true;
    }

    /// The next comment is added, but its answer is a 502 (the caller cannot tell it was).
    pub fn lose_next_comment(&self) {
        self.lock().lose_next_comment = true;
    }

    /// Adds a comment as a Jira user would, and returns the `comment_created` webhook payload
    /// Jira would send for it.
    pub fn user_comment(&self, key: &str, account_id: &str, email: Option<&str>, text: &str) -> Value {
        let mut inner = self.lock();
        inner.next += 1;
        let id = inner.next.to_string();
        let body = adf(text);
        let issue = inner.issues.iter_mut().find(|i| i.key == key).expect("the issue exists");
        issue.comments.push((id.clone(), body));
        json!({
            "timestamp": 1_767_000_000_000_u64,
            "webhookEvent": "comment_created",
            "comment": {
                "id": id,
                "author": {"accountId": account_id, "emailAddress": email, "displayName": account_id},
                "body": text,
                "created": "2026-12-06T10:00:00.000+0000",
            },
            "issue": {"id": issue.id, "key": issue.key, "fields": {"status": {"name": issue.status}}},
        })
    }
}

impl FakeJira {
    /// Moves the issue to `status` as a Jira user would, and returns the `jira:issue_updated`
    /// webhook payload Jira would send for it (with its `changelog`).
    pub fn user_transition(&self, key: &str, account_id: &str, email: Option<&str>, status: &str) -> Value {
        let mut inner = self.lock();
        let issue = inner.issues.iter_mut().find(|i| i.key == key).expect("the issue exists");
        let from = std::mem::replace(&mut issue.status, status.to_owned());
        issue.history.push(status.to_owned());
        json!({
            "timestamp": 1_767_000_000_000_u64,
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": account_id, "emailAddress": email, "displayName": account_id},
            "issue": {"id": issue.id, "key": issue.key, "fields": {"status": {"name": status}}},
            // Each change its own id, as Jira numbers them.
            "changelog": {"id": (10_100 + issue.history.len()).to_string(), "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                "from": "10000", "fromString": from, "to": "10001", "toString": status}]},
        })
    }
}

/// A one-paragraph ADF document.
pub fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

/// The plain text of an ADF document.
pub fn adf_text(doc: &Value) -> String {
    let mut out = Vec::new();
    for para in doc.get("content").and_then(Value::as_array).into_iter().flatten() {
        let words: String = para
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|n| n.get("text").and_then(Value::as_str))
            .collect();
        out.push(words);
    }
    out.join("\n")
}

fn is_adf(value: &Value) -> bool {
    value.get("type").and_then(Value::as_str) == Some("doc")
        && value.get("version").and_then(Value::as_u64) == Some(1)
        && value.get("content").is_some_and(Value::is_array)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"errorMessages": [message], "errors": {}}))).into_response()
}

fn gone() -> Response {
    error(StatusCode::GONE, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.")
}

/// The gate every call passes: records it, then answers as an outage or bad credentials would.
/// `Some` refusal, or `None` to go on.
fn gate(shared: &Shared, headers: &HeaderMap, call: String) -> Option<Response> {
    let mut inner = shared.lock().expect("the fake's lock");
    inner.calls.push(call);
    if inner.down {
        return Some(error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable"));
    }
    if inner.rate_limited > 0 {
        inner.rate_limited -= 1;
        let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.");
        response.headers_mut().insert("retry-after", "1".parse().expect("a header value"));
        return Some(response);
    }
    match super::basic_auth(headers) {
        Some((user, token)) if user == EMAIL && token == API_TOKEN => None,
        _ => Some(error(StatusCode::UNAUTHORIZED, "Client must be authenticated to access this resource.")),
    }
}

fn issue_json(issue: &Issue, base: &str) -> Value {
    json!({"id": issue.id, "key": issue.key, "self": format!("{base}/rest/api/3/issue/{}", issue.id),
        "fields": {"status": {"name": issue.status}, "summary": issue.summary, "labels": issue.labels}})
}

async fn search(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if let Some(r) = gate(&shared, &headers, "GET /rest/api/3/search/jql".to_owned()) {
        return r;
    }
    let jql = q.get("jql").cloned().unwrap_or_default();
    // The JQL Docket writes: project = "OPS" AND labels = "docket-DKT-1" ORDER BY created ASC
    let label = jql.split("labels = \"").nth(1).and_then(|rest| rest.split('"').next()).map(str::to_owned);
    let project = jql.split("project = \"").nth(1).and_then(|rest| rest.split('"').next()).map(str::to_owned);
    let inner = shared.lock().expect("the fake's lock");
    let found: Vec<Value> = inner
        .issues
        .iter()
        .filter(|i| label.as_ref().is_none_or(|l| i.labels.contains(l)))
        .filter(|i| project.as_ref().is_none_or(|p| i.key.starts_with(&format!("{p}-"))))
        .map(|i| issue_json(i, ""))
        .collect();
    axum::Json(json!({"issues": found, "isLast": true})).into_response()
}

async fn create(State(shared): State<Shared>, headers: HeaderMap, axum::Json(body): axum::Json<Value>) -> Response {
    if let Some(r) = gate(&shared, &headers, "POST /rest/api/3/issue".to_owned()) {
        return r;
    }
    let fields = body.get("fields").cloned().unwrap_or_default();
    let project = fields.pointer("/project/key").and_then(Value::as_str);
    let issue_type = fields.pointer("/issuetype/name").and_then(Value::as_str);
    let summary = fields.get("summary").and_then(Value::as_str);
    let description = fields.get("description").cloned().unwrap_or(Value::Null);
    if project != Some(PROJECT) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"errorMessages": [], "errors": {"project": "valid project is required"}})),
        )
            .into_response();
    }
    let (Some(_), Some(summary)) = (issue_type, summary) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"errorMessages": [], "errors": {"summary": "You must specify a summary of the issue."}})),
        )
            .into_response();
    };
    if summary.chars().count() > 255 || summary.contains('\n') {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"errorMessages": [], "errors": {"summary": "Summary must be less than 255 characters and one line."}}))).into_response();
    }
    if !description.is_null() && !is_adf(&description) {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"errorMessages": [], "errors": {"description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}}))).into_response();
    }
    let labels: Vec<String> = fields
        .get("labels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    if labels.iter().any(|l| l.contains(' ')) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"errorMessages": [], "errors": {"labels": "The label can't contain spaces."}})),
        )
            .into_response();
    }
    let mut inner = shared.lock().expect("the fake's lock");
    inner.next += 1;
    let id = inner.next.to_string();
    let key = format!("{PROJECT}-{}", inner.issues.len() + 1);
    let status = STATUSES[0].to_owned();
    inner.issues.push(Issue {
        id: id.clone(),
        key: key.clone(),
        summary: summary.to_owned(),
        description,
        labels,
        status: status.clone(),
        comments: Vec::new(),
        comment_properties: BTreeMap::new(),
        links: BTreeMap::new(),
        history: vec![status],
    });
    if std::mem::take(&mut inner.lose_next_create) {
        return error(StatusCode::BAD_GATEWAY, "upstream connection reset");
    }
    (StatusCode::CREATED, axum::Json(json!({"id": id, "key": key, "self": format!("/rest/api/3/issue/{id}")})))
        .into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Issue does not exist or you do not have permission to see it.")
}

/// The account Docket's token belongs to.
pub const DOCKET_ACCOUNT: &str = "acc-docket";

async fn myself(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&shared, &headers, "GET /rest/api/3/myself".to_owned()) {
        return r;
    }
    axum::Json(
        json!({"accountId": DOCKET_ACCOUNT, "accountType": "atlassian", "displayName": "Docket", "active": true}),
    )
    .into_response()
}

async fn issue(State(shared): State<Shared>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("GET /rest/api/3/issue/{key}")) {
        return r;
    }
    let inner = shared.lock().expect("the fake's lock");
    match inner.issues.iter().find(|i| i.key == key || i.id == key) {
        Some(issue) => axum::Json(issue_json(issue, "")).into_response(),
        None => not_found(),
    }
}

/// Transition ids belong to the workflow: moving to the status at index `n` is transition
/// `11 + 10n` (as Jira numbers a workflow's transitions), open from every other status.
fn transition_id(status: &str) -> Option<String> {
    STATUSES.iter().position(|s| *s == status).map(|n| (11 + 10 * n).to_string())
}

async fn transitions(State(shared): State<Shared>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("GET /rest/api/3/issue/{key}/transitions")) {
        return r;
    }
    let inner = shared.lock().expect("the fake's lock");
    let Some(issue) = inner.issues.iter().find(|i| i.key == key) else { return not_found() };
    let list: Vec<Value> = STATUSES
        .iter()
        .enumerate()
        .filter(|(_, s)| **s != issue.status)
        .map(|(n, s)| {
            json!({"id": transition_id(s), "name": format!("Move to {s}"), "hasScreen": false,
                "to": {"id": (10_000 + n).to_string(), "name": s}})
        })
        .collect();
    axum::Json(json!({"expand": "transitions", "transitions": list})).into_response()
}

async fn transition(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(key): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("POST /rest/api/3/issue/{key}/transitions")) {
        return r;
    }
    let mut inner = shared.lock().expect("the fake's lock");
    let Some(issue) = inner.issues.iter_mut().find(|i| i.key == key) else { return not_found() };
    let wanted = body.pointer("/transition/id").and_then(Value::as_str).unwrap_or_default();
    let target = STATUSES.iter().find(|s| transition_id(s).as_deref() == Some(wanted) && **s != issue.status);
    let Some(target) = target else {
        return error(StatusCode::BAD_REQUEST, "Transition id is not valid for this issue.");
    };
    issue.status = (*target).to_owned();
    issue.history.push((*target).to_owned());
    StatusCode::NO_CONTENT.into_response()
}

/// `orderBy` (`created`, `-created`) and `maxResults` (default 5000) as Jira reads them.
async fn comments(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("GET /rest/api/3/issue/{key}/comment")) {
        return r;
    }
    let inner = shared.lock().expect("the fake's lock");
    let Some(issue) = inner.issues.iter().find(|i| i.key == key) else { return not_found() };
    let mut list: Vec<Value> = issue.comments.iter().map(|(id, body)| json!({"id": id, "body": body})).collect();
    if q.get("orderBy").map(String::as_str) == Some("-created") {
        list.reverse();
    }
    let total = list.len();
    let max = q.get("maxResults").and_then(|m| m.parse::<usize>().ok()).unwrap_or(5000);
    list.truncate(max);
    axum::Json(json!({"startAt": 0, "maxResults": max, "total": total, "comments": list})).into_response()
}

/// `GET /comment/{id}/properties/{key}`: `{key, value}`, or 404.
async fn comment_property(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((id, property)): Path<(String, String)>,
) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("GET /rest/api/3/comment/{id}/properties/{property}")) {
        return r;
    }
    let inner = shared.lock().expect("the fake's lock");
    let value = inner.issues.iter().find_map(|i| i.comment_properties.get(&id)).and_then(|p| p.get(&property));
    match value {
        Some(value) => axum::Json(json!({"key": property, "value": value})).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("The property with key '{property}' does not exist.")),
    }
}

async fn comment(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(key): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("POST /rest/api/3/issue/{key}/comment")) {
        return r;
    }
    let Some(doc) = body.get("body").filter(|b| is_adf(b)).cloned() else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}})),
        )
            .into_response();
    };
    let mut inner = shared.lock().expect("the fake's lock");
    inner.next += 1;
    let id = inner.next.to_string();
    let Some(issue) = inner.issues.iter_mut().find(|i| i.key == key) else { return not_found() };
    issue.comments.push((id.clone(), doc.clone()));
    let properties: BTreeMap<String, Value> = body
        .get("properties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.get("key")?.as_str()?.to_owned(), p.get("value")?.clone())))
        .collect();
    if !properties.is_empty() {
        issue.comment_properties.insert(id.clone(), properties);
    }
    if std::mem::take(&mut inner.lose_next_comment) {
        return error(StatusCode::BAD_GATEWAY, "upstream connection reset");
    }
    let Some(issue) = inner.issues.iter().find(|i| i.key == key) else { return not_found() };
    let answer = json!({"id": id, "self": format!("/rest/api/3/issue/{}/comment/{id}", issue.id),
        "author": {"accountId": BOT_ACCOUNT, "emailAddress": EMAIL}, "body": doc,
        "created": "2026-12-06T10:00:00.000+0000"});
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

async fn links(State(shared): State<Shared>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("GET /rest/api/3/issue/{key}/remotelink")) {
        return r;
    }
    let inner = shared.lock().expect("the fake's lock");
    let Some(issue) = inner.issues.iter().find(|i| i.key == key) else { return not_found() };
    let list: Vec<Value> =
        issue.links.iter().map(|(g, (id, link))| json!({"id": id, "globalId": g, "object": link["object"]})).collect();
    axum::Json(Value::Array(list)).into_response()
}

async fn link(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(key): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("POST /rest/api/3/issue/{key}/remotelink")) {
        return r;
    }
    let url = body.pointer("/object/url").and_then(Value::as_str);
    let title = body.pointer("/object/title").and_then(Value::as_str);
    if url.is_none() || title.is_none() {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"errorMessages": [], "errors": {"object": "url and title are required"}})),
        )
            .into_response();
    }
    let global = body.get("globalId").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut inner = shared.lock().expect("the fake's lock");
    inner.next += 1;
    let fresh = inner.next;
    let Some(issue) = inner.issues.iter_mut().find(|i| i.key == key) else { return not_found() };
    // Upserts on globalId: the same id answers 200 and replaces the link.
    let (status, id) = match issue.links.get(&global).map(|(id, _)| *id) {
        Some(id) if !global.is_empty() => (StatusCode::OK, id),
        _ => (StatusCode::CREATED, fresh),
    };
    let stored_key = if global.is_empty() { format!("link-{id}") } else { global };
    issue.links.insert(stored_key, (id, body));
    (status, axum::Json(json!({"id": id, "self": format!("/rest/api/3/issue/{key}/remotelink/{id}")}))).into_response()
}
