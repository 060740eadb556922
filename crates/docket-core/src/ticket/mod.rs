//! Tickets: their state, the commands people and Docket issue against them, the events those
//! commands cause, and the pure state machine between the two.

mod apply;
mod command;
mod event;
mod link;
mod machine;
mod quorum;
mod refusal;

pub use command::{Command, NewTicket};
pub use event::{Event, ExpiryReason};
pub use link::ExternalLink;
pub use machine::{MAX_TEXT_CHARS, Rules, decide, request, requester};
pub use quorum::{StageStatus, quorum};
pub use refusal::Refusal;

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::catalog::param::Params;
use crate::id::{PersonId, TicketId, WorkflowId};
use crate::plan::{Digest, Plan};
use crate::policy::Decision;

/// A ticket's state (ARCHITECTURE.md draws the states and the moves between them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// Just opened.
    Requested,
    /// Dry runs in progress.
    Planning,
    /// A dry run failed. Terminal.
    PlanFailed,
    /// Policy refused it. Terminal.
    Denied,
    /// Waiting for approvers.
    AwaitingApproval,
    /// An approver asked the requester to amend it.
    ChangesRequested,
    /// Fully approved (passes straight to queued).
    Approved,
    /// Waiting for a worker (and its concurrency key).
    Queued,
    /// Steps are running.
    Running,
    /// Every step succeeded. Terminal.
    Succeeded,
    /// A step failed. Terminal (may be retried under its policy).
    Failed,
    /// The run was cut short by a crash and could not safely resume. Terminal (may be retried).
    Interrupted,
    /// An approver rejected it. Terminal.
    Rejected,
    /// Nobody answered in time, or the approval went unused. Terminal.
    Expired,
    /// Withdrawn. Terminal.
    Cancelled,
}

impl TicketState {
    /// Every state, in lifecycle order.
    pub const ALL: [TicketState; 15] = [
        TicketState::Requested,
        TicketState::Planning,
        TicketState::PlanFailed,
        TicketState::Denied,
        TicketState::AwaitingApproval,
        TicketState::ChangesRequested,
        TicketState::Approved,
        TicketState::Queued,
        TicketState::Running,
        TicketState::Succeeded,
        TicketState::Failed,
        TicketState::Interrupted,
        TicketState::Rejected,
        TicketState::Expired,
        TicketState::Cancelled,
    ];

    /// Whether nothing more will happen to the ticket (short of a retry).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TicketState::PlanFailed
                | TicketState::Denied
                | TicketState::Succeeded
                | TicketState::Failed
                | TicketState::Interrupted
                | TicketState::Rejected
                | TicketState::Expired
                | TicketState::Cancelled
        )
    }

    /// The state's name as the API and the store write it.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Requested => "requested",
            TicketState::Planning => "planning",
            TicketState::PlanFailed => "plan_failed",
            TicketState::Denied => "denied",
            TicketState::AwaitingApproval => "awaiting_approval",
            TicketState::ChangesRequested => "changes_requested",
            TicketState::Approved => "approved",
            TicketState::Queued => "queued",
            TicketState::Running => "running",
            TicketState::Succeeded => "succeeded",
            TicketState::Failed => "failed",
            TicketState::Interrupted => "interrupted",
            TicketState::Rejected => "rejected",
            TicketState::Expired => "expired",
            TicketState::Cancelled => "cancelled",
        }
    }

    /// Parses a name written by [`TicketState::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for TicketState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().replace('_', " "))
    }
}

/// Where a ticket was asked for, so its updates go back to the same place.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// `slack`, `teams`, `web`, `api`, `cli` or `mcp`.
    pub surface: String,
    /// Channel or conversation id, where there is one.
    pub channel: Option<String>,
    /// Thread or reply-chain id, where there is one.
    pub thread: Option<String>,
    /// A link to a message the request was made from (a message shortcut's context).
    pub context: Option<String>,
}

/// An approver's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Approve the plan with this digest.
    Approve,
    /// Refuse the ticket for good.
    Reject,
    /// Send it back to the requester to amend.
    RequestChanges,
}

/// One approver's decision, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Who decided.
    pub person: PersonId,
    /// The stage the approval counts for (approvals only).
    pub stage: Option<String>,
    /// What they decided.
    pub verdict: Verdict,
    /// The planning round it was given in; amending starts a new round.
    pub round: u32,
    /// The plan digest they saw.
    pub digest: Option<Digest>,
    /// Their comment or reason.
    pub comment: Option<String>,
    /// When.
    pub at: Timestamp,
    /// When an approval stops counting.
    pub expires_at: Option<Timestamp>,
    /// The ticketing system it was given in (`jira`), when not in Docket itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// A comment on a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Who wrote it.
    pub author: Actor,
    /// What they wrote.
    pub text: String,
    /// When.
    pub at: Timestamp,
}

/// How one step ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum StepOutcome {
    /// It did its work.
    Succeeded,
    /// It failed.
    Failed {
        /// The process's exit code, for `exec` steps.
        exit_code: Option<i32>,
        /// Why, in a line.
        message: String,
    },
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum RunOutcome {
    /// Every step succeeded.
    Succeeded,
    /// Step `step` failed.
    Failed {
        /// Index of the failed step.
        step: usize,
        /// Why.
        message: String,
    },
    /// Cut short by a crash at step `step`, which is not safe to repeat.
    Interrupted {
        /// Index of the interrupted step.
        step: usize,
    },
    /// Stopped because the ticket was cancelled.
    Cancelled,
}

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRun {
    /// Index in the workflow's steps.
    pub index: usize,
    /// The step's name.
    pub name: String,
    /// How many times it was started (more than one only for `retry: safe` steps).
    pub attempts: u32,
    /// When it (last) started.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
    /// How it ended.
    pub outcome: Option<StepOutcome>,
}

/// One execution of a ticket's steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// 1 for the first run, 2 after a retry, …
    pub number: u32,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
    /// Its steps so far.
    pub steps: Vec<StepRun>,
    /// How it ended.
    pub outcome: Option<RunOutcome>,
}

/// A ticket: everything known about one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// `DKT-42`.
    pub id: TicketId,
    /// The workflow.
    pub workflow: WorkflowId,
    /// The workflow version it is pinned to.
    pub version: String,
    /// Validated parameters.
    pub params: Params,
    /// The person who asked (for an agent, the person it acts for).
    pub requester: PersonId,
    /// Who actually issued the request (a person, or an agent for them).
    pub requested_by: Actor,
    /// Where it was asked.
    pub origin: Origin,
    /// Where it is in its life.
    pub state: TicketState,
    /// Planning round: 1, and one more each time it is planned again.
    pub round: u32,
    /// The current plan.
    pub plan: Option<Plan>,
    /// The current plan's digest.
    pub digest: Option<Digest>,
    /// The policy's decision on the current plan.
    pub decision: Option<Decision>,
    /// Every approval, rejection and change request, in order.
    pub reviews: Vec<Review>,
    /// Comments, in order.
    pub comments: Vec<Comment>,
    /// Runs, in order.
    pub runs: Vec<Run>,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// An unanswered request expires at this time.
    pub respond_by: Option<Timestamp>,
    /// An approved ticket expires if its run has not started by this time.
    pub start_by: Option<Timestamp>,
    /// Why it ended the way it did (a denial, a rejection reason, a failure).
    pub closing_reason: Option<String>,
    /// Its records in ticketing systems (a Jira issue, a ServiceNow change request).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<ExternalLink>,
}

impl Ticket {
    /// The run in progress or last finished.
    pub fn last_run(&self) -> Option<&Run> {
        self.runs.last()
    }
}
