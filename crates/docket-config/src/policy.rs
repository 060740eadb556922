//! `policies` to a [`PolicySet`]: conditions (see `condition`), exactly one outcome per rule,
//! approval stages whose approvers exist and are numerous enough.

use docket_core::PolicySet;
use docket_core::policy::{DEFAULT_APPROVAL_TTL, DEFAULT_REQUEST_TTL, Notify, Rule, RuleOutcome, StageRule};

use crate::condition::condition;
use crate::decode::{Fields, Seen, boolean, duration, ident, int_in, list, list_of, nonempty};
use crate::diagnostic::{Pos, Report, first_at};
use crate::node::Node;
use crate::people::People;
use crate::workflow::{mirror, principal};

const RULE_KEYS: &[&str] =
    &["name", "when", "deny", "auto_approve", "stages", "approval_ttl", "request_ttl", "notify", "mirror"];
const OUTCOMES: [&str; 3] = ["deny", "auto_approve", "stages"];

/// The rules, and every `params.NAME` they read, to check against the catalog.
#[derive(Debug, Default)]
pub(crate) struct Policies {
    /// The rules, when all are valid.
    pub(crate) set: Option<PolicySet>,
    /// Parameter names read by conditions, where they are written.
    pub(crate) params: Vec<(String, Pos)>,
}

/// Reads `policies`; approvers are checked against `people`; `notify` may name `surfaces`.
pub(crate) fn policies(
    node: Option<&Node>,
    people: &People,
    surfaces: &[&'static str],
    report: &mut Report,
) -> Policies {
    let mut out = Policies::default();
    let Some(node) = node else {
        out.set = Some(PolicySet::default());
        return out;
    };
    let before = report.error_count();
    let Some(items) = list(node, "policy rules", report) else { return out };
    let mut seen = Seen::default();
    let mut rules = Vec::new();
    let mut always: Option<(String, usize)> = None;
    for item in items {
        let Some(fields) = Fields::open(item, "policy rule", RULE_KEYS, report) else { continue };
        let name = fields.req("name", report, nonempty);
        if let (Some(name), Some(at)) = (&name, fields.get("name")) {
            seen.first(name, at.pos, "policy rule", report);
            if let Some((first, line)) = &always {
                let message = format!("rule `{name}` is never used: rule `{first}` (line {line}) always matches first");
                report.warning(fields.pos(), message, Some("move it above that rule, or remove it".to_owned()));
            }
        }
        let when = fields.req("when", report, |n, r| condition(n, &mut out.params, r));
        if let (Some(name), Some(when)) = (&name, &when)
            && when.source().trim() == "true"
            && always.is_none()
        {
            always = Some((name.clone(), fields.pos().line));
        }
        let outcome = outcome(&fields, people, &mut out.params, report);
        let approval_ttl = fields.opt("approval_ttl", report, ttl).or(DEFAULT_APPROVAL_TTL);
        let request_ttl = fields.opt("request_ttl", report, ttl).or(DEFAULT_REQUEST_TTL);
        let notify = fields.opt("notify", report, |n, r| notify(n, surfaces, r)).or(Notify::default());
        let mirror = fields.opt("mirror", report, |n, r| mirror(n, &people.systems, r)).optional();
        if let (
            Some(name),
            Some(when),
            Some(outcome),
            Some(approval_ttl),
            Some(request_ttl),
            Some(notify),
            Some(mirror),
        ) = (name, when, outcome, approval_ttl, request_ttl, notify, mirror)
        {
            rules.push(Rule { name, when, outcome, approval_ttl, request_ttl, notify, mirror });
        }
    }
    if report.error_count() == before {
        out.set = Some(PolicySet { rules });
    }
    out
}

/// Exactly one of `deny`, `auto_approve` or `stages`.
fn outcome(
    fields: &Fields<'_>,
    people: &People,
    params: &mut Vec<(String, Pos)>,
    report: &mut Report,
) -> Option<RuleOutcome> {
    let written: Vec<(&str, &Node)> =
        OUTCOMES.iter().filter_map(|k| fields.entry(k).map(|(key, _)| (*k, key))).collect();
    let read = |kind: &str, report: &mut Report, params: &mut Vec<(String, Pos)>| match kind {
        "deny" => fields.req("deny", report, nonempty).map(RuleOutcome::Deny),
        "auto_approve" => {
            let value = fields.req("auto_approve", report, boolean)?;
            if !value {
                let at = fields.get("auto_approve").map_or(fields.pos(), |n| n.pos);
                let hint = "write `auto_approve: true`, or remove the rule";
                report.error_hint(at, "`auto_approve: false` decides nothing", hint);
                return None;
            }
            Some(RuleOutcome::AutoApprove)
        }
        _ => fields.req("stages", report, |n, r| stages(n, people, params, r)).map(RuleOutcome::Stages),
    };
    match written.as_slice() {
        [] => {
            report.error(fields.pos(), "a policy rule needs one of `deny`, `auto_approve` or `stages`");
            None
        }
        [(kind, _)] => read(kind, report, params),
        [(first, first_key), more @ ..] => {
            for (kind, key) in more {
                let at = first_at(first_key.pos, key.pos);
                let message =
                    format!("a policy rule decides one thing, but this one has both `{first}` ({at}) and `{kind}`");
                report.error_hint(key.pos, message, "split it into two rules, each with its own `when`");
            }
            for (kind, _) in &written {
                read(kind, report, params);
            }
            None
        }
    }
}

fn stages(
    node: &Node,
    people: &People,
    params: &mut Vec<(String, Pos)>,
    report: &mut Report,
) -> Option<Vec<StageRule>> {
    let items = list(node, "stages", report)?;
    if items.is_empty() {
        report.error_hint(node.pos, "`stages` is empty", "write `auto_approve: true` to approve without anyone");
        return None;
    }
    let before = report.error_count();
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for item in items {
        let Some(fields) = Fields::open(item, "stage", &["name", "from", "count", "when"], report) else { continue };
        let name = fields.req("name", report, ident);
        if let (Some(name), Some(at)) = (&name, fields.get("name")) {
            seen.first(name, at.pos, "stage", report);
        }
        let from = fields.req("from", report, |n, r| approvers(n, people, r));
        let count = fields.opt("count", report, |n, r| int_in::<u32>(n, 1, 1000, r)).or(1);
        let when = fields.opt("when", report, |n, r| condition(n, params, r)).optional();
        let (Some(name), Some(from), Some(count), Some(when)) = (name, from, count, when) else { continue };
        let eligible = people.eligible(&from);
        let at = fields.get("count").or_else(|| fields.get("from")).map_or(item.pos, |n| n.pos);
        let n = eligible.len();
        let who = eligible.iter().cloned().collect::<Vec<_>>().join(", ");
        if usize::try_from(count).map_or(true, |c| c > n) {
            let approvals = if count == 1 { "approval" } else { "approvals" };
            let only = match n {
                0 => "nobody".to_owned(),
                1 => "only 1 person".to_owned(),
                _ => format!("only {n} people"),
            };
            let message = format!("stage `{name}` needs {count} {approvals} but {only} can ever give one");
            report.error_maybe(at, message, (n > 0).then(|| format!("they are: {who}")));
        } else if usize::try_from(count).is_ok_and(|c| c == n) {
            let (message, hint) = match n {
                1 => (
                    format!("only {who} can approve stage `{name}`"),
                    format!("nobody approves their own request, so a request by {who} can never pass this stage"),
                ),
                _ => (
                    format!("stage `{name}` needs all {n} of its approvers ({who})"),
                    "nobody approves their own request, so a request by one of them can never pass this stage"
                        .to_owned(),
                ),
            };
            report.warning(at, message, Some(hint));
        }
        out.push(StageRule { name, from, count, when });
    }
    (report.error_count() == before).then_some(out)
}

fn approvers(node: &Node, people: &People, report: &mut Report) -> Option<Vec<docket_core::Principal>> {
    let all = list_of(node, "approvers", report, |n, r| principal(n, r).map(|p| (people.approver(p), n.pos)))?;
    if all.is_empty() {
        report.error(node.pos, "a stage needs at least one approver in `from`");
        return None;
    }
    let before = report.error_count();
    for (principal, at) in &all {
        people.check(principal, *at, report);
    }
    (report.error_count() == before).then(|| all.into_iter().map(|(p, _)| p).collect())
}

fn ttl(node: &Node, report: &mut Report) -> Option<docket_core::Duration> {
    let value = duration(node, report)?;
    if value.as_millis() == 0 {
        report.error(node.pos, "must be longer than 0s");
        return None;
    }
    Some(value)
}

/// `notify: {surface: target, …}`; `surfaces` are the surfaces that take targets.
fn notify(node: &Node, surfaces: &[&'static str], report: &mut Report) -> Option<Notify> {
    let fields = Fields::open(node, "notify section", surfaces, report)?;
    let before = report.error_count();
    let mut targets = std::collections::BTreeMap::new();
    for surface in surfaces {
        if let Some(target) = fields.opt(surface, report, nonempty).optional()? {
            targets.insert((*surface).to_owned(), target);
        }
    }
    (report.error_count() == before).then_some(Notify { targets })
}
