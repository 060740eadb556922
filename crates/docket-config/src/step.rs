//! A workflow's `steps`: each has a unique name, exactly one action, an optional dry-run `plan`
//! and an optional `retry: safe`.

use docket_core::catalog::workflow::{Action, Retry, Step};

use crate::action::action;
use crate::decode::{Fields, Seen, excerpt, ident, list, text};
use crate::diagnostic::{Pos, Report, first_at};
use crate::node::Node;

const KEYS: &[&str] = &["name", "exec", "http", "sql", "wait", "plan", "retry"];
const ACTIONS: [&str; 4] = ["exec", "http", "sql", "wait"];

/// Reads `steps`: a non-empty list. Database names used by `sql` steps go to `databases`.
pub(crate) fn steps(
    node: &Node,
    params: &[String],
    databases: &mut Vec<(String, Pos)>,
    report: &mut Report,
) -> Option<Vec<Step>> {
    let items = list(node, "steps", report)?;
    if items.is_empty() {
        report.error(node.pos, "a workflow needs at least one step");
        return None;
    }
    let before = report.error_count();
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for item in items {
        let Some(fields) = Fields::open(item, "step", KEYS, report) else { continue };
        let name = fields.req("name", report, ident);
        if let (Some(name), Some(at)) = (&name, fields.get("name")) {
            seen.first(name, at.pos, "step name", report);
        }
        let act = one_action(&fields, "step", &ACTIONS, params, databases, report);
        let plan = fields.opt("plan", report, |n, r| plan(n, params, databases, r)).optional();
        let retry = fields.opt("retry", report, retry).or(Retry::Never);
        if let (Some(name), Some(action), Some(plan), Some(retry)) = (name, act, plan, retry) {
            out.push(Step { name, action, plan, retry });
        }
    }
    (report.error_count() == before).then_some(out)
}

/// A step's dry run: exactly one of `exec`, `http` or `sql`.
fn plan(node: &Node, params: &[String], databases: &mut Vec<(String, Pos)>, report: &mut Report) -> Option<Action> {
    let fields = Fields::open(node, "plan", &["exec", "http", "sql", "wait"], report)?;
    if let Some((key, _)) = fields.entry("wait") {
        report.error_hint(key.pos, "a plan cannot `wait`", "a plan is a dry run: exec, http or sql");
        return None;
    }
    one_action(&fields, "plan", &["exec", "http", "sql"], params, databases, report)
}

/// Exactly one of `kinds` must be written in `fields`.
fn one_action(
    fields: &Fields<'_>,
    what: &str,
    kinds: &[&str],
    params: &[String],
    databases: &mut Vec<(String, Pos)>,
    report: &mut Report,
) -> Option<Action> {
    let written: Vec<(&str, &Node, &Node)> =
        kinds.iter().filter_map(|k| fields.entry(k).map(|(key, value)| (*k, key, value))).collect();
    match written.as_slice() {
        [] => {
            let options = match kinds {
                [rest @ .., last] => {
                    format!("{} or `{last}`", rest.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "))
                }
                [] => String::new(),
            };
            report.error(fields.pos(), format!("a {what} needs one of {options}"));
            None
        }
        [(kind, key, value)] => {
            if value.is_null() {
                report.error(key.pos, format!("`{kind}` has no value"));
                return None;
            }
            action(kind, value, params, databases, report)
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
                    action(kind, value, params, databases, report);
                }
            }
            None
        }
    }
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
