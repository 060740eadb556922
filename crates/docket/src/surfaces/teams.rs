//! Microsoft Teams, when `teams:` is configured.

use docket_config::Config;

use super::Surfaces;

/// Adds Teams to `surfaces` if the configuration has a `teams` section.
pub(super) fn add(config: &Config, surfaces: &mut Surfaces) -> anyhow::Result<()> {
    let _ = (config, surfaces);
    Ok(())
}
