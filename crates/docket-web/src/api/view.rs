//! What the API promises to send: explicit view types built from core's values, so core's
//! types can change without changing the API. Each shape is described in `openapi.json`, and
//! the tests compare the two.

use std::collections::BTreeMap;

use docket_app::{App, LogLine};
use docket_core::policy::Outcome;
use docket_core::ticket::{Comment, Review, Run, RunOutcome, StepOutcome, StepRun, Verdict, quorum};
use docket_core::{Actor, ParamValue, Person, Plan, Ticket};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// Where the API lives; links in views start with it.
pub(crate) const API_BASE: &str = "/api/v1";

/// A ticket, in full.
#[derive(Debug, Serialize)]
pub(crate) struct TicketView {
    id: String,
    workflow: String,
    version: String,
    title: String,
    state: &'static str,
    requester: String,
    requested_by: ActorView,
    params: BTreeMap<String, Value>,
    plan: Option<PlanView>,
    digest: Option<String>,
    decision: Option<DecisionView>,
    reviews: Vec<ReviewView>,
    comments: Vec<CommentView>,
    runs: Vec<RunView>,
    created_at: String,
    updated_at: String,
    respond_by: Option<String>,
    start_by: Option<String>,
    closing_reason: Option<String>,
    links: Links,
}

impl TicketView {
    /// The view of `ticket`; the workflow's title and the approval counts come from `app`.
    pub(crate) fn new(ticket: &Ticket, app: &App) -> Self {
        let title = app.workflow(&ticket.workflow).map_or_else(|| ticket.workflow.to_string(), |w| w.title.clone());
        let now = app.clock_now();
        let id = ticket.id.to_string();
        Self {
            links: Links::for_ticket(&id),
            id,
            workflow: ticket.workflow.to_string(),
            version: ticket.version.clone(),
            title,
            state: ticket.state.as_str(),
            requester: ticket.requester.to_string(),
            requested_by: ActorView::from(&ticket.requested_by),
            params: ticket.params.iter().map(|(name, value)| (name.to_owned(), param_value(value))).collect(),
            plan: ticket.plan.as_ref().map(PlanView::from),
            digest: ticket.digest.map(|d| d.to_string()),
            decision: ticket.decision.as_ref().map(|decision| DecisionView::new(ticket, decision, now)),
            reviews: ticket.reviews.iter().map(ReviewView::from).collect(),
            comments: ticket.comments.iter().map(CommentView::from).collect(),
            runs: ticket.runs.iter().map(RunView::from).collect(),
            created_at: ticket.created_at.to_string(),
            updated_at: ticket.updated_at.to_string(),
            respond_by: ticket.respond_by.map(|t| t.to_string()),
            start_by: ticket.start_by.map(|t| t.to_string()),
            closing_reason: ticket.closing_reason.clone(),
        }
    }
}

/// A ticket in a list.
#[derive(Debug, Serialize)]
pub(crate) struct TicketSummary {
    id: String,
    workflow: String,
    state: &'static str,
    requester: String,
    created_at: String,
    updated_at: String,
}

impl From<&Ticket> for TicketSummary {
    fn from(ticket: &Ticket) -> Self {
        Self {
            id: ticket.id.to_string(),
            workflow: ticket.workflow.to_string(),
            state: ticket.state.as_str(),
            requester: ticket.requester.to_string(),
            created_at: ticket.created_at.to_string(),
            updated_at: ticket.updated_at.to_string(),
        }
    }
}

/// Where to find more about a ticket.
#[derive(Debug, Serialize)]
struct Links {
    #[serde(rename = "self")]
    this: String,
    events: String,
    logs: String,
}

impl Links {
    fn for_ticket(id: &str) -> Self {
        let this = format!("{API_BASE}/tickets/{id}");
        Self { events: format!("{this}/events"), logs: format!("{this}/logs"), this }
    }
}

/// Who did something.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ActorView {
    Person { id: String },
    Agent { agent: String, on_behalf_of: String },
    System,
}

impl From<&Actor> for ActorView {
    fn from(actor: &Actor) -> Self {
        match actor {
            Actor::Person { id } => ActorView::Person { id: id.to_string() },
            Actor::Agent { agent, on_behalf_of } => {
                ActorView::Agent { agent: agent.clone(), on_behalf_of: on_behalf_of.to_string() }
            }
            Actor::System => ActorView::System,
        }
    }
}

/// A typed parameter value as JSON.
pub(crate) fn param_value(value: &ParamValue) -> Value {
    match value {
        ParamValue::Bool(b) => Value::Bool(*b),
        ParamValue::Int(i) => Value::from(*i),
        ParamValue::Str(s) => Value::String(s.clone()),
    }
}

#[derive(Debug, Serialize)]
struct PlanView {
    steps: Vec<StepPlanView>,
}

#[derive(Debug, Serialize)]
struct StepPlanView {
    name: String,
    kind: String,
    /// What the step will do, in one line.
    summary: String,
    /// What the step will do, in full.
    details: Vec<DetailView>,
    action: Value,
    output: Option<String>,
}

/// One labelled value of a step's action.
#[derive(Debug, Serialize)]
struct DetailView {
    label: String,
    value: String,
    code: bool,
}

impl From<&Plan> for PlanView {
    fn from(plan: &Plan) -> Self {
        Self {
            steps: plan
                .steps
                .iter()
                .map(|s| StepPlanView {
                    name: s.name.clone(),
                    kind: s.kind.clone(),
                    summary: s.summary.clone(),
                    details: s
                        .details
                        .iter()
                        .map(|d| DetailView { label: d.label.clone(), value: d.value.clone(), code: d.code })
                        .collect(),
                    action: s.action.clone(),
                    output: s.output.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
struct DecisionView {
    rule: Option<String>,
    outcome: &'static str,
    /// The policy's message when it denies.
    message: Option<String>,
    explanation: String,
    stages: Vec<StageView>,
}

#[derive(Debug, Serialize)]
struct StageView {
    name: String,
    count: u32,
    from: Vec<String>,
    approvers: Vec<String>,
    satisfied: bool,
}

impl DecisionView {
    fn new(ticket: &Ticket, decision: &docket_core::Decision, now: Timestamp) -> Self {
        let (outcome, message, stages) = match &decision.outcome {
            Outcome::Deny { message } => ("deny", Some(message.clone()), Vec::new()),
            Outcome::AutoApprove { .. } => ("auto_approve", None, Vec::new()),
            Outcome::Approvals(requirement) => {
                let statuses = quorum(ticket, requirement, now);
                let stages = requirement
                    .stages
                    .iter()
                    .map(|stage| {
                        let status = statuses.iter().find(|s| s.name == stage.name);
                        StageView {
                            name: stage.name.clone(),
                            count: stage.count,
                            from: stage.from.iter().map(ToString::to_string).collect(),
                            approvers: status
                                .map(|s| s.approvers.iter().map(ToString::to_string).collect())
                                .unwrap_or_default(),
                            satisfied: status.is_some_and(|s| s.is_satisfied()),
                        }
                    })
                    .collect();
                ("approvals", None, stages)
            }
        };
        Self { rule: decision.rule.clone(), outcome, message, explanation: decision.explanation.clone(), stages }
    }
}

#[derive(Debug, Serialize)]
struct ReviewView {
    person: String,
    verdict: &'static str,
    stage: Option<String>,
    round: u32,
    digest: Option<String>,
    comment: Option<String>,
    at: String,
    expires_at: Option<String>,
}

impl From<&Review> for ReviewView {
    fn from(review: &Review) -> Self {
        Self {
            person: review.person.to_string(),
            verdict: match review.verdict {
                Verdict::Approve => "approve",
                Verdict::Reject => "reject",
                Verdict::RequestChanges => "request_changes",
            },
            stage: review.stage.clone(),
            round: review.round,
            digest: review.digest.map(|d| d.to_string()),
            comment: review.comment.clone(),
            at: review.at.to_string(),
            expires_at: review.expires_at.map(|t| t.to_string()),
        }
    }
}

#[derive(Debug, Serialize)]
struct CommentView {
    author: ActorView,
    text: String,
    at: String,
}

impl From<&Comment> for CommentView {
    fn from(comment: &Comment) -> Self {
        Self { author: ActorView::from(&comment.author), text: comment.text.clone(), at: comment.at.to_string() }
    }
}

#[derive(Debug, Serialize)]
struct RunView {
    number: u32,
    started_at: String,
    finished_at: Option<String>,
    outcome: Option<OutcomeView>,
    steps: Vec<StepRunView>,
}

/// How a run or a step ended: `status` and, where they apply, the step, exit code and message.
#[derive(Debug, Serialize)]
struct OutcomeView {
    status: &'static str,
    step: Option<usize>,
    exit_code: Option<i32>,
    message: Option<String>,
}

impl OutcomeView {
    fn status(status: &'static str) -> Self {
        Self { status, step: None, exit_code: None, message: None }
    }
}

impl From<&RunOutcome> for OutcomeView {
    fn from(outcome: &RunOutcome) -> Self {
        match outcome {
            RunOutcome::Succeeded => Self::status("succeeded"),
            RunOutcome::Failed { step, message } => {
                Self { step: Some(*step), message: Some(message.clone()), ..Self::status("failed") }
            }
            RunOutcome::Interrupted { step } => Self { step: Some(*step), ..Self::status("interrupted") },
            RunOutcome::Cancelled => Self::status("cancelled"),
        }
    }
}

impl From<&StepOutcome> for OutcomeView {
    fn from(outcome: &StepOutcome) -> Self {
        match outcome {
            StepOutcome::Succeeded => Self::status("succeeded"),
            StepOutcome::Failed { exit_code, message } => {
                Self { exit_code: *exit_code, message: Some(message.clone()), ..Self::status("failed") }
            }
        }
    }
}

#[derive(Debug, Serialize)]
struct StepRunView {
    index: usize,
    name: String,
    attempts: u32,
    started_at: String,
    finished_at: Option<String>,
    outcome: Option<OutcomeView>,
}

impl From<&Run> for RunView {
    fn from(run: &Run) -> Self {
        Self {
            number: run.number,
            started_at: run.started_at.to_string(),
            finished_at: run.finished_at.map(|t| t.to_string()),
            outcome: run.outcome.as_ref().map(OutcomeView::from),
            steps: run.steps.iter().map(StepRunView::from).collect(),
        }
    }
}

impl From<&StepRun> for StepRunView {
    fn from(step: &StepRun) -> Self {
        Self {
            index: step.index,
            name: step.name.clone(),
            attempts: step.attempts,
            started_at: step.started_at.to_string(),
            finished_at: step.finished_at.map(|t| t.to_string()),
            outcome: step.outcome.as_ref().map(OutcomeView::from),
        }
    }
}

/// One line of a step's output.
#[derive(Debug, Serialize)]
pub(crate) struct LogLineView {
    seq: u64,
    run: u32,
    step: usize,
    stream: &'static str,
    text: String,
    at: String,
}

impl From<&LogLine> for LogLineView {
    fn from(line: &LogLine) -> Self {
        Self {
            seq: line.seq,
            run: line.run,
            step: line.step,
            stream: line.stream.as_str(),
            text: line.text.clone(),
            at: line.at.to_string(),
        }
    }
}

/// The caller, as the directory knows them.
#[derive(Debug, Serialize)]
pub(crate) struct PersonView {
    id: String,
    name: String,
    groups: Vec<String>,
    admin: bool,
}

impl From<&Person> for PersonView {
    fn from(person: &Person) -> Self {
        Self {
            id: person.id.to_string(),
            name: person.name.clone(),
            groups: person.groups.iter().map(ToString::to_string).collect(),
            admin: person.admin,
        }
    }
}
