//! A fake Slack Socket Mode server on loopback: hands out single-use `ws://` URLs (Slack's are
//! single-use too), greets each connection with `hello`, pushes envelopes built like Slack's,
//! records every acknowledgement with its payload, and can send `disconnect` with any reason,
//! drop a connection without a close frame, freeze one (no more pongs), repeat an envelope, and
//! refuse connections. It also answers `apps.connections.open` itself ([`FakeSocketMode::api_url`])
//! for tests of the connection alone; the fake Web API delegates that method to
//! [`FakeSocketMode::url`].

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response as WsResponse};

/// How long the `wait_*` methods wait.
const WAIT: Duration = Duration::from_secs(10);

/// How long after a `disconnect` frame the fake closes the connection (Slack: "shortly").
const CLOSE_AFTER_DISCONNECT: Duration = Duration::from_millis(400);

/// The app id the fake reports.
pub const APP_ID: &str = "A0DOCKET";

/// One WebSocket connection the fake accepted.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Numbered from 1 in the order they were accepted.
    pub id: usize,
    /// The URL's ticket.
    pub ticket: String,
    /// When it was accepted.
    pub opened: Instant,
    /// When it closed, if it did.
    pub closed: Option<Instant>,
    /// Pings the client sent on it.
    pub pings: usize,
}

/// An acknowledgement the client sent.
#[derive(Debug, Clone, PartialEq)]
pub struct AckRecord {
    /// The envelope acknowledged.
    pub envelope_id: String,
    /// The connection it came over.
    pub connection: usize,
    /// The acknowledgement's `payload`, if any.
    pub payload: Option<Value>,
}

/// A call to the fake's own `apps.connections.open`.
#[derive(Debug, Clone)]
pub struct OpenCall {
    /// When it came.
    pub at: Instant,
    /// The bearer token it carried.
    pub token: String,
    /// Whether it was answered with a URL.
    pub ok: bool,
}

/// What the fake does on a connection, on a test's request.
#[derive(Debug)]
enum Control {
    Send(String),
    Disconnect(String),
    Drop,
    Freeze,
}

#[derive(Debug, Default)]
struct State {
    tickets_issued: u64,
    unused: HashSet<String>,
    refuse: usize,
    refused: usize,
    open_failures: Vec<(u16, String)>,
    open_calls: Vec<OpenCall>,
    connections: Vec<Connection>,
    controls: HashMap<usize, mpsc::UnboundedSender<Control>>,
    envelopes: HashMap<String, Value>,
    sent: u64,
    acks: Vec<AckRecord>,
    strange: Vec<String>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    changes: watch::Sender<u64>,
    ws_addr: SocketAddr,
    api_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The fake Socket Mode server (cheap to clone; stops when the last clone is dropped).
#[derive(Debug, Clone)]
pub struct FakeSocketMode {
    inner: Arc<Inner>,
}

impl FakeSocketMode {
    /// Starts the fake on two loopback ports (WebSocket, and `apps.connections.open`).
    pub async fn start() -> Self {
        let ws_listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port for the fake WebSocket");
        let api_listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port for the fake API");
        let ws_addr = ws_listener.local_addr().expect("the WebSocket address");
        let api_addr = api_listener.local_addr().expect("the API address");
        let (changes, _) = watch::channel(0);
        let shared = Arc::new_cyclic(|weak: &std::sync::Weak<Inner>| {
            let accept = tokio::spawn(accept_loop(ws_listener, weak.clone()));
            let router = axum::Router::new()
                .route("/api/apps.connections.open", axum::routing::post(open_handler))
                .with_state(weak.clone());
            let api = tokio::spawn(async move {
                let _ = axum::serve(api_listener, router).await;
            });
            Inner { state: Mutex::new(State::default()), changes, ws_addr, api_addr, tasks: vec![accept, api] }
        });
        Self { inner: shared }
    }

    /// The Web API base URL whose `apps.connections.open` hands out this fake's URLs.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.inner.api_addr)
    }

    /// A fresh single-use WebSocket URL (what `apps.connections.open` returns).
    pub fn url(&self) -> String {
        let mut state = self.state();
        state.tickets_issued += 1;
        let ticket = format!("t{}", state.tickets_issued);
        state.unused.insert(ticket.clone());
        format!("ws://{}/link/?ticket={ticket}&app_id={APP_ID}", self.inner.ws_addr)
    }

    /// Refuses the next `n` WebSocket upgrades (HTTP 503).
    pub fn refuse_next(&self, n: usize) {
        self.state().refuse = n;
    }

    /// Upgrades refused so far.
    pub fn refused(&self) -> usize {
        self.state().refused
    }

    /// The next calls to the fake's `apps.connections.open` fail, one per entry: status 200
    /// with `ok:false` and the error, or status 429 with `Retry-After` (the text).
    pub fn fail_open(&self, failures: &[(u16, &str)]) {
        self.state().open_failures = failures.iter().map(|(s, e)| (*s, (*e).to_owned())).collect();
    }

    /// Every call to the fake's `apps.connections.open`.
    pub fn open_calls(&self) -> Vec<OpenCall> {
        self.state().open_calls.clone()
    }

    /// Every connection accepted, open or closed.
    pub fn connections(&self) -> Vec<Connection> {
        self.state().connections.clone()
    }

    /// The ids of the connections open now, oldest first.
    pub fn open(&self) -> Vec<usize> {
        self.state().connections.iter().filter(|c| c.closed.is_none()).map(|c| c.id).collect()
    }

    /// Waits until at least `n` connections are open and returns their ids.
    pub async fn wait_for_open(&self, n: usize) -> Vec<usize> {
        self.wait_until(&format!("{n} open connections"), |s| {
            let open: Vec<usize> = s.connections.iter().filter(|c| c.closed.is_none()).map(|c| c.id).collect();
            (open.len() >= n).then_some(open)
        })
        .await
    }

    /// Waits until connection `id` is closed.
    pub async fn wait_for_close(&self, id: usize) -> Connection {
        self.wait_until(&format!("connection {id} to close"), |s| {
            s.connections.iter().find(|c| c.id == id && c.closed.is_some()).cloned()
        })
        .await
    }

    /// Waits until at least `n` connections were accepted in all, and returns them all.
    pub async fn wait_for_accepted(&self, n: usize) -> Vec<Connection> {
        self.wait_until(&format!("{n} accepted connections"), |s| {
            (s.connections.len() >= n).then(|| s.connections.clone())
        })
        .await
    }

    /// Pushes an envelope on connection `on` (or the newest open one); returns its id.
    pub fn send(&self, on: Option<usize>, kind: &str, payload: Value, accepts_response_payload: bool) -> String {
        let mut state = self.state();
        state.sent += 1;
        let id = format!("{:08x}-fake-4e00-a000-{:012x}", state.sent, state.sent);
        let envelope = json!({
            "envelope_id": id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        });
        state.envelopes.insert(id.clone(), envelope.clone());
        push(&state, on, Control::Send(envelope.to_string()));
        id
    }

    /// Pushes a slash command (`payload`: the command's fields, see [`slash_command`]).
    pub fn slash_command(&self, payload: Value) -> String {
        self.send(None, "slash_commands", payload, true)
    }

    /// Pushes an interactivity payload (`block_actions`, `view_submission`, …).
    pub fn interactive(&self, payload: Value) -> String {
        let accepts = payload.get("type").and_then(Value::as_str) == Some("view_submission");
        self.send(None, "interactive", payload, accepts)
    }

    /// Pushes an Events API body.
    pub fn event(&self, body: Value) -> String {
        self.send(None, "events_api", body, false)
    }

    /// Sends envelope `id` again, as Slack does when an acknowledgement is late, on connection
    /// `on` (or the newest open one), with the next `retry_attempt`.
    pub fn repeat(&self, id: &str, on: Option<usize>) {
        let mut state = self.state();
        let mut envelope = state.envelopes.get(id).cloned().expect("an envelope this fake sent");
        let attempt = envelope.get("retry_attempt").and_then(Value::as_u64).unwrap_or(0) + 1;
        envelope["retry_attempt"] = json!(attempt);
        envelope["retry_reason"] = json!("timeout");
        state.envelopes.insert(id.to_owned(), envelope.clone());
        push(&state, on, Control::Send(envelope.to_string()));
    }

    /// Sends a raw text frame (malformed frames, tests of the parser over the wire).
    pub fn send_raw(&self, on: Option<usize>, text: &str) {
        push(&self.state(), on, Control::Send(text.to_owned()));
    }

    /// Sends `disconnect` with `reason` on connection `on`, and closes it shortly after.
    pub fn disconnect(&self, on: usize, reason: &str) {
        push(&self.state(), Some(on), Control::Disconnect(reason.to_owned()));
    }

    /// Drops connection `on` without a close frame (a network failure).
    pub fn drop_connection(&self, on: usize) {
        push(&self.state(), Some(on), Control::Drop);
    }

    /// Stops reading connection `on`: no more acknowledgements, and no pongs.
    pub fn freeze(&self, on: usize) {
        push(&self.state(), Some(on), Control::Freeze);
    }

    /// Every acknowledgement received, in order.
    pub fn acks(&self) -> Vec<AckRecord> {
        self.state().acks.clone()
    }

    /// The acknowledgements of envelope `id`.
    pub fn acks_of(&self, id: &str) -> Vec<AckRecord> {
        self.state().acks.iter().filter(|a| a.envelope_id == id).cloned().collect()
    }

    /// Waits for the `n`-th acknowledgement of envelope `id` (1 = the first) and returns it.
    pub async fn wait_for_ack_n(&self, id: &str, n: usize) -> AckRecord {
        self.wait_until(&format!("acknowledgement {n} of envelope {id}"), |s| {
            s.acks.iter().filter(|a| a.envelope_id == id).nth(n.saturating_sub(1)).cloned()
        })
        .await
    }

    /// Waits for the first acknowledgement of envelope `id`.
    pub async fn wait_for_ack(&self, id: &str) -> AckRecord {
        self.wait_for_ack_n(id, 1).await
    }

    /// Text frames from the client that were not acknowledgements.
    pub fn strange_frames(&self) -> Vec<String> {
        self.state().strange.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn wait_until<T>(&self, what: &str, mut check: impl FnMut(&State) -> Option<T>) -> T {
        let mut changes = self.inner.changes.subscribe();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(found) = check(&self.state()) {
                return found;
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(remaining, changes.changed()).await.is_err() {
                let state = self.state();
                panic!(
                    "the fake Socket Mode server waited {WAIT:?} for {what}; connections: {:#?}, acks: {:#?}",
                    state.connections, state.acks
                );
            }
        }
    }
}

/// A slash command's fields as Slack sends them (the HTTP form's fields, as JSON).
pub fn slash_command(user_id: &str, channel_id: &str, text: &str) -> Value {
    json!({
        "token": "fake-verification-token",
        "team_id": "T0DOCKET",
        "team_domain": "docket-test",
        "channel_id": channel_id,
        "channel_name": "deploys",
        "user_id": user_id,
        "user_name": user_id.to_lowercase(),
        "command": "/docket",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": format!("https://hooks.slack.com/commands/T0DOCKET/1/{user_id}"),
        "trigger_id": format!("1337.42.{user_id}.{}", text.len()),
    })
}

fn push(state: &State, on: Option<usize>, control: Control) {
    let target = on.or_else(|| state.connections.iter().rev().find(|c| c.closed.is_none()).map(|c| c.id));
    let sender = target.and_then(|id| state.controls.get(&id)).expect("an open connection of the fake");
    sender.send(control).expect("the connection's task is running");
}

fn bump(inner: &Inner) {
    inner.changes.send_modify(|n| *n += 1);
}

fn lock(inner: &Inner) -> MutexGuard<'_, State> {
    inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn open_handler(AxumState(inner): AxumState<std::sync::Weak<Inner>>, headers: HeaderMap) -> Response {
    let Some(inner) = inner.upgrade() else { return StatusCode::SERVICE_UNAVAILABLE.into_response() };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let failure = {
        let mut state = lock(&inner);
        (!state.open_failures.is_empty()).then(|| state.open_failures.remove(0))
    };
    let (answer, ok) = match failure {
        Some((429, retry_after)) => {
            let body = axum::Json(json!({"ok": false, "error": "ratelimited"}));
            ((StatusCode::TOO_MANY_REQUESTS, [("retry-after", retry_after)], body).into_response(), false)
        }
        Some((_, error)) => (axum::Json(json!({"ok": false, "error": error})).into_response(), false),
        None if token.is_empty() => (axum::Json(json!({"ok": false, "error": "not_authed"})).into_response(), false),
        None if !token.starts_with("xapp-") => {
            (axum::Json(json!({"ok": false, "error": "not_allowed_token_type"})).into_response(), false)
        }
        None => {
            let url = FakeSocketMode { inner: inner.clone() }.url();
            (axum::Json(json!({"ok": true, "url": url})).into_response(), true)
        }
    };
    lock(&inner).open_calls.push(OpenCall { at: Instant::now(), token, ok });
    bump(&inner);
    answer
}

async fn accept_loop(listener: TcpListener, inner: std::sync::Weak<Inner>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let Some(strong) = inner.upgrade() else { return };
        tokio::spawn(serve(stream, strong));
    }
}

async fn serve(stream: TcpStream, inner: Arc<Inner>) {
    let mut ticket = String::new();
    #[allow(clippy::result_large_err, reason = "the handshake callback's signature is tungstenite's")]
    let check = |request: &Request, response: WsResponse| -> Result<WsResponse, ErrorResponse> {
        let query = request.uri().query().unwrap_or_default();
        let asked = query.split('&').find_map(|kv| kv.strip_prefix("ticket=")).unwrap_or_default().to_owned();
        let mut state = lock(&inner);
        if state.refuse > 0 {
            state.refuse -= 1;
            state.refused += 1;
            return Err(refusal(StatusCode::SERVICE_UNAVAILABLE));
        }
        if !state.unused.remove(&asked) {
            state.refused += 1;
            return Err(refusal(StatusCode::UNAUTHORIZED));
        }
        ticket = asked;
        Ok(response)
    };
    let accepted = tokio_tungstenite::accept_hdr_async(stream, check).await;
    let Ok(ws) = accepted else {
        bump(&inner);
        return;
    };
    let (control, controls) = mpsc::unbounded_channel();
    let id = {
        let mut state = lock(&inner);
        let id = state.connections.len() + 1;
        state.connections.push(Connection { id, ticket, opened: Instant::now(), closed: None, pings: 0 });
        state.controls.insert(id, control);
        id
    };
    let (mut sink, frames) = ws.split();
    let open_now = lock(&inner).connections.iter().filter(|c| c.closed.is_none()).count();
    let hello = json!({
        "type": "hello",
        "num_connections": open_now,
        "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
        "connection_info": {"app_id": APP_ID},
    });
    let greeted = sink.send(Message::text(hello.to_string())).await.is_ok();
    bump(&inner);
    if greeted {
        talk(id, &inner, sink, frames, controls).await;
    }
    {
        let mut state = lock(&inner);
        state.controls.remove(&id);
        if let Some(c) = state.connections.iter_mut().find(|c| c.id == id) {
            c.closed = Some(Instant::now());
        }
    }
    bump(&inner);
}

type Sink = futures_util::stream::SplitSink<tokio_tungstenite::WebSocketStream<TcpStream>, Message>;
type Frames = futures_util::stream::SplitStream<tokio_tungstenite::WebSocketStream<TcpStream>>;

/// Carries out the test's orders on one connection and records what the client sends, until
/// either side ends it.
async fn talk(
    id: usize,
    inner: &Inner,
    mut sink: Sink,
    mut frames: Frames,
    mut controls: mpsc::UnboundedReceiver<Control>,
) {
    let mut frozen = false;
    let mut close_at: Option<Instant> = None;
    loop {
        let closing = async {
            match close_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            order = controls.recv() => match order {
                None | Some(Control::Drop) => break,
                Some(Control::Freeze) => frozen = true,
                Some(Control::Send(text)) => {
                    if sink.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Control::Disconnect(reason)) => {
                    let frame = json!({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}});
                    if sink.send(Message::text(frame.to_string())).await.is_err() {
                        break;
                    }
                    close_at = Some(Instant::now() + CLOSE_AFTER_DISCONNECT);
                }
            },
            () = closing => {
                let _ = sink.close().await;
                close_at = None;
            }
            frame = frames.next(), if !frozen => match frame {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Text(text))) => record(inner, id, text.as_str()),
                Some(Ok(Message::Ping(_))) => {
                    if let Some(c) = lock(inner).connections.iter_mut().find(|c| c.id == id) {
                        c.pings += 1;
                    }
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

fn refusal(status: StatusCode) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(status.canonical_reason().unwrap_or("refused").to_owned()));
    *response.status_mut() = status;
    response
}

fn record(inner: &Inner, connection: usize, text: &str) {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let envelope_id = parsed.as_ref().and_then(|v| v.get("envelope_id")).and_then(Value::as_str).map(str::to_owned);
    let mut state = lock(inner);
    match envelope_id {
        Some(envelope_id) => {
            let payload = parsed.as_ref().and_then(|v| v.get("payload")).cloned();
            state.acks.push(AckRecord { envelope_id, connection, payload });
        }
        None => state.strange.push(text.to_owned()),
    }
    drop(state);
    bump(inner);
}
