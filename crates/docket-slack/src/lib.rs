//! Docket in Slack: slash commands, modals, buttons and @mentions in; ticket threads, approval
//! messages and DMs out.
//!
//! - [`routes`]: `/slack/commands`, `/slack/interactions`, `/slack/events` (HTTP mode), each
//!   checked by [`verify`] (v0 signature over the raw body) before anything is parsed.
//! - [`Slack::dispatch`] (in `inbound`): what Slack sent, after authentication — over HTTP or a
//!   Socket Mode connection — answered at once, slow work spawned after the answer.
//! - `commands`, `modals`, `render`: what people type and see (Block Kit within its limits).
//! - [`SlackNotifier`]: the ticket thread, approval copies and DMs, edited as the ticket changes.
//! - [`SlackClient`]: the Web API with per-method budgets, per-channel pacing, `Retry-After`
//!   and coalesced edits.

mod client;
mod commands;
mod inbound;
mod manifest;
mod modals;
mod notifier;
mod people;
pub mod render;
mod routes;
mod section;
mod seen;
mod settings;
pub mod socket;
pub mod verify;

use std::sync::Arc;

use docket_app::App;

pub use client::{ApiError, SlackClient, TAG_EVENT};
pub use inbound::{Ack, CommandForm, Inbound, InboundError};
pub use manifest::{BOT_SCOPES, ManifestOptions, manifest};
pub use notifier::SlackNotifier;
pub use people::People;
pub use routes::router;
pub use section::SlackSection;
pub use settings::SlackSettings;
pub use socket::{SocketMode, SocketSettings};

/// The scope of Docket's Slack state in the app's surface state.
pub const SCOPE: &str = "slack";

/// The Slack surface once the app runs: the app, the settings, the Web API client and the
/// people resolver. Cheap to clone.
#[derive(Clone)]
pub struct Slack {
    inner: Arc<Inner>,
}

struct Inner {
    app: App,
    settings: SlackSettings,
    client: SlackClient,
    people: People,
    /// Request forms' deliveries this replica recorded with their tickets lately (`seen`).
    recent: seen::Recent,
}

impl std::fmt::Debug for Slack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slack").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

impl Slack {
    /// The surface over a running `app`; `client` is the one the notifier was built with.
    pub fn new(app: App, settings: SlackSettings, client: SlackClient) -> Self {
        let people = People::new(client.clone());
        let recent = seen::Recent::new();
        Self { inner: Arc::new(Inner { app, settings, client, people, recent }) }
    }

    /// The app.
    pub fn app(&self) -> &App {
        &self.inner.app
    }

    /// The settings.
    pub fn settings(&self) -> &SlackSettings {
        &self.inner.settings
    }

    /// The Web API client.
    pub fn client(&self) -> &SlackClient {
        &self.inner.client
    }

    /// Slack users → people.
    pub fn people(&self) -> &People {
        &self.inner.people
    }
}
