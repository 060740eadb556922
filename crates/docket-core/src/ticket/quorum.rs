//! Counting approvals. An approval counts only if it is on the current plan digest and planning
//! round, has not expired, is not the requester's, and is that person's only counted approval.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Ticket, Verdict};
use crate::id::PersonId;
use crate::policy::Requirement;

/// Where one stage stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageStatus {
    /// Stage name.
    pub name: String,
    /// Approvals needed.
    pub needed: u32,
    /// People whose approval counts now, in the order they gave it.
    pub approvers: Vec<PersonId>,
    /// While satisfied: when it stops being satisfied because approvals expire.
    pub satisfied_until: Option<Timestamp>,
}

impl StageStatus {
    /// Whether the stage has its quorum.
    pub fn is_satisfied(&self) -> bool {
        self.satisfied_until.is_some()
    }
}

/// The status of every stage of `requirement` at `now`.
pub fn quorum(ticket: &Ticket, requirement: &Requirement, now: Timestamp) -> Vec<StageStatus> {
    let mut counted: BTreeSet<&PersonId> = BTreeSet::new();
    let valid: Vec<_> = ticket
        .reviews
        .iter()
        .filter(|r| {
            r.verdict == Verdict::Approve
                && r.round == ticket.round
                && r.digest.is_some()
                && r.digest == ticket.digest
                && r.person != ticket.requester
                && r.expires_at.is_none_or(|t| t > now)
        })
        .collect();
    // A person counts once per ticket: for the stage of their earliest valid approval.
    let mut first_stage_of: Vec<(&PersonId, &str)> = Vec::new();
    for r in &valid {
        if !first_stage_of.iter().any(|(p, _)| *p == &r.person)
            && let Some(stage) = r.stage.as_deref()
        {
            first_stage_of.push((&r.person, stage));
        }
    }
    requirement
        .stages
        .iter()
        .map(|stage| {
            let mut approvers = Vec::new();
            let mut expiries = Vec::new();
            for r in valid.iter().filter(|r| r.stage.as_deref() == Some(stage.name.as_str())) {
                let is_their_stage = first_stage_of.iter().any(|(p, s)| *p == &r.person && *s == stage.name);
                if is_their_stage && counted.insert(&r.person) {
                    approvers.push(r.person.clone());
                    expiries.push(r.expires_at.unwrap_or(Timestamp::MAX));
                }
            }
            expiries.sort_unstable_by(|a, b| b.cmp(a));
            let needed = usize::try_from(stage.count).unwrap_or(usize::MAX);
            let satisfied_until = if needed == 0 { Some(Timestamp::MAX) } else { expiries.get(needed - 1).copied() };
            StageStatus { name: stage.name.clone(), needed: stage.count, approvers, satisfied_until }
        })
        .collect()
}

impl Ticket {
    /// The stage a ticket awaiting approval asks now (the first without its quorum), as of its
    /// last change; `None` in any other state.
    pub fn stage_asked(&self) -> Option<&str> {
        if self.state != super::TicketState::AwaitingApproval {
            return None;
        }
        let crate::policy::Outcome::Approvals(requirement) = &self.decision.as_ref()?.outcome else { return None };
        let statuses = quorum(self, requirement, self.updated_at);
        current_stage(&statuses).and_then(|i| requirement.stages.get(i)).map(|s| s.name.as_str())
    }
}

/// The first stage without its quorum, which is the one being asked now.
pub(crate) fn current_stage(statuses: &[StageStatus]) -> Option<usize> {
    statuses.iter().position(|s| !s.is_satisfied())
}

/// When the approval as a whole lapses: the earliest stage to lose its quorum.
pub(crate) fn approved_until(statuses: &[StageStatus]) -> Option<Timestamp> {
    statuses.iter().map(|s| s.satisfied_until).collect::<Option<Vec<_>>>()?.into_iter().min()
}
