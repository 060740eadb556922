//! Folding events into a ticket. Applying never fails: events were validated when decided.

use jiff::Timestamp;

use super::{Event, ExpiryReason, Run, RunOutcome, StepRun, Ticket, TicketState, Verdict};
use crate::policy::Outcome;

impl Ticket {
    /// Builds a ticket from its first event; `None` unless it is [`Event::Requested`].
    pub fn from_request(event: &Event, at: Timestamp) -> Option<Ticket> {
        let Event::Requested { id, workflow, version, params, requester, requested_by, origin } = event else {
            return None;
        };
        Some(Ticket {
            id: id.clone(),
            workflow: workflow.clone(),
            version: version.clone(),
            params: params.clone(),
            requester: requester.clone(),
            requested_by: requested_by.clone(),
            origin: origin.clone(),
            state: TicketState::Requested,
            round: 0,
            plan: None,
            digest: None,
            decision: None,
            reviews: Vec::new(),
            comments: Vec::new(),
            runs: Vec::new(),
            created_at: at,
            updated_at: at,
            respond_by: None,
            start_by: None,
            closing_reason: None,
            links: Vec::new(),
        })
    }

    /// Replays a whole history; `None` if it does not start with [`Event::Requested`].
    pub fn replay<'a>(events: impl IntoIterator<Item = (&'a Event, Timestamp)>) -> Option<Ticket> {
        let mut events = events.into_iter();
        let (first, at) = events.next()?;
        let mut ticket = Ticket::from_request(first, at)?;
        for (event, at) in events {
            ticket.apply(event, at);
        }
        Some(ticket)
    }

    /// Applies one event that happened at `at`.
    pub fn apply(&mut self, event: &Event, at: Timestamp) {
        self.updated_at = at;
        match event {
            Event::Requested { .. } => {}
            Event::PlanningStarted { round } => {
                self.round = *round;
                self.state = TicketState::Planning;
                self.plan = None;
                self.digest = None;
                self.decision = None;
                self.start_by = None;
                self.closing_reason = None;
            }
            Event::Planned { plan, digest } => {
                self.plan = Some(plan.clone());
                self.digest = Some(*digest);
            }
            Event::PlanFailed { error } => {
                self.state = TicketState::PlanFailed;
                self.closing_reason = Some(error.clone());
            }
            Event::Decided { decision, respond_by } => {
                self.respond_by = *respond_by;
                self.state = match &decision.outcome {
                    Outcome::Deny { message } => {
                        self.closing_reason = Some(message.clone());
                        TicketState::Denied
                    }
                    Outcome::AutoApprove { .. } => TicketState::Approved,
                    Outcome::Approvals(_) => TicketState::AwaitingApproval,
                };
                self.decision = Some(decision.clone());
            }
            Event::Reviewed(review) => {
                match review.verdict {
                    Verdict::Approve => {}
                    Verdict::Reject => {
                        self.state = TicketState::Rejected;
                        self.closing_reason.clone_from(&review.comment);
                    }
                    Verdict::RequestChanges => self.state = TicketState::ChangesRequested,
                }
                self.reviews.push(review.clone());
            }
            Event::Approved { start_by } => {
                self.state = TicketState::Approved;
                self.start_by = *start_by;
            }
            Event::Queued => self.state = TicketState::Queued,
            Event::Amended { params, version } => {
                self.params = params.clone();
                self.version.clone_from(version);
            }
            Event::Commented(comment) => self.comments.push(comment.clone()),
            Event::Cancelled { reason, .. } => {
                self.state = TicketState::Cancelled;
                self.closing_reason.clone_from(reason);
            }
            Event::Expired { reason } => {
                self.state = TicketState::Expired;
                self.closing_reason = Some(
                    match reason {
                        ExpiryReason::RequestTtl => "Nobody approved the request in time.",
                        ExpiryReason::ApprovalTtl => "The approved run did not start before its approval expired.",
                    }
                    .to_owned(),
                );
            }
            Event::RetryRequested { version } => {
                self.version.clone_from(version);
            }
            Event::Linked(link) => {
                self.links.retain(|l| l.system != link.system);
                self.links.push(link.clone());
            }
            Event::RunStarted { number } => {
                self.state = TicketState::Running;
                self.runs.push(Run {
                    number: *number,
                    started_at: at,
                    finished_at: None,
                    steps: Vec::new(),
                    outcome: None,
                });
            }
            Event::StepStarted { index, name } => {
                if let Some(run) = self.runs.last_mut() {
                    match run.steps.iter_mut().find(|s| s.index == *index) {
                        Some(step) => {
                            step.attempts += 1;
                            step.started_at = at;
                        }
                        None => run.steps.push(StepRun {
                            index: *index,
                            name: name.clone(),
                            attempts: 1,
                            started_at: at,
                            finished_at: None,
                            outcome: None,
                        }),
                    }
                }
            }
            Event::StepFinished { index, outcome, .. } => {
                if let Some(step) = self.runs.last_mut().and_then(|r| r.steps.iter_mut().find(|s| s.index == *index)) {
                    step.finished_at = Some(at);
                    step.outcome = Some(outcome.clone());
                }
            }
            Event::RunFinished { outcome } => {
                if let Some(run) = self.runs.last_mut() {
                    run.finished_at = Some(at);
                    run.outcome = Some(outcome.clone());
                }
                match outcome {
                    RunOutcome::Succeeded => self.state = TicketState::Succeeded,
                    RunOutcome::Failed { message, .. } => {
                        self.state = TicketState::Failed;
                        self.closing_reason = Some(message.clone());
                    }
                    RunOutcome::Interrupted { step } => {
                        self.state = TicketState::Interrupted;
                        self.closing_reason = Some(format!(
                            "Docket stopped during step {} and did not repeat it because it is not marked `retry: safe`.",
                            step + 1
                        ));
                    }
                    RunOutcome::Cancelled => {}
                }
            }
        }
    }
}
