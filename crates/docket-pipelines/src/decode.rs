//! Reading a `github_actions` action from a workflow file:
//!
//! ```yaml
//! github_actions:
//!   repo: acme/api
//!   rerun: { run: "{{run_id}}", failed_only: true }
//!   # or: dispatch: { workflow: deploy.yml, ref: main, inputs: { env: "{{env}}" } }
//!   timeout: 1h
//! ```

use std::collections::BTreeMap;

use docket_config::plugin::{Fields, Node, StepContext, StepKind, boolean, duration, open_map};
use docket_core::Action;

use crate::action::{GithubAction, GithubOperation};

/// GitHub accepts at most this many inputs in a dispatch.
const MAX_INPUTS: usize = 10;

/// The `github_actions` step kind's decoder.
#[derive(Clone, Copy, Debug, Default)]
pub struct GithubActionsKind;

impl StepKind for GithubActionsKind {
    fn name(&self) -> &'static str {
        "github_actions"
    }

    fn plannable(&self) -> bool {
        false
    }

    fn decode(&self, node: &Node, cx: &mut StepContext<'_>) -> Option<Action> {
        github(node, cx).map(Action::new)
    }
}

fn github(node: &Node, cx: &mut StepContext<'_>) -> Option<GithubAction> {
    let fields = Fields::open(node, "github_actions action", &["repo", "rerun", "dispatch", "timeout"], cx.report())?;
    let repo = fields.require("repo", cx.report()).and_then(|n| cx.template(n));
    let timeout = fields.opt("timeout", cx.report(), duration).optional();
    let operation = match (fields.get("rerun"), fields.get("dispatch")) {
        (Some(n), None) => rerun(n, cx),
        (None, Some(n)) => dispatch(n, cx),
        (Some(_), Some(_)) => {
            cx.report().error_hint(node.pos, "a github_actions action does one thing", "keep `rerun` or `dispatch`");
            None
        }
        (None, None) => {
            cx.report().error_hint(
                node.pos,
                "a github_actions action needs an operation",
                "write `rerun` or `dispatch`",
            );
            None
        }
    };
    Some(GithubAction { repo: repo?, operation: operation?, timeout: timeout? })
}

fn rerun(node: &Node, cx: &mut StepContext<'_>) -> Option<GithubOperation> {
    let fields = Fields::open(node, "rerun", &["run", "failed_only"], cx.report())?;
    let run = fields.require("run", cx.report()).and_then(|n| cx.template(n));
    let failed_only = fields.opt("failed_only", cx.report(), boolean).or(false);
    Some(GithubOperation::Rerun { run: run?, failed_only: failed_only? })
}

fn dispatch(node: &Node, cx: &mut StepContext<'_>) -> Option<GithubOperation> {
    let fields = Fields::open(node, "dispatch", &["workflow", "ref", "inputs"], cx.report())?;
    let workflow = fields.require("workflow", cx.report()).and_then(|n| cx.template(n));
    let git_ref = fields.require("ref", cx.report()).and_then(|n| cx.template(n));
    let inputs = match fields.get("inputs") {
        None => Some(BTreeMap::new()),
        Some(n) => {
            let entries = open_map(n, "inputs", cx.report())?;
            if entries.len() > MAX_INPUTS {
                cx.report()
                    .error(n.pos, format!("GitHub takes at most {MAX_INPUTS} inputs; this has {}", entries.len()));
                return None;
            }
            let mut out = BTreeMap::new();
            let mut ok = true;
            for (name, _, value) in entries {
                match cx.template(value) {
                    Some(t) => {
                        out.insert(name.to_owned(), t);
                    }
                    None => ok = false,
                }
            }
            ok.then_some(out)
        }
    };
    Some(GithubOperation::Dispatch { workflow: workflow?, git_ref: git_ref?, inputs: inputs? })
}
