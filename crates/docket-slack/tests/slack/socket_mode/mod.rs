//! Socket Mode against the fake Socket Mode server over real WebSockets on loopback: the
//! connection's life (`connection`: hello, acks, repeats, refreshes, drops, backoff, pings,
//! shutdown) with a recording handler whose de-duplication is the app's surface state, and the
//! whole Slack journey through `Slack::dispatch` (`journey`).

mod connection;
mod journey;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use docket_app::App;
use docket_slack::socket::{BackoffSettings, Envelope, EnvelopeHandler, Handled, HandlerError, SocketSettings};
use serde_json::Value;

/// Settings scaled down for tests: fast backoff, and pings every second (a connection is
/// replaced after three silent intervals, so a slow machine cannot have a healthy one replaced;
/// the test of a silent connection shortens them).
pub(crate) fn quick_settings(api_url: &str) -> SocketSettings {
    let mut settings = SocketSettings::new(api_url, "xapp-1-A0DOCKET-test");
    settings.backoff = BackoffSettings { base: Duration::from_millis(40), max: Duration::from_millis(400) };
    settings.ping_interval = Duration::from_secs(1);
    settings.hello_timeout = Duration::from_secs(2);
    settings.stable_after = Duration::from_secs(60);
    settings
}

/// Records what it handles; answers every envelope with `answer`; de-duplicates envelope ids
/// in the app's surface state exactly as the Slack surface does.
pub(crate) struct Recorder {
    app: App,
    answer: Option<Value>,
    handled: Mutex<Vec<Envelope>>,
    delay: Duration,
}

impl Recorder {
    pub(crate) fn new(app: App, answer: Option<Value>) -> Arc<Self> {
        Arc::new(Self { app, answer, handled: Mutex::new(Vec::new()), delay: Duration::ZERO })
    }

    pub(crate) fn slow(app: App, delay: Duration) -> Arc<Self> {
        Arc::new(Self { app, answer: None, handled: Mutex::new(Vec::new()), delay })
    }

    pub(crate) fn handled(&self) -> Vec<Envelope> {
        self.handled.lock().unwrap().clone()
    }

    pub(crate) fn handled_ids(&self) -> Vec<String> {
        self.handled().into_iter().map(|e| e.id).collect()
    }
}

#[async_trait::async_trait]
impl EnvelopeHandler for Recorder {
    async fn handle(&self, envelope: Envelope) -> Result<Handled, HandlerError> {
        match self.app.remember_first("slack", &format!("envelope:{}", envelope.id), "seen").await {
            Ok(true) => {}
            Ok(false) => return Ok(Handled::Repeat),
            Err(error) => return Ok(Handled::Unrecorded(error.to_string())),
        }
        tokio::time::sleep(self.delay).await;
        self.handled.lock().unwrap().push(envelope);
        Ok(Handled::Answered(self.answer.clone()))
    }
}
