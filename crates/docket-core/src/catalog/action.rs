//! What a step does, as every step kind shares it. A kind (`exec`, `http`, `sql`, …) lives in a
//! plug-in of its own that decodes its action from a workflow file, says how it reads, and runs
//! it; core only needs what every kind has in common: the templates it holds (checked against
//! the workflow's parameters at load), how it is shown to approvers (one line, in full, and the
//! canonical document the plan digest covers), and its timeout.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::param::Params;
use super::template::Template;
use crate::duration::Duration;

/// One kind's action. Implemented by each step-kind plug-in for its own action type; the
/// kind's runner gets it back with [`Action::spec`].
pub trait ActionSpec: fmt::Debug + Send + Sync + Any {
    /// The kind as written in workflow files (`exec`).
    fn kind(&self) -> &'static str;

    /// Every template in the action, so the loader can check each placeholder names a
    /// parameter.
    fn templates(&self) -> Vec<&Template>;

    /// How the action reads with `params`, for approvers. It must not show values where
    /// secrets live by convention (environment variables, headers: names only); any other
    /// secret is masked afterwards by the plan's redactor.
    fn describe(&self, params: &Params) -> ActionView;

    /// How long it may run, if the workflow says.
    fn timeout(&self) -> Option<Duration> {
        None
    }

    /// Whether the action is its own dry run when the step has no `plan`: run in plan mode,
    /// it says what it would do (a SQL update counts the rows it would change and rolls back;
    /// an infrastructure change computes its diff) without doing it.
    fn plans_itself(&self) -> bool {
        false
    }
}

/// A step's action: one kind's [`ActionSpec`], shared cheaply.
#[derive(Clone)]
pub struct Action(Arc<dyn ActionSpec>);

impl Action {
    /// Wraps one kind's action.
    pub fn new(spec: impl ActionSpec) -> Self {
        Self(Arc::new(spec))
    }

    /// The kind as written in workflow files.
    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// The kind's own action type, if it is `T` (a runner asks for its own).
    pub fn spec<T: ActionSpec>(&self) -> Option<&T> {
        let any: &dyn Any = &*self.0;
        any.downcast_ref::<T>()
    }

    /// Every template in the action.
    pub fn templates(&self) -> Vec<&Template> {
        self.0.templates()
    }

    /// How the action reads with `params`.
    pub fn describe(&self, params: &Params) -> ActionView {
        self.0.describe(params)
    }

    /// How long it may run, if the workflow says.
    pub fn timeout(&self) -> Option<Duration> {
        self.0.timeout()
    }

    /// Whether the action is its own dry run when the step has no `plan`.
    pub fn plans_itself(&self) -> bool {
        self.0.plans_itself()
    }
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An action as approvers see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionView {
    /// One line: `kubectl --context prod rollout …`, `POST https://…`, `wait 2m`.
    pub summary: String,
    /// The action in full, one labelled value each (chat and the web show these).
    pub details: Vec<Detail>,
    /// The canonical form: what the plan digest covers and what API clients read.
    pub document: serde_json::Value,
}

/// One labelled value of an action in full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// What it is (`Statement`, `URL`, `Headers`).
    pub label: String,
    /// Its value as text.
    pub value: String,
    /// Whether it is code (a command, a statement), shown in a fixed-width font.
    #[serde(default)]
    pub code: bool,
}

impl Detail {
    /// A plain value.
    pub fn text(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self { label: label.into(), value: value.into(), code: false }
    }

    /// A value shown as code.
    pub fn code(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self { label: label.into(), value: value.into(), code: true }
    }
}
