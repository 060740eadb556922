//! Why a command was refused, in words a person can act on. Every surface shows these as they
//! are, so a self-approval reads the same in Slack, Teams, the web and the API.

use crate::catalog::param::ParamErrors;
use crate::id::{PersonId, WorkflowId};
use crate::plan::Digest;

use super::TicketState;

/// A refused command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The actor is not in the directory.
    #[error("{0} is not a known person in Docket's directory")]
    UnknownPerson(PersonId),
    /// The workflow does not exist.
    #[error("there is no workflow `{0}`")]
    UnknownWorkflow(WorkflowId),
    /// The person may not open tickets for this workflow.
    #[error("{person} may not request `{workflow}` (allowed: {allowed})")]
    NotARequester {
        /// Who tried.
        person: PersonId,
        /// Which workflow.
        workflow: WorkflowId,
        /// Who may.
        allowed: String,
    },
    /// Parameters failed validation.
    #[error("{0}")]
    InvalidParams(ParamErrors),
    /// The command does not apply in the ticket's state.
    #[error("cannot {action} a ticket that is {state}")]
    WrongState {
        /// What was tried.
        action: &'static str,
        /// The ticket's state.
        state: TicketState,
    },
    /// Requesters never approve or reject their own tickets.
    #[error("you requested this ticket, so you cannot {action} it — someone else must")]
    OwnTicket {
        /// What was tried.
        action: &'static str,
    },
    /// The agent is not declared, or no longer acts for the person its token says.
    #[error("agent `{agent}` is not an agent of {person} in Docket's configuration")]
    UnknownAgent {
        /// The agent's id.
        agent: String,
        /// The person it claimed to act for.
        person: PersonId,
    },
    /// The agent may not request this workflow (`may_request`).
    #[error("agent `{agent}` may not request `{workflow}` (it may request: {allowed})")]
    AgentMayNotRequest {
        /// The agent's id.
        agent: String,
        /// Which workflow.
        workflow: WorkflowId,
        /// What its `may_request` lists.
        allowed: String,
    },
    /// An agent acts only on the tickets it requested itself.
    #[error("an agent can only {action} tickets it requested itself")]
    NotAgentsTicket {
        /// What was tried.
        action: &'static str,
    },
    /// AI agents never manage credentials.
    #[error("AI agents cannot {action}; a person must")]
    AgentsCannot {
        /// What was tried.
        action: &'static str,
    },
    /// People manage their own tokens (and their agents'); admins everyone's.
    #[error("only admins can {action} tokens of other people")]
    NotYourTokens {
        /// What was tried.
        action: &'static str,
    },
    /// Server-wide changes (reloading the configuration) are for admins.
    #[error("only admins can {action}")]
    AdminsOnly {
        /// What was tried.
        action: &'static str,
    },
    /// AI agents never decide on tickets.
    #[error("AI agents cannot {action} tickets; a person must")]
    AgentCannotDecide {
        /// What was tried.
        action: &'static str,
    },
    /// Only Docket itself issues this command.
    #[error("only Docket itself can {action}")]
    SystemOnly {
        /// What was tried.
        action: &'static str,
    },
    /// The person is not an approver of the stage being asked.
    #[error("{person} is not an approver for stage `{stage}` (approvers: {approvers})")]
    NotEligible {
        /// Who tried.
        person: PersonId,
        /// The stage being asked.
        stage: String,
        /// Who may approve it.
        approvers: String,
    },
    /// The approval was for a plan that has since changed.
    #[error("the plan changed since you looked at it; review the new plan ({}) and approve that", .current.short())]
    StaleDigest {
        /// The current plan's digest.
        current: Digest,
    },
    /// The person's approval already counts for this stage.
    #[error("{person} has already approved stage `{stage}`")]
    AlreadyApproved {
        /// Who.
        person: PersonId,
        /// Which stage.
        stage: String,
    },
    /// One person's approval counts in one stage only.
    #[error("{person} already approved stage `{stage}` of this ticket; each stage needs different people")]
    ApprovedAnotherStage {
        /// Who.
        person: PersonId,
        /// The stage they approved.
        stage: String,
    },
    /// The request's deadline has passed.
    #[error("the request has expired; open a new ticket")]
    RequestExpired,
    /// Approved too long ago: approvals must be used within their TTL.
    #[error("the approval expired before the run started; the ticket needs fresh approvals")]
    ApprovalExpired,
    /// Only the requester (or an admin, for cancel) may do this.
    #[error("only the requester{} can {action} this ticket", if *.admins_too { " or an admin" } else { "" })]
    NotRequester {
        /// What was tried.
        action: &'static str,
        /// Whether admins may too.
        admins_too: bool,
    },
    /// The workflow file changed since the ticket was planned.
    #[error(
        "workflow `{workflow}` has changed since this ticket was planned; the requester must amend it to plan it again"
    )]
    WorkflowChanged {
        /// Which workflow.
        workflow: WorkflowId,
    },
    /// The deadline has not passed yet.
    #[error("the ticket is not due to expire yet")]
    NotDue,
    /// A comment or reason was empty or too long.
    #[error("{what} must be 1 to {max} characters")]
    BadText {
        /// Which text.
        what: &'static str,
        /// Its limit.
        max: usize,
    },
    /// A run command that does not fit the run in progress.
    #[error("{0}")]
    RunMismatch(String),
}

impl Refusal {
    /// A stable machine-readable code for APIs (`self_approval`).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::UnknownPerson(_) => "unknown_person",
            Refusal::UnknownWorkflow(_) => "unknown_workflow",
            Refusal::NotARequester { .. } => "not_a_requester",
            Refusal::InvalidParams(_) => "invalid_params",
            Refusal::WrongState { .. } => "wrong_state",
            Refusal::OwnTicket { .. } => "own_ticket",
            Refusal::AgentCannotDecide { .. } => "agent_cannot_decide",
            Refusal::UnknownAgent { .. } => "unknown_agent",
            Refusal::AgentMayNotRequest { .. } => "agent_may_not_request",
            Refusal::NotAgentsTicket { .. } => "not_agents_ticket",
            Refusal::AgentsCannot { .. } => "agents_cannot",
            Refusal::NotYourTokens { .. } => "not_your_tokens",
            Refusal::AdminsOnly { .. } => "admin_only",
            Refusal::SystemOnly { .. } => "system_only",
            Refusal::NotEligible { .. } => "not_eligible",
            Refusal::StaleDigest { .. } => "stale_digest",
            Refusal::AlreadyApproved { .. } => "already_approved",
            Refusal::ApprovedAnotherStage { .. } => "approved_another_stage",
            Refusal::RequestExpired => "request_expired",
            Refusal::ApprovalExpired => "approval_expired",
            Refusal::NotRequester { .. } => "not_requester",
            Refusal::WorkflowChanged { .. } => "workflow_changed",
            Refusal::NotDue => "not_due",
            Refusal::BadText { .. } => "bad_text",
            Refusal::RunMismatch(_) => "run_mismatch",
        }
    }

    /// Whether the refusal is about who is acting (worth an audit record), rather than about
    /// timing or input.
    pub fn is_security_relevant(&self) -> bool {
        matches!(
            self,
            Refusal::UnknownPerson(_)
                | Refusal::NotARequester { .. }
                | Refusal::OwnTicket { .. }
                | Refusal::AgentCannotDecide { .. }
                | Refusal::UnknownAgent { .. }
                | Refusal::AgentMayNotRequest { .. }
                | Refusal::NotAgentsTicket { .. }
                | Refusal::AgentsCannot { .. }
                | Refusal::NotYourTokens { .. }
                | Refusal::AdminsOnly { .. }
                | Refusal::SystemOnly { .. }
                | Refusal::NotEligible { .. }
                | Refusal::NotRequester { .. }
                | Refusal::ApprovedAnotherStage { .. }
                | Refusal::StaleDigest { .. }
        )
    }
}
