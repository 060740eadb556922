//! Reading an `exec` action from a workflow file: `exec: {argv, env, cwd, timeout}`, or just
//! `exec: [argv…]`.

use std::collections::BTreeMap;

use docket_config::plugin::{
    Fields, Node, Report, StepContext, StepKind, Value, duration, excerpt, is_var_name, list_of, open_map, template,
};
use docket_core::Action;
use docket_core::catalog::template::Template;

use super::action::ExecAction;

/// The `exec` step kind's decoder.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExecKind;

impl StepKind for ExecKind {
    fn name(&self) -> &'static str {
        "exec"
    }

    fn decode(&self, node: &Node, cx: &mut StepContext<'_>) -> Option<Action> {
        exec(node, cx).map(Action::new)
    }
}

fn exec(node: &Node, cx: &mut StepContext<'_>) -> Option<ExecAction> {
    if matches!(node.value, Value::Seq(_)) {
        let argv = argv(node, cx)?;
        return Some(ExecAction { argv, env: BTreeMap::new(), cwd: None, timeout: None });
    }
    let fields = Fields::open(node, "exec action", &["argv", "env", "cwd", "timeout"], cx.report())?;
    let argv = fields.require("argv", cx.report()).and_then(|n| argv(n, cx));
    let env = match fields.get("env") {
        Some(n) => env(n, cx),
        None => Some(BTreeMap::new()),
    };
    let cwd = match fields.get("cwd") {
        Some(n) => cx.template(n).map(Some),
        None => Some(None),
    };
    let timeout = fields.opt("timeout", cx.report(), duration).optional();
    Some(ExecAction { argv: argv?, env: env?, cwd: cwd?, timeout: timeout? })
}

fn argv(node: &Node, cx: &mut StepContext<'_>) -> Option<Vec<Template>> {
    let params = cx.params().to_vec();
    let argv = list_of(node, "arguments", cx.report(), |n, r| template(n, &params, r))?;
    if argv.is_empty() {
        cx.report().error(node.pos, "`argv` needs at least the program to run");
        return None;
    }
    Some(argv)
}

fn env(node: &Node, cx: &mut StepContext<'_>) -> Option<BTreeMap<String, Template>> {
    named_templates(node, "environment variables", cx, |name, key, report| {
        if !is_var_name(name) {
            let message = format!("`{}` is not an environment variable name", excerpt(name));
            report.error_hint(key.pos, message, "use letters, digits and `_`, not starting with a digit");
        }
    })
}

/// A map of names to templates (`env`, `headers`): each name checked by `check_name`, each
/// value a template; `None` if anything in it was wrong.
pub(crate) fn named_templates(
    node: &Node,
    what: &str,
    cx: &mut StepContext<'_>,
    check_name: impl Fn(&str, &Node, &mut Report),
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
