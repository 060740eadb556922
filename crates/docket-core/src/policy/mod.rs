//! Policies: ordered rules; the first whose `when` holds decides whether a ticket is denied,
//! approved at once, or needs approval stages — and says why in words.

mod condition;
mod decide;
mod references;

pub use condition::{Condition, ConditionError, EvalError, VARIABLES, Variables};
pub use decide::{decide, describe_stages};
pub use references::{FIELDS, field_refs, identifier_at};

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

/// Channels where a rule's approval requests are posted, per surface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    /// A Slack channel id.
    pub slack: Option<String>,
    /// A Teams conversation id.
    pub teams: Option<String>,
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
