//! Plans and their digest. An approval binds to the digest of exactly what will run: workflow
//! id and version, parameters, and each step's rendered action and dry-run output.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::catalog::param::Params;
use crate::catalog::workflow::{Action, Step, Workflow};
use crate::redact::Redactor;

/// What approvers see and approve.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// One entry per step, in order.
    pub steps: Vec<StepPlan>,
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPlan {
    /// The step's name.
    pub name: String,
    /// `exec`, `http`, `sql` or `wait`.
    pub kind: String,
    /// The rendered action, without secret-bearing values (environment and header values) and
    /// with every configured secret masked wherever else it was written (a URL, a body).
    pub action: serde_json::Value,
    /// What the step's dry run printed, if it has one.
    pub output: Option<String>,
}

impl StepPlan {
    /// The plan entry for `step` rendered with `params`; `output` is the dry run's output.
    /// Secrets are masked in both, so a plan is never stored or shown with one.
    pub fn new(step: &Step, params: &Params, output: Option<String>, redactor: &Redactor) -> Self {
        Self {
            name: step.name.clone(),
            kind: step.action.kind().to_owned(),
            action: describe(&step.action, params, redactor),
            output: output.map(|text| redactor.redact(&text)),
        }
    }
}

/// A description of `action` rendered with `params`, safe to show: environment variables and
/// headers appear by name only, since their values are where secrets live, and a secret written
/// anywhere else (a URL's userinfo, path or query, a body) is masked.
pub fn describe(action: &Action, params: &Params, redactor: &Redactor) -> serde_json::Value {
    let mut described = describe_unmasked(action, params);
    redactor.redact_json(&mut described);
    described
}

fn describe_unmasked(action: &Action, params: &Params) -> serde_json::Value {
    match action {
        Action::Exec(e) => json!({
            "argv": e.argv.iter().map(|t| t.render(params)).collect::<Vec<_>>(),
            "env": e.env.keys().collect::<Vec<_>>(),
            "cwd": e.cwd.as_ref().map(|t| t.render(params)),
        }),
        Action::Http(h) => json!({
            "method": h.method,
            "url": h.url.render(params),
            "headers": h.headers.keys().collect::<Vec<_>>(),
            "body": h.body.as_ref().map(|b| b.render(params)),
        }),
        Action::Sql(s) => json!({
            "database": s.database,
            "statement": s.statement,
            "args": s.args.iter().map(|t| t.render(params)).collect::<Vec<_>>(),
        }),
        Action::Wait(d) => json!({ "duration": d.to_string() }),
    }
}

/// The rendered plan of every step of `workflow`, with no dry-run output: what a workflow
/// without `plan` steps shows approvers.
pub fn render_plan(workflow: &Workflow, params: &Params, redactor: &Redactor) -> Plan {
    Plan { steps: workflow.steps.iter().map(|s| StepPlan::new(s, params, None, redactor)).collect() }
}

/// A SHA-256 plan digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest([u8; 32]);

impl Digest {
    /// Computes the digest of `plan` for `workflow` with `params`.
    pub fn of(workflow_id: &str, version: &str, params: &Params, plan: &Plan) -> Self {
        let doc = json!({
            "workflow": workflow_id,
            "version": version,
            "params": params,
            "steps": plan.steps,
        });
        let mut bytes = Vec::with_capacity(512);
        crate::canonical::write(&doc, &mut bytes);
        Self(Sha256::digest(&bytes).into())
    }

    /// Parses 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, InvalidDigest> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut out).map_err(|_| InvalidDigest)?;
        Ok(Self(out))
    }

    /// The first 12 hex digits, for people.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.short())
    }
}

impl TryFrom<String> for Digest {
    type Error = InvalidDigest;
    fn try_from(text: String) -> Result<Self, InvalidDigest> {
        Self::parse(&text)
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> Self {
        d.to_string()
    }
}

/// Text that is not a plan digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a plan digest (expected 64 hex digits)")]
pub struct InvalidDigest;
