//! A workflow: one catalog entry with its typed parameters and the steps it runs.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::example::Example;
use super::param::ParamSpec;
use super::template::Template;
use crate::directory::Principal;
use crate::duration::Duration;
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
}

impl Workflow {
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

/// What a step (or its plan) does.
#[derive(Clone, Debug)]
pub enum Action {
    /// Run a program with an argv; never through a shell.
    Exec(ExecAction),
    /// Make an HTTP request.
    Http(HttpAction),
    /// Run one SQL statement with bind parameters.
    Sql(SqlAction),
    /// Pause.
    Wait(Duration),
}

impl Action {
    /// The step kind as written in files.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Exec(_) => "exec",
            Action::Http(_) => "http",
            Action::Sql(_) => "sql",
            Action::Wait(_) => "wait",
        }
    }

    /// Every template in the action, for load-time checks of their placeholders.
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            Action::Exec(e) => e.argv.iter().chain(e.env.values()).chain(e.cwd.iter()).collect(),
            Action::Http(h) => {
                let mut all: Vec<&Template> = vec![&h.url];
                all.extend(h.headers.values());
                if let Some(body) = &h.body {
                    body.collect_templates(&mut all);
                }
                all
            }
            Action::Sql(s) => s.args.iter().collect(),
            Action::Wait(_) => Vec::new(),
        }
    }
}

/// `exec`: a program and its arguments.
#[derive(Clone, Debug)]
pub struct ExecAction {
    /// Program and arguments; each element renders to exactly one argument.
    pub argv: Vec<Template>,
    /// Environment variables; the process gets these and nothing else from Docket's own.
    pub env: BTreeMap<String, Template>,
    /// Working directory.
    pub cwd: Option<Template>,
    /// Killed (with its whole process group) after this long.
    pub timeout: Option<Duration>,
}

/// `http`: one request.
#[derive(Clone, Debug)]
pub struct HttpAction {
    /// `GET`, `POST`, …
    pub method: String,
    /// Where to.
    pub url: Template,
    /// Header name → value.
    pub headers: BTreeMap<String, Template>,
    /// A JSON body whose strings may hold templates.
    pub body: Option<JsonTemplate>,
    /// Statuses that count as success; empty means any 2xx.
    pub expect: Vec<u16>,
    /// Gives up after this long.
    pub timeout: Option<Duration>,
}

/// `sql`: one statement against a configured database, values only as bind parameters.
#[derive(Clone, Debug)]
pub struct SqlAction {
    /// The name of a database in the configuration.
    pub database: String,
    /// The statement, with `$1`, `$2`, … placeholders.
    pub statement: String,
    /// Bind parameters, in order.
    pub args: Vec<Template>,
    /// Cancelled after this long.
    pub timeout: Option<Duration>,
}

/// A JSON document whose string leaves are templates.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonTemplate {
    /// `null`, `true`, `false` or a number, as written.
    Plain(serde_json::Value),
    /// A string leaf; a string that is exactly one `{{param}}` renders as the typed value.
    Text(Template),
    /// An array.
    Array(Vec<JsonTemplate>),
    /// An object, keys in order.
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    fn collect_templates<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            JsonTemplate::Plain(_) => {}
            JsonTemplate::Text(t) => out.push(t),
            JsonTemplate::Array(items) => items.iter().for_each(|i| i.collect_templates(out)),
            JsonTemplate::Object(fields) => fields.iter().for_each(|(_, v)| v.collect_templates(out)),
        }
    }

    /// Renders the document with `params`.
    pub fn render(&self, params: &super::param::Params) -> serde_json::Value {
        use super::param::ParamValue;
        match self {
            JsonTemplate::Plain(v) => v.clone(),
            JsonTemplate::Text(t) => {
                let mut names = t.placeholders();
                if let (Some(only), None) = (names.next(), names.next())
                    && t.to_string() == format!("{{{{{only}}}}}")
                {
                    return match params.get(only) {
                        Some(ParamValue::Int(i)) => serde_json::Value::from(*i),
                        Some(ParamValue::Bool(b)) => serde_json::Value::from(*b),
                        Some(ParamValue::Str(s)) => serde_json::Value::from(s.clone()),
                        None => serde_json::Value::Null,
                    };
                }
                serde_json::Value::String(t.render(params))
            }
            JsonTemplate::Array(items) => items.iter().map(|i| i.render(params)).collect(),
            JsonTemplate::Object(fields) => {
                fields.iter().map(|(k, v)| (k.clone(), v.render(params))).collect::<serde_json::Map<_, _>>().into()
            }
        }
    }
}
