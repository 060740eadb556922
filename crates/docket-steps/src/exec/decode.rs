//! Reading an `exec` action from a workflow file: `exec: {argv, env, cwd, timeout,
//! allow_shell_template}`, or just `exec: [argv…]`. A `{{param}}` in an argument a shell or
//! interpreter runs as code is an error (with the fix), or a warning under the opt-out.

use std::collections::BTreeMap;

use docket_config::plugin::{
    Fields, Node, Pos, Report, StepContext, StepKind, Value, boolean, duration, excerpt, is_var_name, list_of,
    open_map, template,
};
use docket_core::Action;
use docket_core::catalog::template::Template;

use super::action::ExecAction;
use super::shell;

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
        shell_templates(node, None, cx.report());
        return Some(ExecAction { argv, env: BTreeMap::new(), cwd: None, timeout: None, allow_shell_template: false });
    }
    let keys = ["argv", "env", "cwd", "timeout", "allow_shell_template"];
    let fields = Fields::open(node, "exec action", &keys, cx.report())?;
    let allowed = fields.entry("allow_shell_template");
    let allow_shell_template = fields.opt("allow_shell_template", cx.report(), boolean).or(false);
    let argv = fields.require("argv", cx.report()).and_then(|n| argv(n, cx));
    if argv.is_some()
        && let Some(argv_node) = fields.get("argv")
    {
        let opt_out = allowed.filter(|_| allow_shell_template == Some(true)).map(|(key, _)| key.pos);
        shell_templates(argv_node, opt_out, cx.report());
    }
    let env = match fields.get("env") {
        Some(n) => env(n, cx),
        None => Some(BTreeMap::new()),
    };
    let cwd = match fields.get("cwd") {
        Some(n) => cx.template(n).map(Some),
        None => Some(None),
    };
    let timeout = fields.opt("timeout", cx.report(), duration).optional();
    Some(ExecAction {
        argv: argv?,
        env: env?,
        cwd: cwd?,
        timeout: timeout?,
        allow_shell_template: allow_shell_template?,
    })
}

/// Refuses a `{{param}}` in an argument a shell or interpreter runs as code (see `shell`), at
/// the placeholder, with the fix; with the opt-out written at `opt_out`, a warning instead.
fn shell_templates(argv: &Node, opt_out: Option<Pos>, report: &mut Report) {
    let Value::Seq(items) = &argv.value else { return };
    let texts: Vec<&str> = items.iter().map(|n| n.scalar().map_or("", |s| s.text.as_str())).collect();
    let Some(code) = shell::code(&texts) else { return };
    for &index in &code.args {
        let (Some(node), Some(text)) = (items.get(index), texts.get(index)) else { continue };
        let Ok(template) = Template::parse(text) else { continue };
        let params: Vec<&str> = template.placeholders().collect();
        let (Some(first), Some(offset)) = (params.first(), text.find("{{")) else { continue };
        let named = params.iter().map(|p| format!("`{{{{{p}}}}}`")).collect::<Vec<_>>().join(", ");
        match opt_out {
            None => report.error_hint(node.locate(offset), shell::refusal(&code, &named), shell::fix(&code, first)),
            Some(at) => report.warning(
                node.locate(offset),
                format!(
                    "{named} reaches `{}` as code, allowed by `allow_shell_template: true` (line {}): make sure \
                     no value of it can be a command",
                    code.runs, at.line
                ),
                None,
            ),
        }
    }
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
