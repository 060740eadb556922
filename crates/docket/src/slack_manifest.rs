//! `docket slack manifest`: prints a Slack app manifest for this configuration — scopes, the
//! slash command, shortcuts, and the request URLs under `server.public_url` (or Socket Mode
//! when `slack.app_token` is set) — to paste into "Create an app → From a manifest".

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{SlackCommand, SlackManifestArgs};

/// Runs a `docket slack …` command.
pub(crate) fn run(command: &SlackCommand) -> anyhow::Result<ExitCode> {
    match command {
        SlackCommand::Manifest(args) => manifest(args),
    }
}

fn manifest(args: &SlackManifestArgs) -> anyhow::Result<ExitCode> {
    let loaded = crate::compose::load(&args.config)?;
    let config = &loaded.config;
    let slack = docket_plugins::slack_settings(config)
        .context("the configuration has no `slack` section; add one first (see the README)")?;
    let options = docket_slack::ManifestOptions {
        name: args.name.clone(),
        command: slack.command.clone(),
        public_url: config.server.public_url.clone(),
        socket_mode: args.socket_mode || slack.app_token.is_some(),
    };
    let manifest = docket_slack::manifest(&options).map_err(|e| anyhow::anyhow!("cannot make a manifest: {e}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&manifest)?)?;
    Ok(ExitCode::SUCCESS)
}
