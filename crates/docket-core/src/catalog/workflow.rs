//! A workflow: one catalog entry with its typed parameters and the steps it runs.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::action::Action;
use super::example::Example;
use super::param::ParamSpec;
use super::template::Template;
use crate::directory::Principal;
use crate::id::WorkflowId;

/// A catalog entry, as loaded from its file.
#[derive(Clone, Debug)]
pub struct Workflow {
    /// Stable id (`deploy-service`).
    pub id: WorkflowId,
    /// The hash of the file it was loaded from; a ticket pins the version it was opened with.
    pub version: String,
    /// Human title.
    pub title: String,
    /// What it does, in a sentence or two.
    pub description: String,
    /// Catalog section.
    pub category: String,
    /// An input to policy.
    pub risk: Risk,
    /// Who may open tickets for it; `None` means every person in the directory.
    pub requesters: Option<Vec<Principal>>,
    /// Plain-language patterns that match requests typed in chat.
    pub examples: Vec<Example>,
    /// Declared parameters, in form order.
    pub params: Vec<ParamSpec>,
    /// Runs with the same rendered key run one at a time, in order.
    pub concurrency: Option<Template>,
    /// What runs, in order.
    pub steps: Vec<Step>,
    /// The user its steps' programs run as (`run_as`, else the configuration's); `None`: the
    /// server's own user.
    pub run_as: Option<String>,
    /// The ticketing systems its tickets are mirrored to (`mirror: [jira]`); `None` means every
    /// one configured, an empty list none.
    pub mirror: Option<Vec<String>>,
    /// What the request matcher worked out about it once (`Default::default()` when building
    /// one); see [`MatcherCache`](crate::catalog::matcher::MatcherCache). A workflow that has
    /// been read is not changed: clone it first (a clone's cache is empty).
    pub matcher: crate::catalog::matcher::MatcherCache,
}

impl Workflow {
    /// Whether its tickets are mirrored to ticketing system `system` (`jira`).
    pub fn mirrors_to(&self, system: &str) -> bool {
        self.mirror.as_ref().is_none_or(|systems| systems.iter().any(|s| s == system))
    }

    /// The declaration of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// How risky a workflow is; policies read it as `workflow.risk`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Reads or reversible changes.
    Low,
    /// Ordinary production changes.
    Medium,
    /// Changes that are hard to undo.
    High,
}

impl Risk {
    /// The name as written in files and read by policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }

    /// Parses `low`, `medium` or `high`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "low" => Some(Risk::Low),
            "medium" => Some(Risk::Medium),
            "high" => Some(Risk::High),
            _ => None,
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One unit of execution.
#[derive(Clone, Debug)]
pub struct Step {
    /// Unique within the workflow.
    pub name: String,
    /// What the step does.
    pub action: Action,
    /// An optional dry run whose output becomes part of the plan approvers see.
    pub plan: Option<Action>,
    /// Whether the step may run again after an interruption.
    pub retry: Retry,
}

/// Whether a step is idempotent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Retry {
    /// An interrupted run stops here; nobody repeats it silently.
    #[default]
    Never,
    /// Safe to run again with the same idempotency key.
    Safe,
}
