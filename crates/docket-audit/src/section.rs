//! The `audit` section of `docket.yaml`:
//!
//! ```yaml
//! audit:
//!   signing_key: ${DOCKET_AUDIT_KEY}            # `docket audit keygen` makes one
//!   checkpoints: /var/lib/docket/checkpoints.jsonl
//!   every: 5m                                   # the default
//!   post_to: https://collector.example.com/docket/checkpoints
//! ```
//!
//! A configuration that only verifies (an auditor's) may name `public_key` instead of the
//! signing key.

use std::path::PathBuf;

use docket_config::Secret;
use docket_config::plugin::{Decoded, Fields, Node, Opt, Report, Section, SectionContext, duration, secret, text, url};
use docket_core::Duration;
use docket_core::checkpoint::{SigningKey, VerifyingKey};

/// The section's key.
pub const SECTION: &str = "audit";

/// How often a checkpoint is written when the section names no `every`.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(300);

/// The `audit` section as read.
#[derive(Clone, Debug)]
pub struct AuditSettings {
    /// The key checkpoints are signed with; none in a configuration that only verifies.
    pub signing_key: Option<SigningKey>,
    /// The key checkpoints must verify with: the signing key's public half, or `public_key`.
    pub public_key: Option<VerifyingKey>,
    /// The append-only file each checkpoint is also written to.
    pub checkpoints: Option<PathBuf>,
    /// How often to write one (when the chain has grown since the last).
    pub every: Duration,
    /// Where each checkpoint is also POSTed, as JSON.
    pub post_to: Option<String>,
}

/// Reads the `audit` section.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditSection;

const KEYS: &[&str] = &["signing_key", "public_key", "checkpoints", "every", "post_to"];

impl Section for AuditSection {
    fn key(&self) -> &'static str {
        SECTION
    }

    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let folder = cx.folder().to_path_buf();
        let Some(fields) = Fields::open(node, "the audit section", KEYS, cx.report()) else {
            return Decoded::invalid();
        };
        let signing = fields.opt("signing_key", cx.report(), signing_key);
        if let Opt::Given((_, written)) = &signing {
            cx.secret(written);
        }
        let report = cx.report();
        let public = fields.opt("public_key", report, |n, r| key_text(n, r, VerifyingKey::parse));
        let checkpoints = fields.opt("checkpoints", report, |n, r| text(n, r).map(|p| folder.join(p)));
        let every = fields.opt("every", report, every);
        let post_to = fields.opt("post_to", report, |n, r| url(n, &["https://", "http://"], r));
        let (Some(signing), Some(public), Some(checkpoints), Some(every), Some(post_to)) = (
            signing.optional(),
            public.optional(),
            checkpoints.optional(),
            every.or(DEFAULT_EVERY),
            post_to.optional(),
        ) else {
            return Decoded::invalid();
        };
        let signing_key = signing.map(|(key, _)| key);
        let derived = signing_key.as_ref().map(SigningKey::verifying_key);
        if let (Some(derived), Some(named)) = (derived, public)
            && derived != named
        {
            let at = fields.get("public_key").map_or(node.pos, |n| n.pos);
            report.error_hint(
                at,
                "public_key is not the public half of signing_key",
                "remove public_key (it is derived from the signing key) or fix the one that is wrong",
            );
            return Decoded::invalid();
        }
        if signing_key.is_none() && (checkpoints.is_some() || post_to.is_some()) && public.is_none() {
            report.error_hint(
                node.pos,
                "checkpoints cannot be written without a signing key",
                "add signing_key: ${DOCKET_AUDIT_KEY} (make one with `docket audit keygen`)",
            );
            return Decoded::invalid();
        }
        Decoded::value(AuditSettings { public_key: derived.or(public), signing_key, checkpoints, every, post_to })
    }
}

/// The signing key (and the text it was written as, a secret).
fn signing_key(node: &Node, report: &mut Report) -> Option<(SigningKey, Secret)> {
    let written = secret(node, report)?;
    if written.expose().contains("${") {
        // A variable that is not set, already reported: "not a key" would only repeat it.
        return None;
    }
    match SigningKey::parse(written.expose()) {
        Ok(key) => Some((key, written)),
        Err(error) => {
            report.error(node.pos, error.to_string());
            None
        }
    }
}

fn key_text<T, E: std::fmt::Display>(
    node: &Node,
    report: &mut Report,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    let value = text(node, report)?;
    parse(&value).map_err(|error| report.error(node.pos, error.to_string())).ok()
}

fn every(node: &Node, report: &mut Report) -> Option<Duration> {
    let value = duration(node, report)?;
    if value.as_millis() < 1000 {
        report.error(node.pos, "checkpoints are written at most once a second: write 1s or more");
        return None;
    }
    Some(value)
}
