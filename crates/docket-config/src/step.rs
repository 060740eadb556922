//! A workflow's `steps`: each has a unique name, exactly one action of a kind this server has a
//! plug-in for, an optional dry-run `plan` (of a kind that can be one) and an optional
//! `retry: safe`. A kind nobody here can run is an unknown key, reported where it is written.

use docket_core::Action;
use docket_core::catalog::workflow::{Retry, Step};

use crate::decode::{Fields, Seen, excerpt, ident, list, text};
use crate::diagnostic::{Report, first_at};
use crate::node::Node;
use crate::plugin::{Plugins, Reference, StepContext};

/// The keys every step may have besides its action.
const STEP_KEYS: &[&str] = &["name", "plan", "retry"];

/// What reading steps needs: the workflow's parameters, the plug-ins, and where references to
/// other sections go.
pub(crate) struct StepsInput<'a> {
    pub(crate) params: &'a [String],
    pub(crate) plugins: &'a Plugins,
    pub(crate) references: &'a mut Vec<Reference>,
}

/// Reads `steps`: a non-empty list.
pub(crate) fn steps(node: &Node, input: &mut StepsInput<'_>, report: &mut Report) -> Option<Vec<Step>> {
    let items = list(node, "steps", report)?;
    if items.is_empty() {
        report.error(node.pos, "a workflow needs at least one step");
        return None;
    }
    let kinds = input.plugins.kind_names();
    let keys: Vec<&'static str> = STEP_KEYS.iter().copied().chain(kinds.iter().copied()).collect();
    let plannable: Vec<&'static str> =
        kinds.iter().copied().filter(|k| input.plugins.kind(k).is_some_and(|p| p.plannable())).collect();
    let before = report.error_count();
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for item in items {
        let Some(fields) = Fields::open(item, "step", &keys, report) else { continue };
        let name = fields.req("name", report, ident);
        if let (Some(name), Some(at)) = (&name, fields.get("name")) {
            seen.first(name, at.pos, "step name", report);
        }
        let act = one_action(&fields, "step", &kinds, input, report);
        let plan = fields.opt("plan", report, |n, r| plan(n, &kinds, &plannable, input, r)).optional();
        let retry = fields.opt("retry", report, retry).or(Retry::Never);
        if let (Some(name), Some(action), Some(plan), Some(retry)) = (name, act, plan, retry) {
            out.push(Step { name, action, plan, retry });
        }
    }
    (report.error_count() == before).then_some(out)
}

/// A step's dry run: exactly one action of a kind that can be a plan.
fn plan(
    node: &Node,
    kinds: &[&'static str],
    plannable: &[&'static str],
    input: &mut StepsInput<'_>,
    report: &mut Report,
) -> Option<Action> {
    let fields = Fields::open(node, "plan", kinds, report)?;
    for kind in kinds.iter().filter(|k| !plannable.contains(k)) {
        if let Some((key, _)) = fields.entry(kind) {
            let hint = format!("a plan is a dry run: {}", or_list(plannable));
            report.error_hint(key.pos, format!("a plan cannot `{kind}`"), hint);
            return None;
        }
    }
    one_action(&fields, "plan", plannable, input, report)
}

/// Exactly one of `kinds` must be written in `fields`.
fn one_action(
    fields: &Fields<'_>,
    what: &str,
    kinds: &[&'static str],
    input: &mut StepsInput<'_>,
    report: &mut Report,
) -> Option<Action> {
    let written: Vec<(&str, &Node, &Node)> =
        kinds.iter().filter_map(|k| fields.entry(k).map(|(key, value)| (*k, key, value))).collect();
    match written.as_slice() {
        [] => {
            let options = match kinds {
                [rest @ .., last] if !rest.is_empty() => {
                    format!("{} or `{last}`", rest.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "))
                }
                [only] => format!("`{only}`"),
                _ => "an action, but this server has no step kinds".to_owned(),
            };
            report.error(fields.pos(), format!("a {what} needs one of {options}"));
            None
        }
        [(kind, key, value)] => {
            if value.is_null() {
                report.error(key.pos, format!("`{kind}` has no value"));
                return None;
            }
            decode(kind, value, input, report)
        }
        [(first, first_key, _), more @ ..] => {
            for (kind, key, _) in more {
                let at = first_at(first_key.pos, key.pos);
                let message = format!("a {what} does one thing, but this one has both `{first}` ({at}) and `{kind}`");
                let hint = if what == "step" { "split it into two steps" } else { "keep one" };
                report.error_hint(key.pos, message, hint);
            }
            // Each action is still read, so its own mistakes are reported too.
            for (kind, _, value) in &written {
                if !value.is_null() {
                    decode(kind, value, input, report);
                }
            }
            None
        }
    }
}

/// `kind`'s plug-in reads `node`.
fn decode(kind: &str, node: &Node, input: &mut StepsInput<'_>, report: &mut Report) -> Option<Action> {
    let plugin = input.plugins.kind(kind)?;
    let mut cx = StepContext { params: input.params, report, references: input.references };
    let action = plugin.decode(node, &mut cx)?;
    // A decoder that got the kind wrong is a bug in the plug-in; say so rather than run it.
    if action.kind() != kind {
        report.error(node.pos, format!("the `{kind}` plug-in read this as a `{}` action", action.kind()));
        return None;
    }
    Some(action)
}

fn retry(node: &Node, report: &mut Report) -> Option<Retry> {
    match text(node, report)?.as_str() {
        "safe" => Some(Retry::Safe),
        "never" => Some(Retry::Never),
        other => {
            let message = format!("`retry` is `safe` or `never`, not `{}`", excerpt(other));
            report.error_hint(node.pos, message, "write `retry: safe` for a step that may run again after a crash");
            None
        }
    }
}

/// `a, b or c`.
fn or_list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
