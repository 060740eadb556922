//! A fake ServiceNow instance for end-to-end tests: the Table API on `change_request` and
//! `incident` (create, patch, get by `sys_id`, list by an encoded `sysparm_query`), records
//! with 32-hex `sys_id`s, `CHG`/`INC` numbers, the change model's states (a state outside it
//! is refused), `work_notes` kept as journal entries, the `approval` field, Basic auth or OAuth
//! tokens from `/oauth_token.do` (`servicenow_oauth`), and scripted outages: 503s, 429s with `Retry-After`, and a record created whose answer is lost.
//! `callback` builds what Docket's business rule posts to `/servicenow/callback`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::servicenow_oauth::OAuth;

/// The integration user.
pub const USERNAME: &str = "docket";
/// Its password.
pub const PASSWORD: &str = "fake-servicenow-password";
/// The change model's states a change request may be in.
pub const CHANGE_STATES: [&str; 8] = ["-5", "-4", "-3", "-2", "-1", "0", "3", "4"];
/// An incident's states.
pub const INCIDENT_STATES: [&str; 8] = ["1", "2", "3", "6", "7", "8", "-1", "-2"];

/// A record as the fake keeps it.
#[derive(Clone, Debug)]
pub struct Record {
    /// Its table.
    pub table: String,
    /// Its fields (`sys_id`, `number`, `state`, `approval`, …).
    pub fields: Map<String, Value>,
    /// Work notes, in order: (journal `sys_id`, author, text).
    pub work_notes: Vec<(String, String, String)>,
    /// The states it went through, the first included.
    pub states: Vec<String>,
}

impl Record {
    /// A field's text.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).and_then(Value::as_str).unwrap_or_default()
    }
}

#[derive(Default)]
struct Inner {
    records: Vec<Record>,
    next: u64,
    calls: Vec<String>,
    down: bool,
    /// Every update (PATCH) answers 503 while set; reads and creates go on.
    updates_down: bool,
    rate_limited: u32,
    lose_next_create: bool,
    oauth: OAuth,
}

type Shared = Arc<Mutex<Inner>>;

/// The fake, serving on loopback until dropped.
pub struct FakeServiceNow {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServiceNow {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl std::fmt::Debug for FakeServiceNow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServiceNow").field("url", &self.url).finish_non_exhaustive()
    }
}

impl FakeServiceNow {
    /// Starts the fake.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let shared: Shared = Arc::new(Mutex::new(Inner { next: 30_000, ..Inner::default() }));
        let router = Router::new()
            .route("/api/now/table/{table}", get(list).post(create))
            .route("/api/now/table/{table}/{sys_id}", get(read).patch(patch))
            .route("/oauth_token.do", post(token))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, shared, server }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.lock().expect("the fake's lock")
    }

    /// Every record, in creation order.
    pub fn records(&self) -> Vec<Record> {
        self.lock().records.clone()
    }

    /// Every call received, as `METHOD /path`.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Takes the instance down (every call answers 503) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// Makes every update (PATCH) answer 503 while reads and creates go on, or stops that.
    pub fn set_updates_down(&self, down: bool) {
        self.lock().updates_down = down;
    }

    /// The next `n` calls answer 429 with `Retry-After: 1`.
    pub fn rate_limit(&self, n: u32) {
        self.lock().rate_limited = n;
    }

    /// Refuses Basic auth at the Table API: only OAuth tokens are accepted.
    pub fn require_oauth(&self) {
        self.lock().oauth.only = true;
    }

    /// How long the tokens issued from now on live.
    pub fn set_token_lifetime(&self, lifetime: std::time::Duration) {
        self.lock().oauth.lifetime = lifetime;
    }

    /// Ends every token issued so far (as a revocation, or a clock that ran ahead).
    pub fn expire_tokens(&self) {
        self.lock().oauth.expire_all();
    }

    /// The `grant_type` of every token request, in order.
    pub fn token_requests(&self) -> Vec<String> {
        self.lock().oauth.grants.clone()
    }

    /// How many Table API calls were refused for their bearer token.
    pub fn refused_tokens(&self) -> u32 {
        self.lock().oauth.refused
    }

    /// The next record is created, but its answer is a 502.
    pub fn lose_next_create(&self) {
        self.lock().lose_next_create = true;
    }

    /// `user` writes a work note on the record; returns what Docket's business rule posts for
    /// it: `{event: "comment", sys_id, number, journal_id, author, email, text}`.
    pub fn user_work_note(&self, sys_id: &str, user: &str, email: Option<&str>, text: &str) -> Value {
        let mut inner = self.lock();
        let journal = sys_id_of(&mut inner);
        let record = inner.records.iter_mut().find(|r| r.field("sys_id") == sys_id).expect("the record exists");
        record.work_notes.push((journal.clone(), user.to_owned(), text.to_owned()));
        json!({"event": "comment", "table": record.table, "sys_id": sys_id, "number": record.field("number"),
            "journal_id": journal, "author": user, "email": email, "text": text})
    }
}

impl FakeServiceNow {
    /// `user` approves the record (its `approval` field becomes `approved`); returns what
    /// Docket's business rule on `sysapproval_approver` posts: `{event: "approval", sys_id,
    /// number, approver, email, state: "approved"}`.
    pub fn user_approval(&self, sys_id: &str, user: &str, email: Option<&str>) -> Value {
        self.user_decision(sys_id, user, email, "approved")
    }

    /// `user` rejects the record (its `approval` field becomes `rejected`); returns what the
    /// business rule posts, with `state: "rejected"`.
    pub fn user_rejection(&self, sys_id: &str, user: &str, email: Option<&str>) -> Value {
        self.user_decision(sys_id, user, email, "rejected")
    }

    fn user_decision(&self, sys_id: &str, user: &str, email: Option<&str>, state: &str) -> Value {
        let mut inner = self.lock();
        let record = inner.records.iter_mut().find(|r| r.field("sys_id") == sys_id).expect("the record exists");
        record.fields.insert("approval".to_owned(), Value::String(state.to_owned()));
        json!({"event": "approval", "table": record.table, "sys_id": sys_id, "number": record.field("number"),
            "approver": user, "email": email, "state": state})
    }
}

fn sys_id_of(inner: &mut Inner) -> String {
    inner.next += 1;
    format!("{:032x}", inner.next.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn failure(status: StatusCode, message: &str, detail: &str) -> Response {
    (status, axum::Json(json!({"error": {"message": message, "detail": detail}, "status": "failure"}))).into_response()
}

/// `Some` refusal, or `None` to go on.
fn gate(shared: &Shared, headers: &HeaderMap, call: String) -> Option<Response> {
    let mut inner = shared.lock().expect("the fake's lock");
    inner.calls.push(call);
    if inner.down {
        return Some(failure(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable", "The instance is hibernating"));
    }
    if inner.rate_limited > 0 {
        inner.rate_limited -= 1;
        let mut response = failure(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded", "Try again later");
        response.headers_mut().insert("retry-after", "1".parse().expect("a header value"));
        return Some(response);
    }
    if inner.oauth.admits(headers) {
        None
    } else {
        Some(failure(StatusCode::UNAUTHORIZED, "User Not Authenticated", "Required to provide Auth information"))
    }
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let mut inner = shared.lock().expect("the fake's lock");
    inner.calls.push("POST /oauth_token.do".to_owned());
    if inner.down {
        return failure(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable", "The instance is hibernating");
    }
    inner.oauth.token(&headers, &body)
}

fn known_table(table: &str) -> Option<Response> {
    if table == "change_request" || table == "incident" {
        None
    } else {
        Some(failure(StatusCode::BAD_REQUEST, "Invalid table", &format!("Invalid table {table}")))
    }
}

/// The record as the Table API returns it (`work_notes` reads back empty: journal fields are
/// write-only there), with only `fields` if asked.
fn shown(record: &Record, fields: Option<&String>) -> Value {
    let mut out = record.fields.clone();
    out.insert("work_notes".to_owned(), Value::String(String::new()));
    if let Some(wanted) = fields {
        let wanted: Vec<&str> = wanted.split(',').collect();
        out.retain(|k, _| wanted.contains(&k.as_str()));
    }
    Value::Object(out)
}

async fn list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(table): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("GET /api/now/table/{table}")) {
        return r;
    }
    if let Some(r) = known_table(&table) {
        return r;
    }
    // Encoded query: `field=value` terms joined by `^`; `ORDERBY…` terms order (creation order
    // here already).
    let terms: Vec<(String, String)> = q
        .get("sysparm_query")
        .map(String::as_str)
        .unwrap_or_default()
        .split('^')
        .filter(|t| !t.is_empty() && !t.starts_with("ORDERBY"))
        .filter_map(|t| t.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let limit = q.get("sysparm_limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(10_000);
    let inner = shared.lock().expect("the fake's lock");
    let found: Vec<Value> = inner
        .records
        .iter()
        .filter(|r| r.table == table && terms.iter().all(|(k, v)| r.field(k) == v))
        .take(limit)
        .map(|r| shown(r, q.get("sysparm_fields")))
        .collect();
    axum::Json(json!({"result": found})).into_response()
}

fn valid_state(table: &str, state: &str) -> bool {
    if table == "change_request" { CHANGE_STATES.contains(&state) } else { INCIDENT_STATES.contains(&state) }
}

async fn create(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(table): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("POST /api/now/table/{table}")) {
        return r;
    }
    if let Some(r) = known_table(&table) {
        return r;
    }
    let Value::Object(given) = body else {
        return failure(StatusCode::BAD_REQUEST, "Exception while reading request", "The payload is not valid JSON.");
    };
    let mut inner = shared.lock().expect("the fake's lock");
    let sys_id = sys_id_of(&mut inner);
    let count = inner.records.iter().filter(|r| r.table == table).count();
    let (prefix, state, approval) =
        if table == "change_request" { ("CHG", "-5", "requested") } else { ("INC", "1", "not requested") };
    let mut fields = Map::new();
    for (k, v) in [
        ("sys_id", sys_id.clone()),
        ("number", format!("{prefix}{:07}", 30_001 + count)),
        ("state", state.to_owned()),
        ("approval", approval.to_owned()),
        ("sys_created_on", "2026-12-06 10:00:00".to_owned()),
        ("sys_created_by", USERNAME.to_owned()),
    ] {
        fields.insert(k.to_owned(), Value::String(v));
    }
    let mut notes = Vec::new();
    for (k, v) in given {
        if k == "work_notes" {
            notes.push((sys_id_of(&mut inner), USERNAME.to_owned(), v.as_str().unwrap_or_default().to_owned()));
        } else if !["sys_id", "number", "sys_created_on", "sys_created_by"].contains(&k.as_str()) {
            fields.insert(k, v);
        }
    }
    let record = Record {
        table,
        states: vec![fields["state"].as_str().unwrap_or_default().to_owned()],
        fields,
        work_notes: notes,
    };
    let answer = shown(&record, None);
    inner.records.push(record);
    if std::mem::take(&mut inner.lose_next_create) {
        return failure(StatusCode::BAD_GATEWAY, "Bad Gateway", "upstream connection reset");
    }
    (StatusCode::CREATED, axum::Json(json!({"result": answer}))).into_response()
}

fn no_record() -> Response {
    failure(StatusCode::NOT_FOUND, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
}

async fn read(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((table, sys_id)): Path<(String, String)>,
) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("GET /api/now/table/{table}/{sys_id}")) {
        return r;
    }
    let inner = shared.lock().expect("the fake's lock");
    match inner.records.iter().find(|r| r.table == table && r.field("sys_id") == sys_id) {
        Some(record) => axum::Json(json!({"result": shown(record, None)})).into_response(),
        None => no_record(),
    }
}

async fn patch(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((table, sys_id)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(r) = gate(&shared, &headers, format!("PATCH /api/now/table/{table}/{sys_id}")) {
        return r;
    }
    if shared.lock().expect("the fake's lock").updates_down {
        return failure(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable", "The instance is hibernating");
    }
    let Value::Object(given) = body else {
        return failure(StatusCode::BAD_REQUEST, "Exception while reading request", "The payload is not valid JSON.");
    };
    if let Some(state) = given.get("state").and_then(Value::as_str)
        && !valid_state(&table, state)
    {
        return failure(StatusCode::BAD_REQUEST, "Invalid state", &format!("{state} is not a state of {table}"));
    }
    let mut inner = shared.lock().expect("the fake's lock");
    let journal = sys_id_of(&mut inner);
    let Some(record) = inner.records.iter_mut().find(|r| r.table == table && r.field("sys_id") == sys_id) else {
        return no_record();
    };
    for (k, v) in given {
        match k.as_str() {
            "work_notes" => record.work_notes.push((
                journal.clone(),
                USERNAME.to_owned(),
                v.as_str().unwrap_or_default().to_owned(),
            )),
            "sys_id" | "number" => {}
            "state" => {
                let state = v.as_str().unwrap_or_default().to_owned();
                if record.states.last() != Some(&state) {
                    record.states.push(state);
                }
                record.fields.insert(k, v);
            }
            _ => {
                record.fields.insert(k, v);
            }
        }
    }
    axum::Json(json!({"result": shown(record, None)})).into_response()
}
