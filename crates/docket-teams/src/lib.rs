//! Docket in Microsoft Teams: the same tickets, approvals and live runs as a Teams bot.
//!
//! - [`auth`]: Bot Framework JWT validation against the configured OpenID metadata.
//! - [`activity`], [`conversations`]: the activities Docket reads and sends; where the bot is
//!   installed, kept in surface state so Docket can message people and channels later.
//! - [`cards`]: Adaptive Cards 1.5 (request form, ticket card, approval card) and their checker.
//! - [`client`]: the connector client (token cache, pacing, retries).
//! - [`graph`]: a Microsoft Graph reader, to find a message an interrupted delivery posted.
//! - [`TeamsNotifier`]: the outbox's way into Teams.
//! - [`manifest`]: the Teams app package.
//!
//! [`Teams`] puts these together: a notifier for the app and the `POST /teams/messages` router.

pub mod activity;
pub mod auth;
pub mod cards;
pub mod client;
pub mod conversations;
pub mod manifest;
pub mod png;
pub mod settings;

mod approvals;
mod earlier;
pub mod graph;
mod invoke;
mod messages;
mod notifier;
mod people;
mod render;
mod routes;
mod section;

use std::sync::Arc;

use docket_app::App;

pub use auth::{AuthError, Authenticator};
pub use client::{ClientError, Connector};
pub use notifier::TeamsNotifier;
pub use routes::MESSAGES_PATH;
pub use section::TeamsSection;
pub use settings::{Pacing, RetryPolicy, TeamsSettings};

/// The surface's name: its section of `docket.yaml`, a person's id key (their Entra object id)
/// and a policy's `notify` key.
pub const SURFACE: &str = "teams";

/// Why the Teams surface could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TeamsError {
    /// The HTTP client could not be made.
    #[error("could not build the HTTP client: {0}")]
    Http(String),
}

/// The Teams surface: one notifier and one router sharing a connector client.
#[derive(Clone, Debug)]
pub struct Teams {
    settings: Arc<TeamsSettings>,
    connector: Arc<Connector>,
    graph: Arc<graph::Graph>,
    auth: Arc<Authenticator>,
}

impl Teams {
    /// Builds the surface for `settings`.
    pub fn new(settings: TeamsSettings) -> Result<Self, TeamsError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("docket/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TeamsError::Http(e.to_string()))?;
        let connector = Connector::new(&settings, http.clone());
        let auth = Authenticator::new(&settings, http.clone());
        let settings = Arc::new(settings);
        let graph = Arc::new(graph::Graph::new(Arc::clone(&settings), http));
        Ok(Self { settings, connector, graph, auth })
    }

    /// The notifier to build the app with.
    pub fn notifier(&self) -> Arc<TeamsNotifier> {
        let (connector, settings, graph) =
            (Arc::clone(&self.connector), Arc::clone(&self.settings), Arc::clone(&self.graph));
        Arc::new(TeamsNotifier::with_graph(connector, settings, graph))
    }

    /// `POST /teams/messages`, answering for `app`.
    pub fn router(&self, app: App) -> axum::Router {
        routes::router(routes::Shared {
            app,
            auth: Arc::clone(&self.auth),
            connector: Arc::clone(&self.connector),
            tenant: self.settings.tenant_id.clone(),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &TeamsSettings {
        &self.settings
    }
}
