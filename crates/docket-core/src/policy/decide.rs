//! Evaluating a policy set: the first matching rule decides; errors fail closed. Before a ticket
//! is planned, the rules are read in the same order up to the first that reads `plan`: a
//! decision reached before it does not depend on the plan, so it is taken before any dry run.

use std::fmt::Write as _;

use super::condition::Variables;
use super::{Decision, Outcome, PolicySet, Requirement, RuleOutcome, Stage};

/// Decides for the request described by `vars`.
///
/// A rule whose condition fails to evaluate denies (fail closed) rather than being skipped, so a
/// broken production rule can never fall through to an auto-approving default. A stage whose
/// `when` fails to evaluate is kept.
pub fn decide(policies: &PolicySet, vars: &Variables) -> Decision {
    walk(policies, vars, false).unwrap_or_else(no_rule)
}

/// The decision for a request not planned yet, when it does not depend on the plan: no rule
/// before the deciding one, nor the deciding rule or its stages, reads `plan`. `None` when the
/// plan is needed to decide. ([`decide`] with the plan then reaches the same decision.)
pub fn decide_before_plan(policies: &PolicySet, vars: &Variables) -> Option<Decision> {
    walk(policies, vars, true)
}

fn walk(policies: &PolicySet, vars: &Variables, before_plan: bool) -> Option<Decision> {
    for rule in &policies.rules {
        if before_plan && rule.when.reads_plan() {
            return None;
        }
        let matched = match rule.when.eval(vars) {
            Ok(m) => m,
            Err(e) => {
                return Some(Decision {
                    rule: Some(rule.name.clone()),
                    outcome: Outcome::Deny {
                        message: format!(
                            "Policy rule `{}` could not be evaluated, so the request is denied to be safe.",
                            rule.name
                        ),
                    },
                    explanation: format!("denied because rule `{}` could not be evaluated: {e}", rule.name),
                });
            }
        };
        if !matched {
            continue;
        }
        let because = format!("because rule `{}` matched: {}", rule.name, rule.when.source());
        if before_plan
            && let RuleOutcome::Stages(stages) = &rule.outcome
            && stages.iter().any(|s| s.when.as_ref().is_some_and(|c| c.reads_plan()))
        {
            return None;
        }
        return Some(match &rule.outcome {
            RuleOutcome::Deny(message) => Decision {
                rule: Some(rule.name.clone()),
                outcome: Outcome::Deny { message: message.clone() },
                explanation: format!("denied {because} — {message}"),
            },
            RuleOutcome::AutoApprove => Decision {
                rule: Some(rule.name.clone()),
                outcome: Outcome::AutoApprove { approval_ttl: rule.approval_ttl },
                explanation: format!("approved automatically {because}"),
            },
            RuleOutcome::Stages(stage_rules) => {
                let mut stages = Vec::new();
                let mut notes = String::new();
                for stage in stage_rules {
                    let applies = match &stage.when {
                        None => true,
                        Some(cond) => match cond.eval(vars) {
                            Ok(b) => {
                                if !b {
                                    let _ = write!(
                                        notes,
                                        "; stage `{}` is not needed because {} is false",
                                        stage.name,
                                        cond.source()
                                    );
                                }
                                b
                            }
                            Err(e) => {
                                let _ = write!(
                                    notes,
                                    "; stage `{}` is required because its condition failed: {e}",
                                    stage.name
                                );
                                true
                            }
                        },
                    };
                    if applies {
                        stages.push(Stage { name: stage.name.clone(), from: stage.from.clone(), count: stage.count });
                    }
                }
                if stages.is_empty() {
                    Decision {
                        rule: Some(rule.name.clone()),
                        outcome: Outcome::AutoApprove { approval_ttl: rule.approval_ttl },
                        explanation: format!("approved automatically: no stage applies {because}{notes}"),
                    }
                } else {
                    let needs = describe_stages(&stages);
                    Decision {
                        rule: Some(rule.name.clone()),
                        outcome: Outcome::Approvals(Requirement {
                            stages,
                            approval_ttl: rule.approval_ttl,
                            request_ttl: rule.request_ttl,
                            notify: rule.notify.clone(),
                        }),
                        explanation: format!("needs {needs} {because}{notes}"),
                    }
                }
            }
        });
    }
    Some(no_rule())
}

fn no_rule() -> Decision {
    Decision {
        rule: None,
        outcome: Outcome::Deny {
            message: "No policy rule allows this request.".to_owned(),
        },
        explanation: "denied because no policy rule matched (end the policy list with a rule whose `when` is \"true\" to set a default)".to_owned(),
    }
}

/// "1 approval from sre, then 2 approvals from security".
pub fn describe_stages(stages: &[Stage]) -> String {
    stages
        .iter()
        .map(|s| format!("{} approval{} from {}", s.count, if s.count == 1 { "" } else { "s" }, s.name))
        .collect::<Vec<_>>()
        .join(", then ")
}
