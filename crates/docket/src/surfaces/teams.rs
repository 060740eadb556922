//! Microsoft Teams, when `teams:` is configured: the notifier before the app, and once the app
//! runs, `POST /teams/messages` (the bot's messaging endpoint).

use docket_config::Config;
use docket_teams::{Teams, TeamsSettings};

use super::Surfaces;

/// Adds Teams to `surfaces` if the configuration has a `teams` section.
pub(super) fn add(config: &Config, surfaces: &mut Surfaces) -> anyhow::Result<()> {
    let Some(section) = &config.teams else { return Ok(()) };
    let teams = Teams::new(settings(config, section))?;
    surfaces.push(teams.notifier(), move |app, _shutdown| {
        tracing::info!(endpoint = docket_teams::MESSAGES_PATH, "Teams: the bot's messaging endpoint is on");
        Ok(teams.router(app.clone()))
    });
    Ok(())
}

/// The surface's settings from `docket.yaml`.
pub(crate) fn settings(config: &Config, teams: &docket_config::Teams) -> TeamsSettings {
    let mut settings = TeamsSettings::new(teams.app_id.clone(), teams.app_password.expose());
    settings.tenant_id = teams.tenant_id.clone();
    settings.openid_metadata_url = teams.openid_metadata_url.clone();
    settings.token_url = teams.token_url.clone();
    settings.issuer = teams.issuer.clone();
    settings.approvals_channel = teams.approvals_channel.clone();
    settings.public_url = config.server.public_url.clone();
    settings
}
