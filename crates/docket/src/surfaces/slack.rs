//! Slack, when `slack:` is configured.

use docket_config::Config;
use tokio_util::sync::CancellationToken;

use super::Surfaces;

/// Adds Slack to `surfaces` if the configuration has a `slack` section.
pub(super) fn add(config: &Config, surfaces: &mut Surfaces) -> anyhow::Result<()> {
    let _ = (config, surfaces);
    Ok(())
}

// ---- Socket Mode ---------------------------------------------------------------------------

/// Starts Socket Mode when `slack.app_token` is set: the connections run in the background,
/// hand what Slack sends to `surface` (the same `Slack::dispatch` as HTTP mode), and close when
/// `shutdown` is cancelled. Returns whether it was started.
#[allow(dead_code, reason = "called from `add` once the Slack surface is built there")]
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
