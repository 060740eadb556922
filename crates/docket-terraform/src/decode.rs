//! Reading a `terraform` action from a workflow file: `terraform: {dir, binary, workspace, vars,
//! env, timeout}`. `dir` is required; `binary` is a program name or path, never a template (a
//! parameter cannot choose the program).

use std::collections::BTreeMap;

use docket_config::plugin::{
    Fields, Node, Report, StepContext, StepKind, duration, excerpt, is_var_name, nonempty, open_map,
};
use docket_core::Action;
use docket_core::catalog::template::Template;

use crate::action::{DEFAULT_BINARY, TerraformAction};

/// The `terraform` step kind's decoder.
#[derive(Clone, Copy, Debug, Default)]
pub struct TerraformKind;

impl StepKind for TerraformKind {
    fn name(&self) -> &'static str {
        "terraform"
    }

    /// A Terraform step plans itself; it is not a `plan` of another step.
    fn plannable(&self) -> bool {
        false
    }

    fn decode(&self, node: &Node, cx: &mut StepContext<'_>) -> Option<Action> {
        terraform(node, cx).map(Action::new)
    }
}

fn terraform(node: &Node, cx: &mut StepContext<'_>) -> Option<TerraformAction> {
    let keys = ["dir", "binary", "workspace", "vars", "env", "timeout"];
    let fields = Fields::open(node, "terraform action", &keys, cx.report())?;
    let dir = fields.require("dir", cx.report()).and_then(|n| cx.template(n));
    let binary = fields.opt("binary", cx.report(), program).or(DEFAULT_BINARY.to_owned());
    let workspace = match fields.get("workspace") {
        Some(n) => cx.template(n).map(Some),
        None => Some(None),
    };
    let vars = match fields.get("vars") {
        Some(n) => named(n, "input variables", cx, check_var_name),
        None => Some(BTreeMap::new()),
    };
    let env = match fields.get("env") {
        Some(n) => named(n, "environment variables", cx, check_env_name),
        None => Some(BTreeMap::new()),
    };
    let timeout = fields.opt("timeout", cx.report(), duration).optional();
    Some(TerraformAction {
        binary: binary?,
        dir: dir?,
        workspace: workspace?,
        vars: vars?,
        env: env?,
        timeout: timeout?,
    })
}

fn program(node: &Node, report: &mut Report) -> Option<String> {
    let name = nonempty(node, report)?;
    if name.contains("{{") {
        report.error_hint(node.pos, "`binary` is a program, not a template", "name it: `terraform`, `tofu` or a path");
        return None;
    }
    if name.chars().any(char::is_whitespace) {
        report.error_hint(
            node.pos,
            "`binary` is one program, without arguments",
            "name it: `terraform`, `tofu` or a path",
        );
        return None;
    }
    Some(name)
}

fn check_var_name(name: &str, key: &Node, report: &mut Report) {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        let message = format!("`{}` is not a Terraform variable name", excerpt(name));
        report.error_hint(key.pos, message, "use letters, digits, `_` and `-`, starting with a letter");
    }
}

fn check_env_name(name: &str, key: &Node, report: &mut Report) {
    if !is_var_name(name) {
        let message = format!("`{}` is not an environment variable name", excerpt(name));
        report.error_hint(key.pos, message, "use letters, digits and `_`, not starting with a digit");
    }
}

/// A map of names to templates, each name checked; `None` if anything in it was wrong.
fn named(
    node: &Node,
    what: &str,
    cx: &mut StepContext<'_>,
    check_name: fn(&str, &Node, &mut Report),
) -> Option<BTreeMap<String, Template>> {
    let entries = open_map(node, what, cx.report())?;
    let before = cx.report().error_count();
    let mut out = BTreeMap::new();
    for (name, key, value) in entries {
        check_name(name, key, cx.report());
        if let Some(t) = cx.template(value) {
            out.insert(name.to_owned(), t);
        }
    }
    (cx.report().error_count() == before).then_some(out)
}
