//! Structured changes: what a step's plan will do to each thing it manages, beyond its text.
//! A kind that computes a diff (an infrastructure plan, a manifest diff) reports one
//! [`Change`] per target; the digest covers them, policies count them (`plan.deletes`), and
//! every surface shows them the same way: the summary first, destroys and replaces first.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a change does to its target.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ChangeAction {
    /// A new target.
    Create,
    /// A target changed in place.
    Update,
    /// A target destroyed and created again (in either order).
    Replace,
    /// A target destroyed.
    Delete,
    /// Nothing changes.
    NoOp,
    /// Only read (a data source).
    Read,
    /// An action Docket does not know, kept as the tool wrote it so it is shown, never dropped.
    Other(String),
}

impl ChangeAction {
    /// As written in plans: `create`, `update`, `replace`, `delete`, `no-op`, `read`, or the
    /// unknown action's own words.
    pub fn as_str(&self) -> &str {
        match self {
            ChangeAction::Create => "create",
            ChangeAction::Update => "update",
            ChangeAction::Replace => "replace",
            ChangeAction::Delete => "delete",
            ChangeAction::NoOp => "no-op",
            ChangeAction::Read => "read",
            ChangeAction::Other(words) => words,
        }
    }

    /// Whether approvers must see it before anything else: it destroys something, or Docket
    /// cannot tell what it does.
    pub fn is_destructive(&self) -> bool {
        matches!(self, ChangeAction::Delete | ChangeAction::Replace | ChangeAction::Other(_))
    }

    /// The verb people read: `destroy`, `replace`, `create`, `update`, `read`, `no change`.
    pub fn verb(&self) -> &str {
        match self {
            ChangeAction::Delete => "destroy",
            ChangeAction::NoOp => "no change",
            other => other.as_str(),
        }
    }

    /// Where it is listed: destroys, replaces and unknown actions first, then creates,
    /// updates, reads, and no-ops last.
    pub fn rank(&self) -> u8 {
        match self {
            ChangeAction::Delete => 0,
            ChangeAction::Replace => 1,
            ChangeAction::Other(_) => 2,
            ChangeAction::Create => 3,
            ChangeAction::Update => 4,
            ChangeAction::Read => 5,
            ChangeAction::NoOp => 6,
        }
    }
}

impl From<String> for ChangeAction {
    fn from(text: String) -> Self {
        match text.as_str() {
            "create" => ChangeAction::Create,
            "update" => ChangeAction::Update,
            "replace" => ChangeAction::Replace,
            "delete" => ChangeAction::Delete,
            "no-op" => ChangeAction::NoOp,
            "read" => ChangeAction::Read,
            _ => ChangeAction::Other(text),
        }
    }
}

impl From<ChangeAction> for String {
    fn from(action: ChangeAction) -> Self {
        action.as_str().to_owned()
    }
}

impl fmt::Display for ChangeAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One target's change: `{target, action, before, after}`. `before` and `after` are the
/// target's values as the tool reported them (`null` when there is none: nothing before a
/// create, nothing after a delete), with secrets already shown as `(sensitive)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// What changes: `module.db.aws_db_instance.main`.
    pub target: String,
    /// How.
    pub action: ChangeAction,
    /// Its value before.
    #[serde(default)]
    pub before: serde_json::Value,
    /// Its value after.
    #[serde(default)]
    pub after: serde_json::Value,
}

impl Change {
    /// A change with no values.
    pub fn new(target: impl Into<String>, action: ChangeAction) -> Self {
        Self { target: target.into(), action, before: serde_json::Value::Null, after: serde_json::Value::Null }
    }
}

/// How many changes of each action a plan has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChangeCounts {
    /// Creates.
    pub creates: u64,
    /// Updates in place.
    pub updates: u64,
    /// Replaces.
    pub replaces: u64,
    /// Deletes.
    pub deletes: u64,
    /// Reads.
    pub reads: u64,
    /// No-ops.
    pub unchanged: u64,
    /// Actions Docket does not know.
    pub others: u64,
}

impl ChangeCounts {
    /// The counts of `changes`.
    pub fn of<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Self {
        let mut counts = Self::default();
        for change in changes {
            let slot = match change.action {
                ChangeAction::Create => &mut counts.creates,
                ChangeAction::Update => &mut counts.updates,
                ChangeAction::Replace => &mut counts.replaces,
                ChangeAction::Delete => &mut counts.deletes,
                ChangeAction::Read => &mut counts.reads,
                ChangeAction::NoOp => &mut counts.unchanged,
                ChangeAction::Other(_) => &mut counts.others,
            };
            *slot = slot.saturating_add(1);
        }
        counts
    }

    /// Every change counted.
    pub fn total(&self) -> u64 {
        [self.creates, self.updates, self.replaces, self.deletes, self.reads, self.unchanged, self.others]
            .iter()
            .fold(0u64, |sum, n| sum.saturating_add(*n))
    }

    /// "2 to add, 1 to change, 1 to replace, 1 to destroy": the counts that are not zero (and
    /// reads, unknown actions and unchanged targets after them); "no changes" when nothing
    /// changes.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            (self.creates, "to add"),
            (self.updates, "to change"),
            (self.replaces, "to replace"),
            (self.deletes, "to destroy"),
            (self.others, "of an unknown kind"),
            (self.reads, "to read"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, words)| format!("{n} {words}"))
        .collect();
        let mut text = if parts.is_empty() { "no changes".to_owned() } else { parts.join(", ") };
        if self.unchanged > 0 {
            text.push_str(&format!(" ({} unchanged)", self.unchanged));
        }
        text
    }
}

/// `changes` in the order people read them: destroys, replaces and unknown actions first, then
/// creates, updates, reads and no-ops; by target within each.
pub fn ordered<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Vec<&'a Change> {
    let mut out: Vec<&Change> = changes.into_iter().collect();
    out.sort_by(|a, b| (a.action.rank(), &a.target).cmp(&(b.action.rank(), &b.target)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_back_as_written_and_unknown_ones_are_kept() {
        for words in ["create", "update", "replace", "delete", "no-op", "read", "forget"] {
            let action = ChangeAction::from(words.to_owned());
            assert_eq!(action.as_str(), words);
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(serde_json::from_str::<ChangeAction>(&json).unwrap(), action);
        }
        assert_eq!(ChangeAction::from("forget".to_owned()), ChangeAction::Other("forget".to_owned()));
    }

    #[test]
    fn summary_counts_what_changes() {
        let changes: Vec<Change> = [
            ("a", ChangeAction::Create),
            ("b", ChangeAction::Create),
            ("c", ChangeAction::Update),
            ("d", ChangeAction::Delete),
            ("e", ChangeAction::NoOp),
        ]
        .into_iter()
        .map(|(t, a)| Change::new(t, a))
        .collect();
        let counts = ChangeCounts::of(&changes);
        assert_eq!(counts.summary(), "2 to add, 1 to change, 1 to destroy (1 unchanged)");
        assert_eq!(counts.total(), 5);
        assert_eq!(ChangeCounts::default().summary(), "no changes");
        let order: Vec<&str> = ordered(&changes).iter().map(|c| c.target.as_str()).collect();
        assert_eq!(order, ["d", "a", "b", "c", "e"]);
    }
}
