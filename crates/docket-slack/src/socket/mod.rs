//! Socket Mode: Slack delivers slash commands, interactions and events over WebSockets that
//! Docket opens, so no public HTTP endpoint is needed.
//!
//! [`SocketMode::start`] keeps [`SocketSettings::connections`] (two) connections open, each in
//! a slot of its own (`slot`): `apps.connections.open` with the app-level token (`open`), the
//! WebSocket, `hello`, then envelopes (`connection`) handed to an [`EnvelopeHandler`] — the
//! [`crate::Slack`] surface, through the dispatch HTTP mode uses (`handler`) — and acknowledged
//! with the handler's answer. A `disconnect` with `warning` or `refresh_requested` opens the
//! replacement first and retires the old connection once the new one said `hello`; a dropped
//! connection is replaced after a backoff ([`BackoffSettings`]). Envelope ids are remembered in
//! the app's surface state, so an envelope repeated across connections or replicas is handled
//! once and acknowledged every time.

mod connection;
pub mod frame;
mod handler;
mod open;
mod slot;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The shape of the reconnection delays: exponential from `base`, at most `max`, each drawn from
/// the upper half of that (equal jitter), so replicas and both connections do not knock on
/// Slack's door at the same instant. The outbound toolkit's [`docket_app::outbound::Backoff`].
pub use docket_app::outbound::Backoff as BackoffSettings;
pub use frame::{DisconnectReason, Envelope, EnvelopeKind, Frame, Malformed};

/// How Socket Mode connects.
#[derive(Clone)]
pub struct SocketSettings {
    /// The Web API's base URL (`https://slack.com/api`), for `apps.connections.open`.
    pub api_url: String,
    /// The app-level token (`xapp-…`, scope `connections:write`).
    pub app_token: String,
    /// Connections kept open at once (Slack allows up to ten); two, so a refresh or a drop of
    /// one never leaves Docket unreachable.
    pub connections: usize,
    /// Delays between failed attempts.
    pub backoff: BackoffSettings,
    /// How often Docket pings; a connection silent for three intervals is replaced.
    pub ping_interval: Duration,
    /// How long connecting and waiting for `hello` may take.
    pub hello_timeout: Duration,
    /// A connection that lived this long resets the backoff when it drops.
    pub stable_after: Duration,
    /// Envelopes are acknowledged within this time even if handling goes on (Slack waits 3 s).
    pub ack_deadline: Duration,
}

impl SocketSettings {
    /// Slack's defaults.
    pub fn new(api_url: impl Into<String>, app_token: impl Into<String>) -> Self {
        Self {
            api_url: api_url.into(),
            app_token: app_token.into(),
            connections: 2,
            backoff: BackoffSettings::default(),
            ping_interval: Duration::from_secs(10),
            hello_timeout: Duration::from_secs(10),
            stable_after: Duration::from_secs(30),
            ack_deadline: Duration::from_millis(2500),
        }
    }
}

impl std::fmt::Debug for SocketSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketSettings")
            .field("api_url", &self.api_url)
            .field("app_token", &"[redacted]")
            .field("connections", &self.connections)
            .field("backoff", &self.backoff)
            .field("ping_interval", &self.ping_interval)
            .field("hello_timeout", &self.hello_timeout)
            .field("stable_after", &self.stable_after)
            .field("ack_deadline", &self.ack_deadline)
            .finish()
    }
}

/// A failure to connect; the slot waits and tries again.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// The HTTP call to `apps.connections.open` failed.
    #[error("apps.connections.open failed: {0}")]
    Http(String),
    /// Slack answered `ok: false` (`invalid_auth`, `not_allowed_token_type`, …).
    #[error("apps.connections.open: {0}")]
    Slack(String),
    /// Slack asked to wait this long.
    #[error("apps.connections.open is rate limited for {0:?}")]
    RateLimited(Duration),
    /// The WebSocket did not open or did not say `hello`.
    #[error("the WebSocket did not open: {0}")]
    WebSocket(String),
}

/// Why a handler could not answer an envelope.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

/// How a handler took an envelope.
#[derive(Debug, PartialEq)]
pub enum Handled {
    /// Seen for the first time, and handled: the acknowledgement's `payload` (`None` = an
    /// acknowledgement without one).
    Answered(Option<serde_json::Value>),
    /// Seen before (on any connection, by any replica): acknowledged again, not handled.
    Repeat,
    /// Could not be recorded as seen, and nothing was done: left unacknowledged, so Slack sends
    /// it again later.
    Unrecorded(String),
}

/// What Socket Mode hands envelopes to: in Docket, [`crate::Slack`].
#[async_trait::async_trait]
pub trait EnvelopeHandler: Send + Sync + 'static {
    /// Handles an envelope the first time it is seen anywhere, recording its id as seen (with
    /// whatever it changes, where it can). Returns quickly; an error is a refusal, acknowledged
    /// without a payload.
    async fn handle(&self, envelope: Envelope) -> Result<Handled, HandlerError>;

    /// Starts an envelope's handling in the background. It may go on after the envelope is
    /// acknowledged (past the deadline), when Slack will not send it again: in Docket it is work
    /// a clean stop waits for (`App::after_answer`). By default a plain task.
    fn start(&self, handling: Handling) -> tokio::task::JoinHandle<Result<Handled, HandlerError>> {
        tokio::spawn(handling)
    }
}

/// An envelope's handling, to start ([`EnvelopeHandler::start`]).
pub type Handling = futures_util::future::BoxFuture<'static, Result<Handled, HandlerError>>;

/// What the slots share.
struct Shared {
    settings: SocketSettings,
    handler: Arc<dyn EnvelopeHandler>,
    http: reqwest::Client,
    open: AtomicUsize,
}

/// Socket Mode, running until its shutdown token is cancelled.
pub struct SocketMode {
    shared: Arc<Shared>,
    slots: JoinSet<()>,
}

impl std::fmt::Debug for SocketMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketMode")
            .field("settings", &self.shared.settings)
            .field("open", &self.open_connections())
            .finish_non_exhaustive()
    }
}

impl SocketMode {
    /// Starts the connections in the background (on the current Tokio runtime); they stop when
    /// `shutdown` is cancelled.
    pub fn start(settings: SocketSettings, handler: Arc<dyn EnvelopeHandler>, shutdown: CancellationToken) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.hello_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let slots_wanted = settings.connections.max(1);
        let shared = Arc::new(Shared { settings, handler, http, open: AtomicUsize::new(0) });
        let mut slots = JoinSet::new();
        for slot in 0..slots_wanted {
            slots.spawn(slot::run(slot, shared.clone(), shutdown.clone()));
        }
        Self { shared, slots }
    }

    /// Connections that said `hello` and are open now.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::Relaxed)
    }

    /// Waits until every connection closed after the shutdown token was cancelled.
    pub async fn stopped(mut self) {
        while self.slots.join_next().await.is_some() {}
    }
}
