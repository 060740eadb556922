//! The `exec` action: a program and its arguments, each a template that renders to exactly one
//! argument, with the step's own environment and working directory.

use std::collections::BTreeMap;

use docket_core::catalog::template::Template;
use docket_core::{ActionSpec, ActionView, Detail, Duration, Params};
use serde_json::json;

use crate::quote::command_line;

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
    /// The workflow's author accepted that a parameter reaches a shell or interpreter as code
    /// (`allow_shell_template: true`); approvers see it, and the plan's digest covers it.
    pub allow_shell_template: bool,
}

impl ActionSpec for ExecAction {
    fn kind(&self) -> &'static str {
        "exec"
    }

    fn templates(&self) -> Vec<&Template> {
        self.argv.iter().chain(self.env.values()).chain(self.cwd.iter()).collect()
    }

    /// The argv as it will run; environment variables by name only (their values are where
    /// secrets live).
    fn describe(&self, params: &Params) -> ActionView {
        let argv: Vec<String> = self.argv.iter().map(|t| t.render(params)).collect();
        let cwd = self.cwd.as_ref().map(|t| t.render(params));
        let names: Vec<&String> = self.env.keys().collect();
        let line = command_line(&argv);
        let mut details = vec![Detail::code("Command", line.clone())];
        if let Some(dir) = &cwd {
            details.push(Detail::code("In", dir.clone()));
        }
        if !names.is_empty() {
            details.push(Detail::text("Environment", names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")));
        }
        if let Some(timeout) = self.timeout {
            details.push(Detail::text("Time limit", timeout.to_string()));
        }
        let mut document = json!({ "argv": argv, "env": names, "cwd": cwd });
        if self.allow_shell_template {
            details
                .push(Detail::text("Shell templates", "allowed: a parameter reaches a shell or interpreter as code"));
            document["allow_shell_template"] = json!(true);
        }
        ActionView { summary: line, details, document }
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}
