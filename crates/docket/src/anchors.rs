//! Wiring the audit chain's signed checkpoints: started with the server (and one more written
//! when it stops), and gathered for `docket audit verify` from the configuration and the files
//! an auditor kept.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use docket_app::App;
use docket_audit::{Anchoring, AuditSettings};
use docket_config::Config;
use docket_core::checkpoint::{Checkpoint, VerifyingKey};
use tokio_util::sync::CancellationToken;

/// Starts writing checkpoints when the configuration has an `audit` section with a signing key.
pub(crate) fn start(app: &App, config: &Config, shutdown: &CancellationToken) -> Option<Anchoring> {
    let settings = config.sections.get::<AuditSettings>(docket_audit::SECTION)?;
    let anchoring = Anchoring::new(app.clone(), settings)?;
    anchoring.spawn(shutdown.clone());
    tracing::info!(every = %settings.every, "writing signed audit checkpoints");
    Some(anchoring)
}

/// Writes the last checkpoint, after the engine's last records.
pub(crate) async fn finish(anchoring: Option<Anchoring>) {
    if let Some(anchoring) = anchoring
        && let Err(error) = anchoring.checkpoint().await
    {
        tracing::warn!(%error, "could not write the audit checkpoint at shutdown");
    }
}

/// What `docket audit verify` compares the chain with.
#[derive(Debug, Default)]
pub(crate) struct Anchors {
    /// Checkpoints from files (the store's are read by the app).
    pub(crate) checkpoints: Vec<Checkpoint>,
    /// The key they must be signed with, if known.
    pub(crate) trusted: Option<VerifyingKey>,
    /// What the person verifying should know about what was and was not used.
    pub(crate) notes: Vec<String>,
}

/// The checkpoints and trusted key for verifying: the configuration's `audit` section when the
/// whole configuration can be read here (its `${VAR}`s set), `files`, and `public_key`.
pub(crate) fn for_verify(config_path: &Path, files: &[PathBuf], public_key: Option<&str>) -> anyhow::Result<Anchors> {
    let mut anchors = Anchors::default();
    match crate::compose::load(config_path) {
        Ok(loaded) => {
            if let Some(settings) = loaded.config.sections.get::<AuditSettings>(docket_audit::SECTION) {
                anchors.trusted = settings.public_key;
                if let Some(path) = &settings.checkpoints {
                    if path.exists() {
                        anchors.checkpoints.extend(docket_audit::read_file(path)?);
                    } else {
                        anchors.notes.push(format!("the configured checkpoint file {} does not exist", path.display()));
                    }
                }
            }
        }
        Err(_) if names_audit_section(config_path) => anchors.notes.push(format!(
            "{} cannot be read in full here (see `docket check`), so its audit section was not used",
            config_path.display()
        )),
        Err(_) => {}
    }
    if let Some(text) = public_key {
        let given = VerifyingKey::parse(text).context("--public-key")?;
        if anchors.trusted.is_some_and(|configured| configured != given) {
            anyhow::bail!("--public-key is not the public half of the configured audit.signing_key");
        }
        anchors.trusted = Some(given);
    }
    for file in files {
        anchors.checkpoints.extend(docket_audit::read_file(file)?);
    }
    Ok(anchors)
}

/// Whether the file has a top-level `audit:` section (worth a note when it cannot be used).
fn names_audit_section(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.lines().any(|line| line.starts_with("audit:")))
}
