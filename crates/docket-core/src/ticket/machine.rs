//! The ticket state machine: a pure function from (ticket, command, actor, now) to the events
//! the command causes, or a refusal that says why. No IO, no clock: `now` is an argument.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::quorum::{approved_until, current_stage, quorum};
use super::{
    Command, Event, ExpiryReason, NewTicket, Refusal, Review, RunOutcome, StepOutcome, Ticket, TicketState, Verdict,
};
use crate::actor::Actor;
use crate::catalog::param::{Params, validate_params};
use crate::catalog::workflow::{Retry, Workflow};
use crate::directory::{Directory, Principal};
use crate::id::PersonId;
use crate::plan::Digest;
use crate::policy::{self, Outcome, PolicySet, Requirement, Variables};

/// Longest comment, reason or note, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// What the state machine consults: the ticket's workflow as it is in the catalog now, the
/// policies, the directory and the configured time zone.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The ticket's workflow, current version.
    pub workflow: &'a Workflow,
    /// Every policy rule.
    pub policies: &'a PolicySet,
    /// People, groups and rotations.
    pub directory: &'a Directory,
    /// The zone `now` is read in for policies.
    pub zone: &'a TimeZone,
}

/// Decides a request for a new ticket.
pub fn request(new: &NewTicket, actor: &Actor, rules: &Rules<'_>, now: Timestamp) -> Result<Vec<Event>, Refusal> {
    let workflow = rules.workflow;
    if workflow.id != new.workflow {
        return Err(Refusal::UnknownWorkflow(new.workflow.clone()));
    }
    let person = requester(actor, workflow, rules.directory, now)?;
    let params = validate_params(&workflow.params, &new.params).map_err(Refusal::InvalidParams)?;
    let denied = denied_before_plan(rules, &params, person, actor.agent(), now);
    let mut events = vec![
        Event::Requested {
            id: new.id.clone(),
            workflow: workflow.id.clone(),
            version: workflow.version.clone(),
            params,
            requester: person.clone(),
            requested_by: actor.clone(),
            origin: new.origin.clone(),
        },
        Event::PlanningStarted { round: 1 },
    ];
    events.extend(denied);
    Ok(events)
}

/// The person a request of `workflow` by `actor` at `now` counts as requested by, if `actor`
/// may request it: a person in its `requesters`; an agent that is declared for that person,
/// lists the workflow in its `may_request`, and whose owner is in its `requesters`.
pub fn requester<'a>(
    actor: &'a Actor,
    workflow: &Workflow,
    directory: &Directory,
    now: Timestamp,
) -> Result<&'a PersonId, Refusal> {
    let person = match actor {
        Actor::System => {
            return Err(Refusal::SystemOnly { action: "request for people" });
        }
        Actor::Person { id } => known(directory, id)?,
        Actor::Agent { agent, on_behalf_of } => {
            let person = known(directory, on_behalf_of)?;
            let declared = directory
                .agent(agent)
                .filter(|a| a.owner == *on_behalf_of)
                .ok_or_else(|| Refusal::UnknownAgent { agent: agent.clone(), person: on_behalf_of.clone() })?;
            if !declared.may_request(workflow) {
                let allowed = if declared.may_request.is_empty() {
                    "nothing".to_owned()
                } else {
                    declared.may_request.join(", ")
                };
                return Err(Refusal::AgentMayNotRequest {
                    agent: agent.clone(),
                    workflow: workflow.id.clone(),
                    allowed,
                });
            }
            person
        }
    };
    if let Some(allowed) = &workflow.requesters
        && !directory.covered_by_any(allowed, person, now)
    {
        return Err(Refusal::NotARequester {
            person: person.clone(),
            workflow: workflow.id.clone(),
            allowed: allowed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        });
    }
    Ok(person)
}

/// A denial the policy reaches without the plan (no rule before the deciding one reads `plan`):
/// taken when planning starts, so a denied request never runs its dry runs.
fn denied_before_plan(
    rules: &Rules<'_>,
    params: &Params,
    requester: &PersonId,
    agent: Option<&str>,
    now: Timestamp,
) -> Option<Event> {
    let groups = rules.directory.groups_of(requester);
    let vars = Variables::new(rules.workflow, params, requester, &groups, now, rules.zone).with_agent(agent);
    policy::decide_before_plan(rules.policies, &vars)
        .filter(|decision| matches!(decision.outcome, Outcome::Deny { .. }))
        .map(|decision| Event::Decided { decision, respond_by: None })
}

/// Decides `command` by `actor` on `ticket` at `now`.
pub fn decide(
    ticket: &Ticket,
    command: &Command,
    actor: &Actor,
    rules: &Rules<'_>,
    now: Timestamp,
) -> Result<Vec<Event>, Refusal> {
    match command {
        Command::RecordPlan { result } => {
            system_only(actor, "record a plan")?;
            in_state(ticket, &[TicketState::Planning], "record a plan for")?;
            match result {
                Err(error) => Ok(vec![Event::PlanFailed { error: error.clone() }]),
                Ok(plan) => {
                    same_version(ticket, rules)?;
                    let digest = Digest::of(ticket.workflow.as_str(), &ticket.version, &ticket.params, plan);
                    let groups = rules.directory.groups_of(&ticket.requester);
                    let vars =
                        Variables::new(rules.workflow, &ticket.params, &ticket.requester, &groups, now, rules.zone)
                            .with_agent(ticket.requested_by.agent())
                            .with_plan(plan);
                    let decision = policy::decide(rules.policies, &vars);
                    let mut events = vec![Event::Planned { plan: plan.clone(), digest }];
                    match &decision.outcome {
                        Outcome::Deny { .. } => events.push(Event::Decided { decision, respond_by: None }),
                        Outcome::AutoApprove { approval_ttl } => {
                            let start_by = now.checked_add(approval_ttl.to_signed()).ok();
                            events.push(Event::Decided { decision, respond_by: None });
                            events.push(Event::Approved { start_by });
                            events.push(Event::Queued);
                        }
                        Outcome::Approvals(req) => {
                            let respond_by = now.checked_add(req.request_ttl.to_signed()).ok();
                            events.push(Event::Decided { decision, respond_by });
                        }
                    }
                    Ok(events)
                }
            }
        }
        Command::Amend { params } => {
            requester_only(ticket, actor, rules.directory, "amend", false)?;
            in_state(ticket, &[TicketState::AwaitingApproval, TicketState::ChangesRequested], "amend")?;
            let params = validate_params(&rules.workflow.params, params).map_err(Refusal::InvalidParams)?;
            let denied = denied_before_plan(rules, &params, &ticket.requester, ticket.requested_by.agent(), now);
            let mut events = vec![
                Event::Amended { params, version: rules.workflow.version.clone() },
                Event::PlanningStarted { round: ticket.round + 1 },
            ];
            events.extend(denied);
            Ok(events)
        }
        Command::Approve { digest, comment } => approve(ticket, *digest, comment.as_deref(), None, actor, rules, now),
        Command::ApproveIn { system, digest, comment } => {
            approve(ticket, *digest, comment.as_deref(), Some(system), actor, rules, now)
        }
        Command::Reject { reason } | Command::RequestChanges { reason } => {
            stop(ticket, command, reason, None, actor, rules, now)
        }
        Command::RejectIn { system, reason } => stop(ticket, command, reason, Some(system), actor, rules, now),
        Command::Comment { text: body } => {
            match actor {
                Actor::System => {}
                Actor::Person { id } | Actor::Agent { on_behalf_of: id, .. } => {
                    known(rules.directory, id)?;
                }
            }
            let body = text(body, "a comment")?;
            Ok(vec![Event::Commented(super::Comment { author: actor.clone(), text: body, at: now })])
        }
        Command::Cancel { reason } => {
            if !matches!(actor, Actor::System) {
                requester_only(ticket, actor, rules.directory, "cancel", true)?;
            }
            if ticket.state.is_terminal() {
                return Err(Refusal::WrongState { action: "cancel", state: ticket.state });
            }
            let reason = reason.as_deref().map(|r| text(r, "the reason")).transpose()?;
            Ok(vec![Event::Cancelled { by: actor.clone(), reason }])
        }
        Command::Expire => {
            system_only(actor, "expire tickets")?;
            let (deadline, reason) = match ticket.state {
                TicketState::AwaitingApproval | TicketState::ChangesRequested => {
                    (ticket.respond_by, ExpiryReason::RequestTtl)
                }
                TicketState::Approved | TicketState::Queued => (ticket.start_by, ExpiryReason::ApprovalTtl),
                state => {
                    return Err(Refusal::WrongState { action: "expire", state });
                }
            };
            match deadline {
                Some(deadline) if now >= deadline => Ok(vec![Event::Expired { reason }]),
                _ => Err(Refusal::NotDue),
            }
        }
        Command::Retry => {
            requester_only(ticket, actor, rules.directory, "retry", false)?;
            in_state(ticket, &[TicketState::Failed, TicketState::Interrupted], "retry")?;
            let raw = ticket
                .params
                .iter()
                .map(|(k, v)| (k.to_owned(), serde_json::to_value(v).unwrap_or_default()))
                .collect();
            let params = validate_params(&rules.workflow.params, &raw).map_err(Refusal::InvalidParams)?;
            let denied = denied_before_plan(rules, &params, &ticket.requester, ticket.requested_by.agent(), now);
            let mut events = vec![
                Event::RetryRequested { version: rules.workflow.version.clone() },
                Event::PlanningStarted { round: ticket.round + 1 },
            ];
            events.extend(denied);
            Ok(events)
        }
        Command::StartRun => {
            system_only(actor, "start runs")?;
            in_state(ticket, &[TicketState::Queued], "start a run of")?;
            same_version(ticket, rules)?;
            if ticket.start_by.is_some_and(|t| now >= t) {
                return Err(Refusal::ApprovalExpired);
            }
            match ticket.decision.as_ref().map(|d| &d.outcome) {
                Some(Outcome::AutoApprove { .. }) => {}
                Some(Outcome::Approvals(req)) => {
                    if approved_until(&quorum(ticket, req, now)).is_none_or(|t| t <= now) {
                        return Err(Refusal::ApprovalExpired);
                    }
                }
                _ => {
                    return Err(Refusal::WrongState { action: "start a run of", state: ticket.state });
                }
            }
            let number = u32::try_from(ticket.runs.len()).unwrap_or(u32::MAX - 1) + 1;
            Ok(vec![Event::RunStarted { number }])
        }
        Command::StartStep { index } => {
            system_only(actor, "start steps")?;
            in_state(ticket, &[TicketState::Running], "start a step of")?;
            same_version(ticket, rules)?;
            start_step(ticket, *index, rules.workflow)
        }
        Command::FinishStep { index, outcome, output } => {
            system_only(actor, "finish steps")?;
            in_state(ticket, &[TicketState::Running, TicketState::Cancelled], "finish a step of")?;
            let open = ticket
                .last_run()
                .filter(|r| r.outcome.is_none())
                .and_then(|r| r.steps.last())
                .filter(|s| s.outcome.is_none());
            match open {
                Some(step) if step.index == *index => {
                    Ok(vec![Event::StepFinished { index: *index, outcome: outcome.clone(), output: output.clone() }])
                }
                _ => Err(Refusal::RunMismatch(format!("step {} is not running", index + 1))),
            }
        }
        Command::FinishRun { outcome } => {
            system_only(actor, "finish runs")?;
            finish_run(ticket, outcome, rules.workflow)
        }
        Command::Link(link) => {
            system_only(actor, "link tickets to ticketing systems")?;
            let key = text(&link.key, "the record's key")?;
            let system = text(&link.system, "the system's name")?;
            Ok(vec![Event::Linked(super::ExternalLink { system, key, url: link.url.clone() })])
        }
    }
}

/// A rejection or a request for changes: open to anyone eligible for any stage of the
/// requirement but the requester; given in ticketing system `via`, also to anyone known when a
/// stage names that system (as an approval given there would count).
fn stop(
    ticket: &Ticket,
    command: &Command,
    reason: &str,
    via: Option<&str>,
    actor: &Actor,
    rules: &Rules<'_>,
    now: Timestamp,
) -> Result<Vec<Event>, Refusal> {
    let person = decider(actor, rules.directory, action_words(command))?;
    in_state(ticket, &[TicketState::AwaitingApproval], action_words(command))?;
    if *person == ticket.requester {
        return Err(Refusal::OwnTicket { action: action_words(command) });
    }
    let req = requirement(ticket, action_words(command))?;
    let approvers: Vec<_> = req.stages.iter().flat_map(|s| s.from.iter().cloned()).collect();
    let named = via.is_some_and(|system| approvers.iter().any(|p| matches!(p, Principal::System(s) if s == system)));
    if !named && !rules.directory.covered_by_any(&approvers, person, now) {
        let stage = req.stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
        return Err(Refusal::NotEligible {
            person: person.clone(),
            stage,
            approvers: approvers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        });
    }
    let reason = text(reason, "the reason")?;
    let verdict =
        if matches!(command, Command::RequestChanges { .. }) { Verdict::RequestChanges } else { Verdict::Reject };
    Ok(vec![Event::Reviewed(Review {
        person: person.clone(),
        stage: None,
        verdict,
        round: ticket.round,
        digest: ticket.digest,
        comment: Some(reason),
        at: now,
        expires_at: None,
        via: via.map(str::to_owned),
    })])
}

fn approve(
    ticket: &Ticket,
    digest: Digest,
    comment: Option<&str>,
    via: Option<&str>,
    actor: &Actor,
    rules: &Rules<'_>,
    now: Timestamp,
) -> Result<Vec<Event>, Refusal> {
    let person = decider(actor, rules.directory, "approve")?;
    in_state(ticket, &[TicketState::AwaitingApproval], "approve")?;
    if *person == ticket.requester {
        return Err(Refusal::OwnTicket { action: "approve" });
    }
    if ticket.respond_by.is_some_and(|t| now >= t) {
        return Err(Refusal::RequestExpired);
    }
    let current = ticket.digest.ok_or(Refusal::WrongState { action: "approve", state: ticket.state })?;
    if digest != current {
        return Err(Refusal::StaleDigest { current });
    }
    same_version(ticket, rules)?;
    let req = requirement(ticket, "approve")?;
    let statuses = quorum(ticket, req, now);
    let Some(index) = current_stage(&statuses) else {
        return Err(Refusal::WrongState { action: "approve", state: TicketState::Approved });
    };
    let stage = &req.stages[index];
    if statuses[index].approvers.contains(person) {
        return Err(Refusal::AlreadyApproved { person: person.clone(), stage: stage.name.clone() });
    }
    // One person, one stage: any approval of another stage on this plan rules them out, even
    // one that has since expired.
    if let Some(earlier) = ticket.reviews.iter().find(|r| {
        r.verdict == Verdict::Approve
            && r.person == *person
            && r.round == ticket.round
            && r.digest == ticket.digest
            && r.stage.as_deref() != Some(stage.name.as_str())
    }) {
        return Err(Refusal::ApprovedAnotherStage {
            person: person.clone(),
            stage: earlier.stage.clone().unwrap_or_default(),
        });
    }
    let eligible = match via {
        None => rules.directory.covered_by_any(&stage.from, person, now),
        Some(system) => stage.from.iter().any(|p| matches!(p, Principal::System(s) if s == system)),
    };
    if !eligible {
        return Err(Refusal::NotEligible {
            person: person.clone(),
            stage: stage.name.clone(),
            approvers: stage.from.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        });
    }
    let comment = comment.filter(|c| !c.trim().is_empty()).map(|c| text(c, "the comment")).transpose()?;
    let review = Review {
        person: person.clone(),
        stage: Some(stage.name.clone()),
        verdict: Verdict::Approve,
        round: ticket.round,
        digest: Some(current),
        comment,
        at: now,
        expires_at: now.checked_add(req.approval_ttl.to_signed()).ok(),
        via: via.map(str::to_owned),
    };
    let mut after = ticket.clone();
    after.reviews.push(review.clone());
    let mut events = vec![Event::Reviewed(review)];
    let statuses = quorum(&after, req, now);
    if current_stage(&statuses).is_none() {
        events.push(Event::Approved { start_by: approved_until(&statuses).filter(|t| *t != Timestamp::MAX) });
        events.push(Event::Queued);
    }
    Ok(events)
}

fn start_step(ticket: &Ticket, index: usize, workflow: &Workflow) -> Result<Vec<Event>, Refusal> {
    let Some(step) = workflow.steps.get(index) else {
        return Err(Refusal::RunMismatch(format!("the workflow has no step {}", index + 1)));
    };
    let run = ticket.last_run().ok_or_else(|| Refusal::RunMismatch("no run has started".to_owned()))?;
    let allowed = match run.steps.last() {
        None => index == 0,
        Some(last) => match &last.outcome {
            Some(StepOutcome::Succeeded) => index == last.index + 1,
            Some(StepOutcome::Failed { .. }) => false,
            None if last.index == index => {
                if step.retry != Retry::Safe {
                    return Err(Refusal::RunMismatch(format!(
                        "step {} (`{}`) was interrupted and is not marked `retry: safe`, so it is not repeated",
                        index + 1,
                        step.name
                    )));
                }
                true
            }
            None => false,
        },
    };
    if !allowed {
        return Err(Refusal::RunMismatch(format!(
            "step {} cannot start now: steps run once each, in order",
            index + 1
        )));
    }
    Ok(vec![Event::StepStarted { index, name: step.name.clone() }])
}

fn finish_run(ticket: &Ticket, outcome: &RunOutcome, workflow: &Workflow) -> Result<Vec<Event>, Refusal> {
    let run = ticket
        .last_run()
        .filter(|r| r.outcome.is_none())
        .ok_or_else(|| Refusal::RunMismatch("no run is in progress".to_owned()))?;
    let ok = match (ticket.state, outcome) {
        (TicketState::Running, RunOutcome::Succeeded) => {
            run.steps.len() == workflow.steps.len()
                && run.steps.iter().all(|s| s.outcome == Some(StepOutcome::Succeeded))
        }
        (TicketState::Running, RunOutcome::Failed { step, .. } | RunOutcome::Interrupted { step }) => {
            *step < workflow.steps.len()
        }
        (TicketState::Cancelled, RunOutcome::Cancelled) => true,
        _ => false,
    };
    if !ok {
        return Err(Refusal::RunMismatch(format!(
            "the run cannot finish as {outcome:?} while the ticket is {}",
            ticket.state
        )));
    }
    Ok(vec![Event::RunFinished { outcome: outcome.clone() }])
}

fn action_words(command: &Command) -> &'static str {
    match command {
        Command::Reject { .. } | Command::RejectIn { .. } => "reject",
        Command::RequestChanges { .. } => "request changes to",
        other => other.name(),
    }
}

fn known<'a>(directory: &Directory, id: &'a PersonId) -> Result<&'a PersonId, Refusal> {
    directory.person(id).map(|_| id).ok_or_else(|| Refusal::UnknownPerson(id.clone()))
}

/// The person behind a decision: never an agent, never Docket itself.
fn decider<'a>(actor: &'a Actor, directory: &Directory, action: &'static str) -> Result<&'a PersonId, Refusal> {
    match actor {
        Actor::Person { id } => known(directory, id),
        Actor::Agent { .. } => Err(Refusal::AgentCannotDecide { action }),
        Actor::System => Err(Refusal::SystemOnly { action: "decide for people" }),
    }
}

fn system_only(actor: &Actor, action: &'static str) -> Result<(), Refusal> {
    match actor {
        Actor::System => Ok(()),
        _ => Err(Refusal::SystemOnly { action }),
    }
}

fn requester_only(
    ticket: &Ticket,
    actor: &Actor,
    directory: &Directory,
    action: &'static str,
    admins_too: bool,
) -> Result<(), Refusal> {
    let id = match actor {
        Actor::System => return Err(Refusal::NotRequester { action, admins_too }),
        Actor::Person { id } => known(directory, id)?,
        Actor::Agent { agent, on_behalf_of } => {
            let id = known(directory, on_behalf_of)?;
            // An agent acts on its own requests only, never on its owner's or another agent's.
            return match &ticket.requested_by {
                Actor::Agent { agent: by, on_behalf_of: owner } if by == agent && owner == id => Ok(()),
                _ => Err(Refusal::NotAgentsTicket { action }),
            };
        }
    };
    let is_admin = matches!(actor, Actor::Person { .. }) && directory.person(id).is_some_and(|p| p.admin);
    if *id == ticket.requester || (admins_too && is_admin) {
        Ok(())
    } else {
        Err(Refusal::NotRequester { action, admins_too })
    }
}

fn in_state(ticket: &Ticket, allowed: &[TicketState], action: &'static str) -> Result<(), Refusal> {
    if allowed.contains(&ticket.state) { Ok(()) } else { Err(Refusal::WrongState { action, state: ticket.state }) }
}

fn same_version(ticket: &Ticket, rules: &Rules<'_>) -> Result<(), Refusal> {
    if ticket.version == rules.workflow.version {
        Ok(())
    } else {
        Err(Refusal::WorkflowChanged { workflow: ticket.workflow.clone() })
    }
}

fn requirement<'t>(ticket: &'t Ticket, action: &'static str) -> Result<&'t Requirement, Refusal> {
    match ticket.decision.as_ref().map(|d| &d.outcome) {
        Some(Outcome::Approvals(req)) => Ok(req),
        _ => Err(Refusal::WrongState { action, state: ticket.state }),
    }
}

fn text(body: &str, what: &'static str) -> Result<String, Refusal> {
    let trimmed = body.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_TEXT_CHARS {
        return Err(Refusal::BadText { what, max: MAX_TEXT_CHARS });
    }
    Ok(trimmed.to_owned())
}
