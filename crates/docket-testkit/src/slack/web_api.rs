//! A fake Slack Web API on loopback: records every call (method, token, body, time) and
//! answers like Slack — `ok: true` with realistic fields (`ts`, `channel`, `view.id`, DM ids
//! `D…`), `ok: false` with Slack's error codes (`invalid_auth`, `channel_not_found`,
//! `message_not_found`, `exchanged_trigger_id`, `user_not_found`, `invalid_blocks`), scripted
//! errors, and scripted 429s with `Retry-After`. Messages are kept as Slack keeps them, so a
//! test reads the current text and blocks of every message after edits. Files are shared as
//! Slack documents it: `files.getUploadURLExternal` (form fields `filename` and `length`) hands
//! out an upload URL and a file id, the bytes are posted to that URL, and
//! `files.completeUploadExternal` (`files` as a JSON list of `{id, title}`, `channel_id`,
//! `thread_ts`) shares them; a file shared unsent, or sent with another length than declared,
//! is `file_not_found`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::FakeSocketMode;

/// How long [`FakeSlack::wait_for`] waits.
const WAIT: Duration = Duration::from_secs(15);

/// The bot token the fake accepts.
pub const BOT_TOKEN: &str = "xoxb-test-token";
/// The bot's user id.
pub const BOT_USER: &str = "U0DOCKET";

/// One recorded call.
#[derive(Clone, Debug)]
pub struct Call {
    /// `chat.postMessage`.
    pub method: String,
    /// The bearer token presented.
    pub token: Option<String>,
    /// The body: JSON as sent, or form fields as a JSON object of strings.
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
    /// The HTTP status the fake answered.
    pub status: u16,
    /// Slack's `error`, when it answered `ok: false`.
    pub error: Option<String>,
}

/// A message as Slack keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Channel id (`D…` for DMs).
    pub channel: String,
    /// Its timestamp.
    pub ts: String,
    /// The parent's ts, for a thread reply.
    pub thread_ts: Option<String>,
    /// The current fallback text.
    pub text: String,
    /// The current blocks.
    pub blocks: Value,
    /// How many times it was edited.
    pub edits: usize,
    /// Its metadata (`event_type`, `event_payload`), as posted.
    pub metadata: Option<Value>,
}

/// A file shared in a channel, as uploaded.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedFile {
    /// Its id (`F…`).
    pub id: String,
    /// The file name given to `files.getUploadURLExternal`.
    pub filename: String,
    /// Its title.
    pub title: Option<String>,
    /// The channel it was shared in.
    pub channel: Option<String>,
    /// The thread it was shared in.
    pub thread_ts: Option<String>,
    /// Its bytes.
    pub content: Vec<u8>,
}

/// An upload URL handed out: the file's name, its declared length, the bytes once sent.
#[derive(Debug)]
struct Pending {
    filename: String,
    length: usize,
    content: Option<Vec<u8>>,
}

#[derive(Default)]
struct State {
    /// The fake's own address, for upload URLs.
    addr: String,
    uploads: HashMap<String, Pending>,
    files: Vec<SharedFile>,
    next_file: u64,
    calls: Vec<Call>,
    messages: Vec<Message>,
    /// The last timestamp handed out, in microseconds since the epoch.
    last_ts: u64,
    next_view: u64,
    triggers_used: HashSet<String>,
    emails: HashMap<String, String>,
    missing_channels: HashSet<String>,
    rate_limits: HashMap<String, VecDeque<u64>>,
    failures: HashMap<String, VecDeque<String>>,
    /// Methods whose calls wait, unanswered, until they are released.
    held: HashSet<String>,
    socket: Option<FakeSocketMode>,
}

struct Inner {
    state: Mutex<State>,
    /// Told when held methods are released.
    released: tokio::sync::Notify,
    addr: SocketAddr,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            task.abort();
        }
    }
}

/// The fake Web API (cheap to clone; stops when the last clone is dropped).
#[derive(Clone)]
pub struct FakeSlack {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FakeSlack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSlack").field("addr", &self.inner.addr).finish_non_exhaustive()
    }
}

impl FakeSlack {
    /// Starts the fake on a loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port for the fake Slack");
        let addr = listener.local_addr().expect("the fake Slack's address");
        let state = State { addr: addr.to_string(), ..State::default() };
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            released: tokio::sync::Notify::new(),
            addr,
            task: Mutex::new(None),
        });
        let router = axum::Router::new()
            .route("/api/{method}", axum::routing::post(handle))
            .route("/upload/{file}", axum::routing::post(upload))
            .with_state(Arc::downgrade(&inner));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        *inner.task.lock().expect("the task slot") = Some(task);
        Self { inner }
    }

    /// The Web API base URL (`slack.api_url`).
    pub fn url(&self) -> String {
        format!("http://{}/api", self.inner.addr)
    }

    /// Hands out the Socket Mode fake's URLs from `apps.connections.open`.
    pub fn with_socket(&self, socket: FakeSocketMode) {
        self.state().socket = Some(socket);
    }

    /// `users.info` answers `email` for `user`, and `users.lookupByEmail` finds `user` by it.
    pub fn user(&self, user: &str, email: &str) {
        self.state().emails.insert(user.to_owned(), email.to_owned());
    }

    /// Posting to `channel` fails with `channel_not_found`.
    pub fn missing_channel(&self, channel: &str) {
        self.state().missing_channels.insert(channel.to_owned());
    }

    /// The next `times` calls to `method` get HTTP 429 with `Retry-After: seconds`.
    pub fn rate_limit(&self, method: &str, times: usize, seconds: u64) {
        let mut state = self.state();
        let queue = state.rate_limits.entry(method.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(seconds, times));
    }

    /// The next call to `method` answers `ok: false` with `error`.
    pub fn fail(&self, method: &str, error: &str) {
        self.state().failures.entry(method.to_owned()).or_default().push_back(error.to_owned());
    }

    /// Calls to `method` wait, unanswered (and not yet recorded), until [`FakeSlack::release`].
    pub fn hold(&self, method: &str) {
        self.state().held.insert(method.to_owned());
    }

    /// Answers the calls to `method` that wait, and every later one at once.
    pub fn release(&self, method: &str) {
        self.state().held.remove(method);
        self.inner.released.notify_waiters();
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// Calls to `method` so far.
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.state().calls.iter().filter(|c| c.method == method).cloned().collect()
    }

    /// Every file shared, in order.
    pub fn files(&self) -> Vec<SharedFile> {
        self.state().files.clone()
    }

    /// Every message, in posting order, as it is now.
    pub fn messages(&self) -> Vec<Message> {
        self.state().messages.clone()
    }

    /// Waits until `check` holds for the calls so far; panics after 15 s with the calls.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        let deadline = Instant::now() + WAIT;
        loop {
            let calls = self.calls();
            if check(&calls) {
                return calls;
            }
            if Instant::now() > deadline {
                let names: Vec<String> =
                    calls.iter().map(|c| format!("{} {}", c.method, c.error.as_deref().unwrap_or("ok"))).collect();
                panic!("the fake Slack never saw {what}; calls: {names:#?}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until some message satisfies `check`, and returns it.
    pub async fn wait_for_message(&self, what: &str, check: impl Fn(&Message) -> bool) -> Message {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(m) = self.messages().into_iter().find(|m| check(m)) {
                return m;
            }
            if Instant::now() > deadline {
                let texts: Vec<String> =
                    self.messages().iter().map(|m| format!("{} {}: {}", m.channel, m.ts, m.text)).collect();
                panic!("no message is {what}; messages: {texts:#?}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn handle(
    AxumState(inner): AxumState<std::sync::Weak<Inner>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(inner) = inner.upgrade() else { return StatusCode::SERVICE_UNAVAILABLE.into_response() };
    loop {
        // Made before the look, so a release between the two is not missed.
        let released = inner.released.notified();
        if !inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).held.contains(&method) {
            break;
        }
        released.await;
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body: Value = if form {
        Value::Object(
            form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect(),
        )
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let mut state = inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (status, answer, retry_after) = respond(&mut state, &method, token.as_deref(), &body);
    let error = answer.get("error").and_then(Value::as_str).map(str::to_owned);
    state.calls.push(Call { method, token, body, at: Instant::now(), status: status.as_u16(), error });
    drop(state);
    let mut response = (status, axum::Json(answer)).into_response();
    if let Some(seconds) = retry_after {
        response.headers_mut().insert("retry-after", seconds.to_string().parse().expect("a header value"));
    }
    response
}

/// The upload URL: takes the bytes of a file handed out by `files.getUploadURLExternal`.
async fn upload(
    AxumState(inner): AxumState<std::sync::Weak<Inner>>,
    Path(file): Path<String>,
    body: Bytes,
) -> Response {
    let Some(inner) = inner.upgrade() else { return StatusCode::SERVICE_UNAVAILABLE.into_response() };
    let mut state = inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match state.uploads.get_mut(&file) {
        Some(pending) => {
            let length = body.len();
            pending.content = Some(body.to_vec());
            (StatusCode::OK, format!("OK - {length}")).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `files.getUploadURLExternal` and `files.completeUploadExternal`.
fn files(state: &mut State, method: &str, body: &Value) -> (StatusCode, Value, Option<u64>) {
    let fail = |error: &str| (StatusCode::OK, json!({ "ok": false, "error": error }), None);
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    if method == "files.getUploadURLExternal" {
        let (Some(filename), Some(length)) = (text("filename"), text("length")) else {
            return fail("invalid_arguments");
        };
        let Ok(length) = length.parse::<usize>() else { return fail("invalid_arguments") };
        state.next_file += 1;
        let id = format!("F{:08}", state.next_file);
        state.uploads.insert(id.clone(), Pending { filename, length, content: None });
        let url = format!("http://{}/upload/{id}", state.addr);
        return (StatusCode::OK, json!({ "ok": true, "upload_url": url, "file_id": id }), None);
    }
    let Some(list) = text("files").and_then(|f| serde_json::from_str::<Vec<Value>>(&f).ok()) else {
        return fail("invalid_arguments");
    };
    let channel = text("channel_id");
    if channel.as_ref().is_some_and(|c| state.missing_channels.contains(c)) {
        return fail("channel_not_found");
    }
    let mut shared = Vec::new();
    for entry in &list {
        let id = entry.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let sent = state.uploads.get(&id).filter(|p| p.content.as_ref().is_some_and(|c| c.len() == p.length));
        let Some(pending) = sent else { return fail("file_not_found") };
        let title = entry.get("title").and_then(Value::as_str).map(str::to_owned);
        shared.push(SharedFile {
            id: id.clone(),
            filename: pending.filename.clone(),
            title,
            channel: channel.clone(),
            thread_ts: text("thread_ts"),
            content: pending.content.clone().unwrap_or_default(),
        });
    }
    for file in &shared {
        state.uploads.remove(&file.id);
    }
    let answer: Vec<Value> = shared.iter().map(|f| json!({ "id": f.id, "title": f.title })).collect();
    state.files.extend(shared);
    (StatusCode::OK, json!({ "ok": true, "files": answer }), None)
}

fn respond(state: &mut State, method: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value, Option<u64>) {
    if let Some(seconds) = state.rate_limits.get_mut(method).and_then(VecDeque::pop_front) {
        return (StatusCode::TOO_MANY_REQUESTS, json!({ "ok": false, "error": "ratelimited" }), Some(seconds));
    }
    let fail = |error: &str| (StatusCode::OK, json!({ "ok": false, "error": error }), None);
    let ok = |value: Value| (StatusCode::OK, value, None);
    if method == "apps.connections.open" {
        return match &state.socket {
            Some(socket) => ok(json!({ "ok": true, "url": socket.url() })),
            None => fail("not_allowed_token_type"),
        };
    }
    if token != Some(BOT_TOKEN) {
        return fail(if token.is_none() { "not_authed" } else { "invalid_auth" });
    }
    if let Some(error) = state.failures.get_mut(method).and_then(VecDeque::pop_front) {
        return fail(&error);
    }
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    match method {
        "auth.test" => ok(json!({ "ok": true, "user_id": BOT_USER, "bot_id": "B0DOCKET", "team_id": "T0TEAM" })),
        "chat.postMessage" => {
            let Some(channel) = text("channel") else { return fail("channel_not_found") };
            if state.missing_channels.contains(&channel) {
                return fail("channel_not_found");
            }
            if text("text").is_none() && body.get("blocks").is_none() {
                return fail("no_text");
            }
            if body.get("blocks").and_then(Value::as_array).is_some_and(|b| b.len() > 50) {
                return fail("invalid_blocks");
            }
            let ts = next_ts(state);
            let message = Message {
                channel: channel.clone(),
                ts: ts.clone(),
                thread_ts: text("thread_ts"),
                text: text("text").unwrap_or_default(),
                blocks: body.get("blocks").cloned().unwrap_or(json!([])),
                edits: 0,
                metadata: body.get("metadata").filter(|m| m.get("event_type").is_some()).cloned(),
            };
            state.messages.push(message);
            ok(
                json!({ "ok": true, "channel": channel, "ts": ts, "message": { "type": "message", "text": text("text"), "ts": ts, "bot_id": "B0DOCKET" } }),
            )
        }
        "chat.update" => {
            let (Some(channel), Some(ts)) = (text("channel"), text("ts")) else { return fail("message_not_found") };
            if body.get("blocks").and_then(Value::as_array).is_some_and(|b| b.len() > 50) {
                return fail("invalid_blocks");
            }
            let Some(message) = state.messages.iter_mut().find(|m| m.channel == channel && m.ts == ts) else {
                return fail(if channel.starts_with('U') { "channel_not_found" } else { "message_not_found" });
            };
            if let Some(t) = text("text") {
                message.text = t;
            }
            if let Some(blocks) = body.get("blocks") {
                message.blocks = blocks.clone();
            }
            message.edits += 1;
            ok(json!({ "ok": true, "channel": channel, "ts": ts, "text": message.text }))
        }
        "chat.postEphemeral" => {
            if text("channel").is_none() || text("user").is_none() {
                return fail("channel_not_found");
            }
            ok(json!({ "ok": true, "message_ts": next_ts(state) }))
        }
        "conversations.history" | "conversations.replies" => history(state, method, body),
        "conversations.open" => match text("users") {
            Some(user) if user.starts_with('U') => {
                ok(json!({ "ok": true, "channel": { "id": format!("D{}", &user[1..]) } }))
            }
            _ => fail("user_not_found"),
        },
        "views.open" | "views.push" => {
            let Some(trigger) = text("trigger_id") else { return fail("invalid_trigger_id") };
            if !state.triggers_used.insert(trigger) {
                return fail("exchanged_trigger_id");
            }
            let Some(view) = body.get("view").filter(|v| v.is_object()) else { return fail("invalid_arguments") };
            state.next_view += 1;
            let mut view = view.clone();
            view["id"] = json!(format!("V{:08}", state.next_view));
            ok(json!({ "ok": true, "view": view }))
        }
        "views.update" => match body.get("view") {
            Some(view) => ok(json!({ "ok": true, "view": view })),
            None => fail("invalid_arguments"),
        },
        "users.info" => {
            let Some(user) = text("user") else { return fail("user_not_found") };
            match state.emails.get(&user) {
                Some(email) => ok(json!({ "ok": true, "user": { "id": user, "profile": { "email": email } } })),
                None if user.starts_with('U') => ok(json!({ "ok": true, "user": { "id": user, "profile": {} } })),
                None => fail("user_not_found"),
            }
        }
        "users.lookupByEmail" => {
            let Some(email) = text("email") else { return fail("invalid_arguments") };
            match state.emails.iter().find(|(_, e)| **e == email) {
                Some((user, _)) => ok(json!({ "ok": true, "user": { "id": user, "profile": { "email": email } } })),
                None => fail("users_not_found"),
            }
        }
        "files.getUploadURLExternal" | "files.completeUploadExternal" => files(state, method, body),
        _ => fail("unknown_method"),
    }
}

/// `conversations.history` (a channel's top-level messages, newest first) and
/// `conversations.replies` (a thread: its parent, then replies oldest first), from `oldest` on,
/// `limit` per page with an opaque `cursor`, and each message's metadata only with
/// `include_all_metadata`, as Slack answers them.
fn history(state: &State, method: &str, body: &Value) -> (StatusCode, Value, Option<u64>) {
    let field = |key: &str| body.get(key).and_then(Value::as_str);
    let fail = |error: &str| (StatusCode::OK, json!({ "ok": false, "error": error }), None);
    let Some(channel) = field("channel") else { return fail("channel_not_found") };
    if state.missing_channels.contains(channel) {
        return fail("channel_not_found");
    }
    let thread = field("ts");
    if method == "conversations.replies" && thread.is_none() {
        return fail("thread_not_found");
    }
    let oldest = field("oldest").unwrap_or("0");
    let newer = |ts: &str| ts.parse::<f64>().unwrap_or(0.0) >= oldest.parse::<f64>().unwrap_or(0.0);
    let with_metadata = field("include_all_metadata") == Some("true");
    let mut found: Vec<&Message> = state
        .messages
        .iter()
        .filter(|m| m.channel == channel && newer(&m.ts))
        .filter(|m| match thread {
            Some(parent) => m.ts == parent || m.thread_ts.as_deref() == Some(parent),
            None => m.thread_ts.is_none(),
        })
        .collect();
    if thread.is_none() {
        found.reverse();
    }
    let limit = field("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(100).clamp(1, 999);
    let start = field("cursor").and_then(|c| c.strip_prefix("next:")).and_then(|n| n.parse::<usize>().ok());
    let start = start.unwrap_or(0).min(found.len());
    let page = &found[start..found.len().min(start + limit)];
    let has_more = start + page.len() < found.len();
    let messages: Vec<Value> = page
        .iter()
        .map(|m| {
            let mut out = json!({ "type": "message", "ts": m.ts, "text": m.text, "bot_id": "B0DOCKET" });
            if let Some(parent) = &m.thread_ts {
                out["thread_ts"] = json!(parent);
            }
            if let Some(metadata) = m.metadata.as_ref().filter(|_| with_metadata) {
                out["metadata"] = metadata.clone();
            }
            out
        })
        .collect();
    let next = if has_more { format!("next:{}", start + page.len()) } else { String::new() };
    (
        StatusCode::OK,
        json!({ "ok": true, "messages": messages, "has_more": has_more, "response_metadata": { "next_cursor": next } }),
        None,
    )
}

/// A message timestamp as Slack makes them: the time of posting, `seconds.micros`, unique and
/// increasing (a later message never gets an earlier or equal one).
fn next_ts(state: &mut State) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros());
    state.last_ts = u64::try_from(now).unwrap_or(u64::MAX).max(state.last_ts + 1);
    format!("{}.{:06}", state.last_ts / 1_000_000, state.last_ts % 1_000_000)
}
