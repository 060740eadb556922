//! Policies: ordered rules; the first whose `when` holds decides whether a ticket is denied,
//! approved at once, or needs approval stages — and says why in words.

mod condition;
mod decide;
mod references;

pub use condition::{Condition, ConditionError, EvalError, VARIABLES, Variables};
pub use decide::{decide, decide_before_plan, describe_stages};
pub use references::{FIELDS, field_refs, identifier_at};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::directory::Principal;
use crate::duration::Duration;

/// How long an approval stays usable when a rule does not say.
pub const DEFAULT_APPROVAL_TTL: Duration = Duration::from_secs(3600);
/// How long a request waits for approval when a rule does not say.
pub const DEFAULT_REQUEST_TTL: Duration = Duration::from_secs(24 * 3600);

/// Every rule, in order.
#[derive(Debug, Default)]
pub struct PolicySet {
    /// The rules; the first that matches decides.
    pub rules: Vec<Rule>,
}

impl PolicySet {
    /// The rule named `name`.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Whether any rule says which ticketing systems its tickets are mirrored to.
    pub fn chooses_mirrors(&self) -> bool {
        self.rules.iter().any(|r| r.mirror.is_some())
    }
}

/// One policy rule.
#[derive(Debug)]
pub struct Rule {
    /// Its name, quoted in explanations.
    pub name: String,
    /// When it applies.
    pub when: Condition,
    /// What it decides.
    pub outcome: RuleOutcome,
    /// An approval must be used (its run started) within this.
    pub approval_ttl: Duration,
    /// An unanswered request expires after this.
    pub request_ttl: Duration,
    /// Where approval requests are posted.
    pub notify: Notify,
    /// The ticketing systems the tickets it decides are mirrored to (`mirror: [jira]`); `None`
    /// leaves it to the workflow.
    pub mirror: Option<Vec<String>>,
}

/// What a matching rule decides.
#[derive(Debug)]
pub enum RuleOutcome {
    /// Refuse, with this message.
    Deny(String),
    /// Run without approval.
    AutoApprove,
    /// Ask these stages, in order.
    Stages(Vec<StageRule>),
}

/// One approval stage as written in a rule.
#[derive(Debug)]
pub struct StageRule {
    /// Stage name (`sre`).
    pub name: String,
    /// Who may approve.
    pub from: Vec<Principal>,
    /// How many distinct approvals it needs.
    pub count: u32,
    /// The stage applies only when this holds.
    pub when: Option<Condition>,
}

/// Where a rule's approval requests are posted, per surface (`slack` → a channel id). Each
/// surface says what its targets are; core only keeps them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Notify {
    /// Surface name → target on it.
    #[serde(deserialize_with = "targets")]
    pub targets: BTreeMap<String, String>,
}

impl Notify {
    /// The target on `surface`, if the rule names one.
    pub fn on(&self, surface: &str) -> Option<&str> {
        self.targets.get(surface).map(String::as_str)
    }
}

/// Targets as stored; a surface without one was once written as `null`.
fn targets<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    let written: BTreeMap<String, Option<String>> = serde::Deserialize::deserialize(deserializer)?;
    Ok(written.into_iter().filter_map(|(surface, target)| Some((surface, target?))).collect())
}

/// A policy's decision about one plan, with the reason in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The rule that decided, if one matched.
    pub rule: Option<String>,
    /// What it decided.
    pub outcome: Outcome,
    /// Why, for people: "needs 1 approval from sre because rule `production` matched: …".
    pub explanation: String,
}

/// The three possible decisions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Outcome {
    /// Refused.
    Deny {
        /// The rule's message.
        message: String,
    },
    /// Runs without approval.
    AutoApprove {
        /// The approval TTL still bounds how long it may wait to start.
        approval_ttl: Duration,
    },
    /// Needs approvals.
    Approvals(Requirement),
}

/// The approvals a ticket needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// Stages that apply, in the order they are asked.
    pub stages: Vec<Stage>,
    /// How long each approval stays usable.
    pub approval_ttl: Duration,
    /// How long the request waits.
    pub request_ttl: Duration,
    /// Where requests are posted.
    pub notify: Notify,
}

/// One stage of a requirement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// Stage name.
    pub name: String,
    /// Who may approve.
    pub from: Vec<Principal>,
    /// Distinct approvals needed.
    pub count: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_targets_read_back_from_the_older_stored_form() {
        let old: Notify = serde_json::from_str(r#"{"slack": "C0X", "teams": null}"#).unwrap();
        assert_eq!(old.on("slack"), Some("C0X"));
        assert_eq!(old.on("teams"), None);
        let round: Notify = serde_json::from_str(&serde_json::to_string(&old).unwrap()).unwrap();
        assert_eq!(round, old);
    }
}
