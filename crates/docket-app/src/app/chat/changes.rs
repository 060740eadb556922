//! A plan's structured changes as every chat shows them: the summary first ("2 to add, 1 to
//! destroy"), then one line per change that does something — destroys, replaces and actions
//! Docket does not know first, marked with ⚠, then creates, updates and reads — with no-ops
//! left out (they are counted in the summary). A chat shows as many lines as its limits allow
//! ([`ChangesBrief::fit`]) and points to the ticket's page for the rest, where every change is
//! shown in full, before → after.

use docket_core::Plan;
use docket_core::plan::{ChangeAction, change::ordered};
use serde::Serialize;

/// The changes of a plan, for chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangesBrief {
    /// "2 to add, 1 to change, 1 to destroy".
    pub summary: String,
    /// Every change but no-ops, in the order people must read them.
    pub lines: Vec<ChangeLine>,
}

/// One change in one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeLine {
    /// "⚠ destroy aws_db_instance.main", "+ create aws_s3_bucket.logs".
    pub text: String,
    /// Whether it destroys something or Docket cannot tell what it does: shown first, marked.
    pub marked: bool,
}

impl ChangesBrief {
    /// The brief of `plan`, when a step reported structured changes.
    pub fn of(plan: &Plan) -> Option<Self> {
        if !plan.has_changes() {
            return None;
        }
        let lines = ordered(plan.changes())
            .into_iter()
            .filter(|c| c.action != ChangeAction::NoOp)
            .map(|c| {
                let marked = c.action.is_destructive();
                let mark = match &c.action {
                    _ if marked => "⚠",
                    ChangeAction::Create => "+",
                    ChangeAction::Update => "~",
                    ChangeAction::Read => "<=",
                    _ => "·",
                };
                let unknown =
                    if matches!(c.action, ChangeAction::Other(_)) { " (an action Docket does not know)" } else { "" };
                let values =
                    if c.action == ChangeAction::Update { what_changed(&c.before, &c.after) } else { String::new() };
                ChangeLine { text: format!("{mark} {} {}{unknown}{values}", c.action.verb(), c.target), marked }
            })
            .collect();
        Some(Self { summary: plan.counts().summary(), lines })
    }

    /// The first lines that fit in `max_lines` lines and `max_chars` characters (each line cut
    /// to `max_line` characters), and how many are left out.
    pub fn fit(&self, max_lines: usize, max_chars: usize, max_line: usize) -> (Vec<String>, usize) {
        let mut shown = Vec::new();
        let mut used = 0;
        for line in self.lines.iter().take(max_lines) {
            let text = cut(&line.text, max_line);
            let len = text.chars().count() + 1;
            if used + len > max_chars {
                break;
            }
            used += len;
            shown.push(text);
        }
        let more = self.lines.len() - shown.len();
        (shown, more)
    }

    /// "… and 480 more changes on the ticket's page".
    pub fn more(n: usize) -> String {
        format!("… and {n} more change{} on the ticket's page", if n == 1 { "" } else { "s" })
    }
}

/// At most this many values are named in an update's line.
const VALUES_SHOWN: usize = 3;

/// For an update whose values are objects, the plain values that change, before → after:
/// `": image registry/api:1.4.1 → registry/api:1.4.2"` (the first few by name, then how many
/// more); empty when there are none to name. Nested values are left to the ticket's page.
fn what_changed(before: &serde_json::Value, after: &serde_json::Value) -> String {
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else { return String::new() };
    let plain = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) => Some(v.to_string()),
        _ => None,
    };
    let changed: Vec<String> = before
        .iter()
        .filter_map(|(key, was)| {
            let is = after.get(key)?;
            (was != is).then_some(())?;
            Some(format!("{key} {} → {}", plain(was)?, plain(is)?))
        })
        .collect();
    if changed.is_empty() {
        return String::new();
    }
    let mut text = format!(": {}", changed.iter().take(VALUES_SHOWN).cloned().collect::<Vec<_>>().join("; "));
    if changed.len() > VALUES_SHOWN {
        text.push_str(&format!("; and {} more", changed.len() - VALUES_SHOWN));
    }
    text
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use docket_core::plan::{Change, StepPlan};
    use docket_core::{PlanFacts, plan::ChangeAction as A};

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            steps: vec![StepPlan {
                name: "net".into(),
                kind: "terraform".into(),
                summary: String::new(),
                details: Vec::new(),
                action: serde_json::Value::Null,
                output: None,
                facts: PlanFacts { changes, ..PlanFacts::default() },
            }],
        }
    }

    #[test]
    fn destroys_and_replaces_come_first_and_marked_and_no_ops_are_counted_only() {
        let p = plan(vec![
            Change::new("b.create", A::Create),
            Change::new("a.same", A::NoOp),
            Change::new("c.update", A::Update),
            Change::new("d.replace", A::Replace),
            Change::new("e.delete", A::Delete),
            Change::new("f.forget", A::Other("forget".into())),
        ]);
        let brief = ChangesBrief::of(&p).unwrap();
        assert_eq!(
            brief.summary,
            "1 to add, 1 to change, 1 to replace, 1 to destroy, 1 of an unknown kind (1 unchanged)"
        );
        let texts: Vec<&str> = brief.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "⚠ destroy e.delete",
                "⚠ replace d.replace",
                "⚠ forget f.forget (an action Docket does not know)",
                "+ create b.create",
                "~ update c.update",
            ]
        );
        assert_eq!(brief.lines.iter().filter(|l| l.marked).count(), 3);
        let (shown, more) = brief.fit(2, 1000, 100);
        assert_eq!((shown.len(), more), (2, 3));
        assert_eq!(ChangesBrief::more(more), "… and 3 more changes on the ticket's page");
        assert_eq!(ChangesBrief::of(&plan(Vec::new())), None);
    }

    #[test]
    fn an_update_names_the_plain_values_that_change() {
        let mut image = Change::new("deployment api in prod (3 replicas)", A::Update);
        image.before = serde_json::json!({"image": "api:1.4.1", "replicas": 3, "ports": [80]});
        image.after = serde_json::json!({"image": "api:1.4.2", "replicas": 3, "ports": [8080]});
        let mut many = Change::new("db", A::Update);
        many.before = serde_json::json!({"a": 1, "b": 1, "c": 1, "d": 1, "e": true});
        many.after = serde_json::json!({"a": 2, "b": 2, "c": 2, "d": 2, "e": true});
        let mut created = Change::new("new", A::Create);
        created.after = serde_json::json!({"a": 1});
        let brief = ChangesBrief::of(&plan(vec![image, many, created])).unwrap();
        let texts: Vec<&str> = brief.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "+ create new",
                "~ update db: a 1 → 2; b 1 → 2; c 1 → 2; and 1 more",
                "~ update deployment api in prod (3 replicas): image api:1.4.1 → api:1.4.2",
            ]
        );
    }
}
