//! Events: the facts a decided command causes. A ticket is the fold of its events, and each
//! event becomes one audit record.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Comment, ExternalLink, Origin, Review, RunOutcome, StepOutcome};
use crate::actor::Actor;
use crate::catalog::param::Params;
use crate::id::{PersonId, TicketId, WorkflowId};
use crate::plan::{Digest, Plan};
use crate::policy::Decision;

/// Something that happened to a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    /// The ticket was opened.
    Requested {
        /// Its id.
        id: TicketId,
        /// Its workflow.
        workflow: WorkflowId,
        /// The workflow version it pins.
        version: String,
        /// Validated parameters.
        params: Params,
        /// Who asks.
        requester: PersonId,
        /// Who issued the request (the person, or an agent for them).
        requested_by: Actor,
        /// Where.
        origin: Origin,
    },
    /// Planning (round `round`) began.
    PlanningStarted {
        /// The new round.
        round: u32,
    },
    /// Planning produced a plan.
    Planned {
        /// The plan.
        plan: Plan,
        /// Its digest.
        digest: Digest,
    },
    /// Planning failed.
    PlanFailed {
        /// Why.
        error: String,
    },
    /// The policy decided.
    Decided {
        /// The decision.
        decision: Decision,
        /// The request's deadline, when approvals are needed.
        respond_by: Option<Timestamp>,
    },
    /// An approver approved, rejected or asked for changes.
    Reviewed(Review),
    /// Every stage has its quorum on the current plan.
    Approved {
        /// The run must start before this.
        start_by: Option<Timestamp>,
    },
    /// Waiting for a worker.
    Queued,
    /// The requester changed the parameters (and possibly re-pinned a newer workflow version).
    Amended {
        /// New parameters.
        params: Params,
        /// The version now pinned.
        version: String,
    },
    /// Someone commented.
    Commented(Comment),
    /// Withdrawn.
    Cancelled {
        /// By whom.
        by: Actor,
        /// Why.
        reason: Option<String>,
    },
    /// A deadline passed.
    Expired {
        /// Which one.
        reason: ExpiryReason,
    },
    /// A failed or interrupted ticket is planned again (possibly on a newer workflow version).
    RetryRequested {
        /// The version now pinned.
        version: String,
    },
    /// A run began.
    RunStarted {
        /// Its number.
        number: u32,
    },
    /// A step began (or resumed after a crash).
    StepStarted {
        /// Index in the workflow's steps.
        index: usize,
        /// Its name.
        name: String,
    },
    /// A step ended.
    StepFinished {
        /// Index in the workflow's steps.
        index: usize,
        /// How.
        outcome: StepOutcome,
        /// What it printed, digested (absent in records written before output was digested).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<crate::output::StepOutput>,
    },
    /// The run ended.
    RunFinished {
        /// How.
        outcome: RunOutcome,
    },
    /// The ticket's record in a ticketing system was made (or found) there.
    Linked(ExternalLink),
}

/// Which deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryReason {
    /// Nobody approved within the request TTL.
    RequestTtl,
    /// Approved, but the run did not start within the approval TTL.
    ApprovalTtl,
}

impl Event {
    /// The audit action for this event (`ticket.approved`).
    pub fn action(&self) -> &'static str {
        match self {
            Event::Requested { .. } => "ticket.requested",
            Event::PlanningStarted { .. } => "ticket.planning_started",
            Event::Planned { .. } => "ticket.planned",
            Event::PlanFailed { .. } => "ticket.plan_failed",
            Event::Decided { .. } => "ticket.decided",
            Event::Reviewed(r) => match r.verdict {
                super::Verdict::Approve => "ticket.approval_given",
                super::Verdict::Reject => "ticket.rejected",
                super::Verdict::RequestChanges => "ticket.changes_requested",
            },
            Event::Approved { .. } => "ticket.approved",
            Event::Queued => "ticket.queued",
            Event::Amended { .. } => "ticket.amended",
            Event::Commented(_) => "ticket.commented",
            Event::Cancelled { .. } => "ticket.cancelled",
            Event::Expired { .. } => "ticket.expired",
            Event::RetryRequested { .. } => "ticket.retry_requested",
            Event::RunStarted { .. } => "run.started",
            Event::StepStarted { .. } => "run.step_started",
            Event::StepFinished { .. } => "run.step_finished",
            Event::RunFinished { .. } => "run.finished",
            Event::Linked(_) => "ticket.linked",
        }
    }
}
