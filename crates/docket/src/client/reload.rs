//! `docket reload`: asks the server to read its configuration again, and says what changed or,
//! when it refused, every reason (the server's own words, `file:line:column` for each error).

use std::io::Write;

use serde::Deserialize;

use super::Outcome;
use super::http::Api;
use super::style::Ui;
use crate::cli::ReloadArgs;

/// The answer of `POST /config/reload`.
#[derive(Debug, Deserialize)]
struct Reload {
    digest: String,
    workflows: usize,
    people: usize,
    policies: usize,
    added: Vec<String>,
    changed: Vec<String>,
    removed: Vec<String>,
    warnings: Vec<String>,
}

pub(crate) async fn reload(api: &Api, args: &ReloadArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    let raw = api.reload().await?;
    if args.json {
        writeln!(out, "{}", raw.trim_end())?;
        return Ok(Outcome::Success);
    }
    let reload: Reload =
        serde_json::from_str(&raw).map_err(|e| anyhow::anyhow!("unexpected answer from the server: {e}"))?;
    writeln!(
        out,
        "{} {} workflows, {} people, {} policy rules (configuration {})",
        ui.bold("reloaded:"),
        reload.workflows,
        reload.people,
        reload.policies,
        reload.digest.get(..12).unwrap_or(&reload.digest)
    )?;
    for (label, ids) in [("added", &reload.added), ("changed", &reload.changed), ("removed", &reload.removed)] {
        if !ids.is_empty() {
            writeln!(out, "{label:<10} {}", ids.join(", "))?;
        }
    }
    for warning in &reload.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(Outcome::Success)
}
