//! Plans and their digest. An approval binds to the digest of exactly what will run: workflow
//! id and version, parameters, and each step's rendered action (as its kind describes it) and
//! dry-run output, with what the dry run found (structured [`change`]s, a SQL write's row count,
//! the SHA-256 of a plan file the run must apply).

pub mod change;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::catalog::action::{ActionView, Detail};
use crate::catalog::param::Params;
use crate::catalog::workflow::{Step, Workflow};
use crate::redact::Redactor;

pub use change::{Change, ChangeAction, ChangeCounts};

/// What approvers see and approve.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// One entry per step, in order.
    pub steps: Vec<StepPlan>,
}

impl Plan {
    /// Every step's structured changes, in step order.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.steps.iter().flat_map(|s| s.facts.changes.iter())
    }

    /// Whether any step reported structured changes.
    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(|s| !s.facts.changes.is_empty())
    }

    /// The changes counted over all steps.
    pub fn counts(&self) -> ChangeCounts {
        ChangeCounts::of(self.changes())
    }

    /// Rows the plan's SQL writes change, over all steps.
    pub fn rows_changed(&self) -> u64 {
        self.steps.iter().filter_map(|s| s.facts.rows_changed).fold(0, u64::saturating_add)
    }

    /// The targets that change (every change but no-ops and reads), each once, in order.
    pub fn targets(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for change in self.changes().filter(|c| !matches!(c.action, ChangeAction::NoOp | ChangeAction::Read)) {
            if !out.contains(&change.target.as_str()) {
                out.push(&change.target);
            }
        }
        out
    }
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPlan {
    /// The step's name.
    pub name: String,
    /// The step's kind (`exec`, `http`, …).
    pub kind: String,
    /// What the step will do, in one line.
    #[serde(default)]
    pub summary: String,
    /// What the step will do, in full: labelled values.
    #[serde(default)]
    pub details: Vec<Detail>,
    /// The rendered action's canonical document (no environment or header values).
    pub action: serde_json::Value,
    /// What the step's dry run printed, if it has one.
    pub output: Option<String>,
    /// What the dry run found, in a form policies and the run itself can read.
    #[serde(default, skip_serializing_if = "PlanFacts::is_empty")]
    pub facts: PlanFacts,
}

/// What a dry run found out, beyond its text: the approval binds to these, and the run checks
/// what it does against them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFacts {
    /// Rows a SQL write would change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_changed: Option<u64>,
    /// What the step will do to each target it manages (an infrastructure plan's resources).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// The SHA-256 (hex) of the file the dry run saved, which the run applies and nothing else
    /// (a Terraform plan file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_file: Option<String>,
}

impl PlanFacts {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl StepPlan {
    /// The plan entry for `step` rendered with `params`; `output` is the dry run's output.
    /// Secrets are masked in all of it, so a plan is never stored or shown with one.
    pub fn new(step: &Step, params: &Params, output: Option<String>, redactor: &Redactor) -> Self {
        Self::with_facts(step, params, output, PlanFacts::default(), redactor)
    }

    /// The same, with what the dry run found.
    pub fn with_facts(
        step: &Step,
        params: &Params,
        output: Option<String>,
        facts: PlanFacts,
        redactor: &Redactor,
    ) -> Self {
        let ActionView { summary, details, mut document } = step.action.describe(params);
        redactor.redact_json(&mut document);
        let mut facts = facts;
        for change in &mut facts.changes {
            change.target = redactor.redact(&change.target);
            redactor.redact_json(&mut change.before);
            redactor.redact_json(&mut change.after);
        }
        Self {
            name: step.name.clone(),
            kind: step.action.kind().to_owned(),
            summary: redactor.redact(&summary),
            details: details.into_iter().map(|d| Detail { value: redactor.redact(&d.value), ..d }).collect(),
            action: document,
            output: output.map(|text| redactor.redact(&text)),
            facts,
        }
    }

    /// What the step will do, in one line (a plan stored before steps had summaries shows its
    /// kind and document).
    pub fn one_line(&self) -> String {
        if self.summary.is_empty() { format!("{} {}", self.kind, self.action) } else { self.summary.clone() }
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
