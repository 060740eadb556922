//! Slack, when `slack:` is configured: the notifier before the app; once the app runs, either
//! the HTTP routes (`/slack/*`) or Socket Mode (when `slack.app_token` is set).

use std::sync::Arc;

use docket_config::Config;
use docket_slack::{SlackClient, SlackNotifier, SlackSettings};
use tokio_util::sync::CancellationToken;

use super::Surfaces;
use crate::PluginError;

/// Adds Slack to `surfaces` if the configuration has a `slack` section.
pub(super) fn add(config: &Config, surfaces: &mut Surfaces) -> Result<(), PluginError> {
    let Some(settings) = settings(config) else { return Ok(()) };
    let client =
        SlackClient::new(&settings).map_err(|e| PluginError::Surface { surface: "Slack", detail: e.to_string() })?;
    let notifier = Arc::new(SlackNotifier::new(settings.clone(), client.clone()));
    surfaces.push(notifier, move |app, shutdown| {
        let surface = docket_slack::Slack::new(app.clone(), settings.clone(), client);
        if start_socket_mode(&settings, &surface, shutdown) {
            return Ok(axum::Router::new());
        }
        tracing::info!("Slack: HTTP mode on /slack/commands, /slack/interactions, /slack/events");
        Ok(docket_slack::router(surface))
    });
    Ok(())
}

/// The surface's settings, when `docket.yaml` has a `slack` section.
pub fn settings(config: &Config) -> Option<SlackSettings> {
    config.sections.get::<SlackSettings>(docket_slack::SCOPE).cloned()
}

// ---- Socket Mode ---------------------------------------------------------------------------

/// Starts Socket Mode when `slack.app_token` is set: the connections run in the background,
/// hand what Slack sends to `surface` (the same `Slack::dispatch` as HTTP mode), and close when
/// `shutdown` is cancelled. Returns whether it was started.
pub(super) fn start_socket_mode(
    slack: &SlackSettings,
    surface: &docket_slack::Slack,
    shutdown: &CancellationToken,
) -> bool {
    let Some(app_token) = &slack.app_token else { return false };
    let settings = docket_slack::SocketSettings::new(slack.api_url.clone(), app_token.clone());
    let socket = docket_slack::SocketMode::start(settings, std::sync::Arc::new(surface.clone()), shutdown.clone());
    tracing::info!("Slack: Socket Mode on (two connections)");
    tokio::spawn(socket.stopped());
    true
}
