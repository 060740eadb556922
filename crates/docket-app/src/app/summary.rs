//! The neutral ticket view the chat surfaces render (Slack as Block Kit, Teams as Adaptive
//! Cards): a headline for the state, the parameters with labels, the plan as plain lines, and
//! the key events of a change in words ("Approved by Bob Ruiz for stage lead", "Step rollout
//! failed", with the log tail and a hint). Surfaces only lay this out; they decide nothing.

use docket_core::ticket::{RunOutcome, StepOutcome, Verdict};
use docket_core::{Actor, Event, PersonId, Ticket, TicketState};
use serde::Serialize;

use super::App;
use crate::error::AppError;
use crate::ports::store::OutboxMessage;

/// Lines of log shown with a failure.
const LOG_TAIL: usize = 10;

/// How a state or event feels, for colour and emoji.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// Nothing to do yet (planning, queued).
    Neutral,
    /// Waiting for people.
    Waiting,
    /// Work in progress.
    Running,
    /// It went well.
    Good,
    /// It went badly or was refused.
    Bad,
}

impl Tone {
    /// How a ticket in `state` feels, before looking closer (the summary's headline may refine
    /// the words, never the tone).
    pub fn of(state: TicketState) -> Self {
        match state {
            TicketState::AwaitingApproval | TicketState::ChangesRequested => Tone::Waiting,
            TicketState::Requested | TicketState::Planning | TicketState::Approved | TicketState::Queued => {
                Tone::Neutral
            }
            TicketState::Running => Tone::Running,
            TicketState::Succeeded => Tone::Good,
            TicketState::PlanFailed
            | TicketState::Denied
            | TicketState::Failed
            | TicketState::Interrupted
            | TicketState::Rejected
            | TicketState::Expired
            | TicketState::Cancelled => Tone::Bad,
        }
    }

    /// Its name (`neutral`, `waiting`, `running`, `good`, `bad`), e.g. a CSS class.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Neutral => "neutral",
            Tone::Waiting => "waiting",
            Tone::Running => "running",
            Tone::Good => "good",
            Tone::Bad => "bad",
        }
    }
}

/// A ticket as chat shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TicketSummary {
    /// `DKT-42`.
    pub id: String,
    /// The workflow's title (its id when the workflow is gone).
    pub title: String,
    /// The workflow id.
    pub workflow: String,
    /// The state.
    pub state: TicketState,
    /// The state in words, with what it waits for: "Waiting for approval (stage lead)".
    pub headline: String,
    /// How the state feels.
    pub tone: Tone,
    /// Who asked, by name: "Alice Ng", or "deploy-bot (agent of Alice Ng)" for an agent's request.
    pub requester: String,
    /// The requester's id.
    pub requester_id: String,
    /// (label, value) per parameter, in the workflow's order.
    pub params: Vec<(String, String)>,
    /// The plan as lines, one or more per step (`1. rollout — kubectl --context prod …`).
    pub plan: Vec<String>,
    /// The plan's structured changes, when a step reported any: what chats lead with.
    pub changes: Option<super::chat::ChangesBrief>,
    /// Digest of the current plan (what an approval binds to).
    pub digest: Option<String>,
    /// The workflow's risk (`low`, `medium`, `high`).
    pub risk: String,
    /// Why it ended as it did, when it did.
    pub closing_reason: Option<String>,
    /// Its web page.
    pub url: Option<String>,
    /// Its records in ticketing systems, as (system, key): `("jira", "OPS-123")`.
    pub records: Vec<(String, String)>,
}

/// One key event of a change, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Happening {
    /// What happened: "Approved by Bob Ruiz (stage lead): lgtm".
    pub text: String,
    /// How it feels.
    pub tone: Tone,
    /// The last lines of output, for a failed step.
    pub log_tail: Vec<String>,
    /// What to do next, for failures.
    pub hint: Option<String>,
}

impl App {
    /// The neutral view of `ticket` for chat.
    pub fn summarize(&self, ticket: &Ticket) -> TicketSummary {
        let workflow = self.pinned_workflow(&ticket.workflow, &ticket.version);
        let params = ticket
            .params
            .iter()
            .map(|(name, value)| {
                let label = workflow.as_ref().and_then(|w| w.param(name)).map_or(name, |p| p.label.as_str());
                (label.to_owned(), value.to_string())
            })
            .collect();
        let (headline, tone) = self.headline(ticket);
        TicketSummary {
            id: ticket.id.to_string(),
            title: workflow.as_ref().map_or_else(|| ticket.workflow.to_string(), |w| w.title.clone()),
            workflow: ticket.workflow.to_string(),
            state: ticket.state,
            headline,
            tone,
            requester: self.requested_by(ticket),
            requester_id: ticket.requester.to_string(),
            params,
            plan: plan_lines(ticket),
            changes: ticket.plan.as_ref().and_then(super::chat::ChangesBrief::of),
            digest: ticket.digest.map(|d| d.to_string()),
            risk: workflow.as_ref().map_or("medium", |w| w.risk.as_str()).to_owned(),
            closing_reason: ticket.closing_reason.clone(),
            url: self.ticket_url(&ticket.id),
            records: ticket.links.iter().map(|l| (l.system.clone(), l.key.clone())).collect(),
        }
    }

    /// A person's display name (their id when unknown).
    pub fn person_name(&self, id: &PersonId) -> String {
        self.rules().directory.person(id).map_or_else(|| id.to_string(), |p| p.name.clone())
    }

    /// Who asked for `ticket`, as every surface shows it: the requester's name, or for an
    /// agent's request "deploy-bot (agent of Alice Ng)".
    pub fn requested_by(&self, ticket: &Ticket) -> String {
        let agent = ticket.requested_by.agent().map(|id| self.agent_name(id));
        docket_core::agent::requested_by_words(agent.as_deref(), &self.person_name(&ticket.requester))
    }

    /// An agent's display name (its id when it is no longer declared).
    pub fn agent_name(&self, id: &str) -> String {
        self.rules().directory.agent(id).map_or_else(|| id.to_owned(), |a| a.name.clone())
    }

    /// The key events of the change that queued `message`, in words, for thread replies: the
    /// events that [earn a reply](super::chat::earns_reply), the same in every chat.
    pub async fn happenings(&self, message: &OutboxMessage, ticket: &Ticket) -> Result<Vec<Happening>, AppError> {
        let payload = &message.message.payload;
        let version = payload.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        let count = payload.get("events").and_then(serde_json::Value::as_u64).unwrap_or(0);
        // The ticket is in hand: read only its events, not the ticket again.
        let history = self.store().events(&ticket.id).await?;
        let end = usize::try_from(version).unwrap_or(usize::MAX).min(history.len());
        let start = end.saturating_sub(usize::try_from(count).unwrap_or(0));
        let mut out = Vec::new();
        for (event, _) in
            history.get(start..end).unwrap_or_default().iter().filter(|(e, _)| super::chat::earns_reply(e))
        {
            if let Some(h) = self.happening(ticket, event).await? {
                out.push(h);
            }
        }
        Ok(out)
    }

    pub(super) async fn happening(&self, ticket: &Ticket, event: &Event) -> Result<Option<Happening>, AppError> {
        let plain = |text: String, tone| Some(Happening { text, tone, log_tail: Vec::new(), hint: None });
        Ok(match event {
            Event::Requested { requester, requested_by, .. } => {
                let agent = requested_by.agent().map(|id| self.agent_name(id));
                let who = docket_core::agent::requested_by_words(agent.as_deref(), &self.person_name(requester));
                plain(format!("Requested by {who}"), Tone::Neutral)
            }
            Event::PlanFailed { error } => Some(Happening {
                text: format!("Planning failed: {error}"),
                tone: Tone::Bad,
                log_tail: Vec::new(),
                hint: Some("Fix the cause, then retry the ticket.".to_owned()),
            }),
            Event::Decided { decision, .. } => plain(decision.explanation.clone(), Tone::Waiting),
            Event::Reviewed(review) => {
                let who = self.person_name(&review.person);
                let words = match review.verdict {
                    Verdict::Approve => match &review.stage {
                        Some(stage) => format!("Approved by {who} (stage {stage})"),
                        None => format!("Approved by {who}"),
                    },
                    Verdict::Reject => format!("Rejected by {who}"),
                    Verdict::RequestChanges => format!("{who} asked for changes"),
                };
                let text = match &review.comment {
                    Some(c) => format!("{words}: {c}"),
                    None => words,
                };
                let tone = if review.verdict == Verdict::Approve { Tone::Good } else { Tone::Bad };
                plain(text, tone)
            }
            Event::Approved { .. } => plain("Approved: every stage has its approvals".to_owned(), Tone::Good),
            Event::Amended { .. } => plain(
                format!("{} changed the parameters; approvals are asked afresh", self.person_name(&ticket.requester)),
                Tone::Waiting,
            ),
            Event::Commented(comment) => {
                plain(format!("{}: {}", self.actor_name(&comment.author), comment.text), Tone::Neutral)
            }
            Event::Cancelled { by, reason } => {
                let who = self.actor_name(by);
                plain(
                    reason
                        .as_ref()
                        .map_or_else(|| format!("Cancelled by {who}"), |r| format!("Cancelled by {who}: {r}")),
                    Tone::Bad,
                )
            }
            Event::Expired { reason } => plain(
                match reason {
                    docket_core::ticket::ExpiryReason::RequestTtl => "Expired: nobody decided in time".to_owned(),
                    docket_core::ticket::ExpiryReason::ApprovalTtl => {
                        "Expired: the run did not start while the approvals were valid".to_owned()
                    }
                },
                Tone::Bad,
            ),
            Event::RetryRequested { .. } => plain("Retry requested: planning again".to_owned(), Tone::Neutral),
            Event::RunStarted { number } => plain(
                if *number > 1 { format!("Run {number} started") } else { "Run started".to_owned() },
                Tone::Running,
            ),
            Event::StepStarted { name, .. } => plain(format!("Step {name} started"), Tone::Running),
            Event::StepFinished { index, outcome, .. } => {
                let name = step_name(ticket, *index);
                match outcome {
                    StepOutcome::Succeeded => plain(format!("Step {name} succeeded"), Tone::Good),
                    StepOutcome::Failed { message, .. } => Some(Happening {
                        text: format!("Step {name} failed: {message}"),
                        tone: Tone::Bad,
                        log_tail: self.log_tail(ticket).await?,
                        hint: Some("Read the whole log on the ticket's page; the requester may retry.".to_owned()),
                    }),
                }
            }
            Event::RunFinished { outcome } => match outcome {
                RunOutcome::Succeeded => plain("Succeeded".to_owned(), Tone::Good),
                RunOutcome::Failed { step, .. } => Some(Happening {
                    text: format!("Failed at step {}", step_name(ticket, *step)),
                    tone: Tone::Bad,
                    log_tail: Vec::new(),
                    hint: Some("The requester may retry once the cause is fixed.".to_owned()),
                }),
                RunOutcome::Interrupted { step } => Some(Happening {
                    text: format!("Interrupted at step {}: Docket stopped while it ran", step_name(ticket, *step)),
                    tone: Tone::Bad,
                    log_tail: Vec::new(),
                    hint: Some("It was not safe to repeat; check what it did, then retry.".to_owned()),
                }),
                RunOutcome::Cancelled => plain("Run stopped: the ticket was cancelled".to_owned(), Tone::Bad),
            },
            Event::PlanningStarted { .. } | Event::Planned { .. } | Event::Queued | Event::Linked(_) => None,
        })
    }

    fn actor_name(&self, actor: &Actor) -> String {
        match actor {
            Actor::Person { id } => self.person_name(id),
            Actor::Agent { agent, on_behalf_of } => {
                docket_core::agent::requested_by_words(Some(&self.agent_name(agent)), &self.person_name(on_behalf_of))
            }
            Actor::System => "Docket".to_owned(),
        }
    }

    /// The last lines the ticket's steps printed.
    async fn log_tail(&self, ticket: &Ticket) -> Result<Vec<String>, AppError> {
        let last = self.store().last_log_seq(&ticket.id).await?;
        let after = last.saturating_sub(LOG_TAIL as u64);
        Ok(self.store().logs(&ticket.id, after, LOG_TAIL as u32).await?.into_iter().map(|l| l.text).collect())
    }

    fn headline(&self, ticket: &Ticket) -> (String, Tone) {
        let words = match ticket.state {
            TicketState::Requested | TicketState::Planning => "Planning".to_owned(),
            TicketState::PlanFailed => "Planning failed".to_owned(),
            TicketState::Denied => "Denied by policy".to_owned(),
            TicketState::AwaitingApproval => {
                let stage = self.approval_view(ticket).and_then(|v| v.stages.into_iter().find(|s| s.current));
                match stage {
                    Some(s) => format!("Waiting for approval (stage {})", s.name),
                    None => "Waiting for approval".to_owned(),
                }
            }
            TicketState::ChangesRequested => "Changes requested".to_owned(),
            TicketState::Approved | TicketState::Queued => "Approved, queued to run".to_owned(),
            TicketState::Running => {
                let step = ticket.last_run().and_then(|r| r.steps.last()).map(|s| s.name.clone());
                let total = self.pinned_workflow(&ticket.workflow, &ticket.version).map_or(0, |w| w.steps.len());
                match (step, ticket.last_run().map_or(0, |r| r.steps.len())) {
                    (Some(name), n) => format!("Running step {n} of {total}: {name}"),
                    (None, _) => "Running".to_owned(),
                }
            }
            TicketState::Succeeded => "Succeeded".to_owned(),
            TicketState::Failed => "Failed".to_owned(),
            TicketState::Interrupted => "Interrupted".to_owned(),
            TicketState::Rejected => "Rejected".to_owned(),
            TicketState::Expired => "Expired".to_owned(),
            TicketState::Cancelled => "Cancelled".to_owned(),
        };
        (words, Tone::of(ticket.state))
    }
}

fn step_name(ticket: &Ticket, index: usize) -> String {
    ticket.plan.as_ref().and_then(|p| p.steps.get(index)).map_or_else(|| format!("#{}", index + 1), |s| s.name.clone())
}

/// The plan as plain lines: per step its number, name and rendered action, then its dry run's
/// output (indented), if any — unless the step reported structured changes, which chats show
/// instead (the web shows both).
pub fn plan_lines(ticket: &Ticket) -> Vec<String> {
    let Some(plan) = &ticket.plan else { return Vec::new() };
    let mut out = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        out.push(format!("{}. {} — {}", i + 1, step.name, step.one_line()));
        if !step.facts.changes.is_empty() {
            out.push(format!("   {}", docket_core::plan::ChangeCounts::of(&step.facts.changes).summary()));
        } else if let Some(output) = &step.output {
            out.extend(output.lines().map(|l| format!("   {l}")));
        }
    }
    out
}
