//! `docket teams manifest`: writes the Teams app package for this configuration — a zip of
//! manifest.json (the bot `teams.app_id` in personal, team and group chat scopes, its commands,
//! `server.public_url` as its web address and valid domain) and the two icons — to upload in
//! Teams ("Apps → Manage your apps → Upload an app").

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{TeamsCommand, TeamsManifestArgs};

/// Runs a `docket teams …` command.
pub(crate) fn run(command: &TeamsCommand) -> anyhow::Result<ExitCode> {
    match command {
        TeamsCommand::Manifest(args) => manifest(args),
    }
}

fn manifest(args: &TeamsManifestArgs) -> anyhow::Result<ExitCode> {
    let loaded = crate::compose::load(&args.config)?;
    let config = &loaded.config;
    let settings = docket_plugins::teams_settings(config)
        .context("the configuration has no `teams` section; add one first (see the README)")?;
    let package = docket_teams::manifest::package(&settings, &args.app_version)
        .map_err(|e| anyhow::anyhow!("cannot make the app package: {e}"))?;
    std::fs::write(&args.out, &package).with_context(|| format!("cannot write {}", args.out.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "wrote {} ({} bytes): manifest.json for app {} with color.png and outline.png; upload it in Teams",
        args.out.display(),
        package.len(),
        settings.app_id
    )?;
    Ok(ExitCode::SUCCESS)
}
