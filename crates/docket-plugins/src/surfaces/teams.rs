//! Microsoft Teams, when `teams:` is configured: the notifier before the app, and once the app
//! runs, `POST /teams/messages` (the bot's messaging endpoint).

use docket_config::Config;
use docket_teams::{Teams, TeamsSettings};

use super::Surfaces;
use crate::PluginError;

/// Adds Teams to `surfaces` if the configuration has a `teams` section.
pub(super) fn add(config: &Config, surfaces: &mut Surfaces) -> Result<(), PluginError> {
    let Some(settings) = settings(config) else { return Ok(()) };
    let teams = Teams::new(settings).map_err(|e| PluginError::Surface { surface: "Teams", detail: e.to_string() })?;
    surfaces.push(teams.notifier(), move |app, _shutdown| {
        tracing::info!(endpoint = docket_teams::MESSAGES_PATH, "Teams: the bot's messaging endpoint is on");
        Ok(teams.router(app.clone()))
    });
    Ok(())
}

/// The surface's settings, when `docket.yaml` has a `teams` section.
pub fn settings(config: &Config) -> Option<TeamsSettings> {
    config.sections.get::<TeamsSettings>(docket_teams::SURFACE).cloned()
}
