//! Views every surface shows alike: who a ticket waits for (stage by stage, the on-call person
//! first), which actions a viewer may take, which workflows a person may request, and links
//! to the web pages. Rules stay in core: an action is offered exactly when core would accept
//! it now, found by asking core's state machine, never by a second copy of its rules.

use std::sync::Arc;

use docket_core::policy::Outcome;
use docket_core::ticket::{Command, quorum};
use docket_core::{Actor, PersonId, Principal, Ticket, TicketId, TicketState, Workflow, ticket};
use jiff::Timestamp;
use serde::Serialize;

use super::App;
use crate::error::AppError;
use crate::ports::store::TicketFilter;

/// Tickets waiting for approval looked at to find the ones a person may approve.
const WAITING_SCAN: u32 = 500;

/// Why a ticket needs approval and where each stage stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApprovalView {
    /// The policy rule that required approval.
    pub rule: Option<String>,
    /// The policy's explanation in words.
    pub explanation: String,
    /// Every stage, in the order they are asked.
    pub stages: Vec<StageView>,
    /// When an unanswered request expires.
    pub respond_by: Option<Timestamp>,
}

/// One approval stage as people see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StageView {
    /// Stage name.
    pub name: String,
    /// Who may approve, as written (`oncall:sre-primary`, `group:sre`).
    pub from: Vec<String>,
    /// Approvals needed.
    pub needed: u32,
    /// People whose approval counts now.
    pub approved_by: Vec<PersonId>,
    /// People who may still approve this stage: the on-call person first, never the requester
    /// or anyone already counted.
    pub eligible: Vec<PersonId>,
    /// The on-call person among the approvers, if a rotation is named.
    pub on_call: Option<PersonId>,
    /// Whether it has its approvals.
    pub satisfied: bool,
    /// Whether it is the stage being asked now.
    pub current: bool,
}

/// Something a viewer can do to a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketAction {
    /// Approve the current plan.
    Approve,
    /// Refuse the ticket.
    Reject,
    /// Send it back to the requester.
    RequestChanges,
    /// Add a comment.
    Comment,
    /// Change the parameters.
    Amend,
    /// Withdraw it.
    Cancel,
    /// Plan a failed or interrupted ticket again.
    Retry,
}

impl TicketAction {
    /// Every action, in the order surfaces show them.
    pub const ALL: [TicketAction; 7] = [
        TicketAction::Approve,
        TicketAction::Reject,
        TicketAction::RequestChanges,
        TicketAction::Comment,
        TicketAction::Amend,
        TicketAction::Cancel,
        TicketAction::Retry,
    ];

    /// Its name in URLs and payloads (`request_changes`).
    pub fn as_str(self) -> &'static str {
        match self {
            TicketAction::Approve => "approve",
            TicketAction::Reject => "reject",
            TicketAction::RequestChanges => "request_changes",
            TicketAction::Comment => "comment",
            TicketAction::Amend => "amend",
            TicketAction::Cancel => "cancel",
            TicketAction::Retry => "retry",
        }
    }
}

impl App {
    /// Why `ticket` needs approval and where each stage stands now; `None` when its policy
    /// decision asks for no approvals (or it has not been decided yet).
    pub fn approval_view(&self, ticket: &Ticket) -> Option<ApprovalView> {
        let decision = ticket.decision.as_ref()?;
        let Outcome::Approvals(requirement) = &decision.outcome else { return None };
        let now = self.now();
        let rules = self.rules();
        let directory = &rules.directory;
        let statuses = quorum(ticket, requirement, now);
        let waiting = ticket.state == TicketState::AwaitingApproval;
        let current = statuses.iter().position(|s| !s.is_satisfied()).filter(|_| waiting);
        let stages = requirement
            .stages
            .iter()
            .zip(statuses)
            .enumerate()
            .map(|(i, (stage, status))| {
                let on_call = stage.from.iter().find_map(|p| match p {
                    Principal::Oncall(r) => directory.rotation(r).and_then(|r| r.on_call(now)).cloned(),
                    _ => None,
                });
                let counted_elsewhere = |p: &PersonId| {
                    ticket.reviews.iter().any(|r| {
                        &r.person == p
                            && r.round == ticket.round
                            && r.digest == ticket.digest
                            && r.verdict == docket_core::ticket::Verdict::Approve
                    })
                };
                let eligible = directory
                    .resolve(&stage.from, now)
                    .into_iter()
                    .filter(|p| *p != ticket.requester && !counted_elsewhere(p))
                    .collect();
                StageView {
                    name: stage.name.clone(),
                    from: stage.from.iter().map(ToString::to_string).collect(),
                    needed: stage.count,
                    satisfied: status.is_satisfied(),
                    approved_by: status.approvers,
                    eligible,
                    on_call,
                    current: current == Some(i),
                }
            })
            .collect();
        Some(ApprovalView {
            rule: decision.rule.clone(),
            explanation: decision.explanation.clone(),
            stages,
            respond_by: ticket.respond_by,
        })
    }

    /// The actions `actor` may take on `ticket` now: exactly those core would accept.
    pub fn actions_for(&self, ticket: &Ticket, actor: &Actor) -> Vec<TicketAction> {
        let Some(workflow) = self.pinned_workflow(&ticket.workflow, &ticket.version) else { return Vec::new() };
        let book = self.rules();
        let rules = book.for_workflow(&workflow);
        let now = self.now();
        let placeholder = "-".to_owned();
        TicketAction::ALL
            .into_iter()
            .filter(|action| {
                let command = match action {
                    TicketAction::Approve => match &ticket.digest {
                        Some(digest) => Command::Approve { digest: *digest, comment: None },
                        None => return false,
                    },
                    TicketAction::Reject => Command::Reject { reason: placeholder.clone() },
                    TicketAction::RequestChanges => Command::RequestChanges { reason: placeholder.clone() },
                    TicketAction::Comment => Command::Comment { text: placeholder.clone() },
                    TicketAction::Amend => Command::Amend { params: raw_params(ticket) },
                    TicketAction::Cancel => Command::Cancel { reason: None },
                    TicketAction::Retry => Command::Retry,
                };
                ticket::decide(ticket, &command, actor, &rules, now).is_ok()
            })
            .collect()
    }

    /// Tickets waiting for `actor`'s approval now (those core would let them approve), newest
    /// first, at most `limit`; the newest 500 tickets awaiting approval are looked at.
    pub async fn waiting_for(&self, actor: &Actor, limit: usize) -> Result<Vec<Ticket>, AppError> {
        let filter = TicketFilter {
            states: vec![TicketState::AwaitingApproval],
            limit: WAITING_SCAN,
            ..TicketFilter::default()
        };
        Ok(self
            .tickets(&filter)
            .await?
            .tickets
            .into_iter()
            .filter(|t| self.actions_for(t, actor).contains(&TicketAction::Approve))
            .take(limit)
            .collect())
    }

    /// Whether `actor` may open tickets for `workflow` (its `requesters`; for an agent, its
    /// `may_request` too), as core decides a request.
    pub fn may_request(&self, actor: &Actor, workflow: &Workflow) -> bool {
        docket_core::ticket::requester(actor, workflow, &self.rules().directory, self.now()).is_ok()
    }

    /// The workflows `actor` may request, by id.
    pub fn requestable(&self, actor: &Actor) -> Vec<Arc<Workflow>> {
        self.rules().catalog.iter().filter(|w| self.may_request(actor, w)).cloned().collect()
    }

    /// The web page of a ticket (`{public_url}/tickets/DKT-42`), when a public URL is set.
    pub fn ticket_url(&self, id: &TicketId) -> Option<String> {
        self.public_url().map(|base| format!("{base}/tickets/{id}"))
    }

    /// Where people reach this Docket (`server.public_url`), without a trailing slash.
    pub fn public_url(&self) -> Option<&str> {
        self.inner.settings.public_url.as_deref()
    }
}

/// A ticket's parameters as a request would send them.
pub fn raw_params(ticket: &Ticket) -> docket_core::RawParams {
    ticket
        .params
        .iter()
        .map(|(name, value)| {
            let json = match value {
                docket_core::ParamValue::Bool(b) => serde_json::Value::Bool(*b),
                docket_core::ParamValue::Int(i) => serde_json::Value::from(*i),
                docket_core::ParamValue::Str(s) => serde_json::Value::String(s.clone()),
            };
            (name.to_owned(), json)
        })
        .collect()
}
