//! Slack, when `slack:` is configured: the notifier before the app; once the app runs, either
//! the HTTP routes (`/slack/*`) or Socket Mode (when `slack.app_token` is set).

use std::sync::Arc;

use docket_config::Config;
use docket_slack::{SlackClient, SlackNotifier, SlackSettings};
use tokio_util::sync::CancellationToken;

use super::Surfaces;

/// Adds Slack to `surfaces` if the configuration has a `slack` section.
pub(super) fn add(config: &Config, surfaces: &mut Surfaces) -> anyhow::Result<()> {
    let Some(section) = config.slack.clone() else { return Ok(()) };
    let settings = settings(config, &section);
    let client = SlackClient::new(&settings)?;
    let notifier = Arc::new(SlackNotifier::new(settings.clone(), client.clone()));
    surfaces.push(notifier, move |app, shutdown| {
        let surface = docket_slack::Slack::new(app.clone(), settings, client);
        if start_socket_mode(&section, &surface, shutdown) {
            return Ok(axum::Router::new());
        }
        tracing::info!("Slack: HTTP mode on /slack/commands, /slack/interactions, /slack/events");
        Ok(docket_slack::router(surface))
    });
    Ok(())
}

/// The surface's settings from `docket.yaml`.
pub(crate) fn settings(config: &Config, slack: &docket_config::Slack) -> SlackSettings {
    let mut settings = SlackSettings::new(slack.signing_secret.expose(), slack.bot_token.expose());
    settings.app_token = slack.app_token.as_ref().map(|t| t.expose().to_owned());
    settings.api_url = slack.api_url.clone();
    settings.command = slack.command.clone();
    settings.approvals_channel = slack.approvals_channel.clone();
    settings.public_url = config.server.public_url.clone();
    settings
}

// ---- Socket Mode ---------------------------------------------------------------------------

/// Starts Socket Mode when `slack.app_token` is set: the connections run in the background,
/// hand what Slack sends to `surface` (the same `Slack::dispatch` as HTTP mode), and close when
/// `shutdown` is cancelled. Returns whether it was started.
pub(super) fn start_socket_mode(
    slack: &docket_config::Slack,
    surface: &docket_slack::Slack,
    shutdown: &CancellationToken,
) -> bool {
    let Some(app_token) = &slack.app_token else { return false };
    let settings = docket_slack::SocketSettings::new(slack.api_url.clone(), app_token.expose().to_owned());
    let socket = docket_slack::SocketMode::start(settings, std::sync::Arc::new(surface.clone()), shutdown.clone());
    tracing::info!("Slack: Socket Mode on (two connections)");
    tokio::spawn(socket.stopped());
    true
}
