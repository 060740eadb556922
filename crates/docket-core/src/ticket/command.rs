//! Commands: what people and Docket ask of a ticket. Surfaces build them; the state machine
//! decides them.

use serde::{Deserialize, Serialize};

use super::{ExternalLink, Origin, RunOutcome, StepOutcome};
use crate::catalog::param::RawParams;
use crate::id::{TicketId, WorkflowId};
use crate::plan::{Digest, Plan};

/// A request for a new ticket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewTicket {
    /// The id the store allocated.
    pub id: TicketId,
    /// Which workflow.
    pub workflow: WorkflowId,
    /// Parameters as typed or sent; validated by the state machine.
    pub params: RawParams,
    /// Where it was asked.
    pub origin: Origin,
}

/// Something to do to an existing ticket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum Command {
    /// Planning finished (Docket only).
    RecordPlan {
        /// The plan, or why planning failed.
        result: Result<Plan, String>,
    },
    /// Change the parameters; re-plans and voids earlier approvals (requester only).
    Amend {
        /// The new parameters, all of them.
        params: RawParams,
    },
    /// Approve the plan with this digest.
    Approve {
        /// The digest the approver saw.
        digest: Digest,
        /// Optional words.
        comment: Option<String>,
    },
    /// Approve the plan with this digest in a ticketing system (`jira`): the person moved the
    /// ticket's record there to its approved status. Counts only for a stage whose `from`
    /// names that system (`system:jira`); everything else is as for `Approve`.
    ApproveIn {
        /// The system's name.
        system: String,
        /// The digest the record showed when it was last brought up to date.
        digest: Digest,
        /// Optional words.
        comment: Option<String>,
    },
    /// Refuse the ticket.
    Reject {
        /// Why.
        reason: String,
    },
    /// Refuse the ticket in a ticketing system (`jira`): the person moved its record there to
    /// the rejected status. Open to a known person other than the requester when a stage of
    /// the requirement names that system, or who could reject in Docket; recorded with
    /// `Review::via`.
    RejectIn {
        /// The system's name.
        system: String,
        /// Why (what they did there).
        reason: String,
    },
    /// Send it back to the requester.
    RequestChanges {
        /// What to change.
        reason: String,
    },
    /// Add a comment.
    Comment {
        /// The comment.
        text: String,
    },
    /// Withdraw the ticket (requester or an admin); a running process is killed.
    Cancel {
        /// Optional reason.
        reason: Option<String>,
    },
    /// Expire it if its deadline has passed (Docket's scheduler only).
    Expire,
    /// Plan a failed or interrupted ticket again, under its policy (requester only).
    Retry,
    /// A worker starts a run (Docket only).
    StartRun,
    /// A step starts, or resumes after a crash if it is `retry: safe` (Docket only).
    StartStep {
        /// Index in the workflow's steps.
        index: usize,
    },
    /// A step ended (Docket only).
    FinishStep {
        /// Index in the workflow's steps.
        index: usize,
        /// How.
        outcome: StepOutcome,
        /// What it printed, digested, for the audit trail.
        output: Option<crate::output::StepOutput>,
    },
    /// The run ended (Docket only).
    FinishRun {
        /// How.
        outcome: RunOutcome,
    },
    /// Record the ticket's record in a ticketing system (Docket only).
    Link(ExternalLink),
}

impl Command {
    /// A short name for logs, metrics and audit records (`approve`).
    pub fn name(&self) -> &'static str {
        match self {
            Command::RecordPlan { .. } => "record_plan",
            Command::Amend { .. } => "amend",
            Command::Approve { .. } => "approve",
            Command::ApproveIn { .. } => "approve_in",
            Command::Reject { .. } => "reject",
            Command::RejectIn { .. } => "reject_in",
            Command::RequestChanges { .. } => "request_changes",
            Command::Comment { .. } => "comment",
            Command::Cancel { .. } => "cancel",
            Command::Expire => "expire",
            Command::Retry => "retry",
            Command::StartRun => "start_run",
            Command::StartStep { .. } => "start_step",
            Command::FinishStep { .. } => "finish_step",
            Command::FinishRun { .. } => "finish_run",
            Command::Link(_) => "link",
        }
    }
}
