//! What the API promises to send: explicit view types built from core's values, so core's
//! types can change without changing the API. The OpenAPI document's schemas are derived from
//! these types, and the tests validate real replies against them.

use std::collections::BTreeMap;

use docket_app::{App, LogLine, LogStream};
use docket_core::policy::Outcome;
use docket_core::ticket::{Comment, Review, Run, RunOutcome, StepOutcome, StepRun, Verdict, quorum};
use docket_core::{Actor, ParamValue, Person, Plan, Ticket};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::schema::{ParamValues, StateName, any_json};

/// Where the API lives; links in views start with it.
pub(crate) const API_BASE: &str = "/api/v1";

/// A ticket, in full.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Ticket)]
pub(crate) struct TicketView {
    /// The ticket's id.
    #[schema(example = "DKT-42")]
    id: String,
    /// The workflow's id.
    workflow: String,
    /// The workflow's version the ticket was planned with.
    version: String,
    /// The workflow's title.
    title: String,
    state: StateName,
    /// The person who asked (for an agent's request, the agent's owner).
    requester: String,
    requested_by: ActorView,
    /// Who asked, in words: "Alice Ng", or "deploy-bot (agent of Alice Ng)".
    #[schema(example = "deploy-bot (agent of Alice Ng)")]
    requested_by_name: String,
    #[schema(value_type = ParamValues)]
    params: BTreeMap<String, Value>,
    /// The plan approvers see; null until planned.
    plan: Option<PlanView>,
    /// The digest of the plan, which approvals must name; null until planned.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    digest: Option<String>,
    /// What the policies decided; null until planned.
    decision: Option<DecisionView>,
    reviews: Vec<ReviewView>,
    comments: Vec<CommentView>,
    runs: Vec<RunView>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// When the request expires if nobody decides.
    #[schema(format = DateTime)]
    respond_by: Option<String>,
    /// When an approved ticket must start by, or its approval expires.
    #[schema(format = DateTime)]
    start_by: Option<String>,
    /// Why the ticket ended, in words, once it has.
    closing_reason: Option<String>,
    /// The ticket's records in ticketing systems (a Jira issue, a ServiceNow change request).
    external: Vec<ExternalView>,
    links: Links,
}

/// A ticket's record in a ticketing system.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = External)]
pub(crate) struct ExternalView {
    /// The system (`jira`, `servicenow`).
    #[schema(example = "jira")]
    system: String,
    /// The record's key there.
    #[schema(example = "OPS-123")]
    key: String,
    /// Where to open it; null when not known.
    url: Option<String>,
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
            state: StateName(ticket.state),
            requester: ticket.requester.to_string(),
            requested_by: ActorView::from(&ticket.requested_by),
            requested_by_name: app.requested_by(ticket),
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
            external: ticket
                .links
                .iter()
                .map(|l| ExternalView { system: l.system.clone(), key: l.key.clone(), url: l.url.clone() })
                .collect(),
        }
    }
}

/// A ticket in a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TicketSummary {
    #[schema(example = "DKT-42")]
    id: String,
    workflow: String,
    state: StateName,
    requester: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

impl From<&Ticket> for TicketSummary {
    fn from(ticket: &Ticket) -> Self {
        Self {
            id: ticket.id.to_string(),
            workflow: ticket.workflow.to_string(),
            state: StateName(ticket.state),
            requester: ticket.requester.to_string(),
            created_at: ticket.created_at.to_string(),
            updated_at: ticket.updated_at.to_string(),
        }
    }
}

/// Where to find more about a ticket.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TicketLinks)]
struct Links {
    /// The ticket.
    #[serde(rename = "self")]
    this: String,
    /// Its server-sent events.
    events: String,
    /// Its stored log lines.
    logs: String,
}

impl Links {
    fn for_ticket(id: &str) -> Self {
        let this = format!("{API_BASE}/tickets/{id}");
        Self { events: format!("{this}/events"), logs: format!("{this}/logs"), this }
    }
}

/// Who did something: a person, an AI agent acting for a person, or Docket itself.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schema(as = Actor)]
enum ActorView {
    /// A person.
    Person { id: String },
    /// An agent acting for a person.
    Agent { agent: String, on_behalf_of: String },
    /// Docket itself (expiry, the engine).
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

/// What will run, as approvers see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Plan)]
struct PlanView {
    steps: Vec<StepPlanView>,
}

/// One step of a plan.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StepPlan)]
struct StepPlanView {
    name: String,
    /// The kind of step (`exec`, `http`, …). Kinds come from plug-ins, so this is any name.
    kind: String,
    /// What the step will do, in one line.
    summary: String,
    /// What the step will do, in full.
    details: Vec<DetailView>,
    /// The step's action with its parameters filled in, safe to show.
    #[schema(schema_with = any_json)]
    action: Value,
    /// The dry run's output, when the step has one.
    output: Option<String>,
    /// What the step will do to each target it manages, when its kind reports that (a
    /// Terraform plan's resources); empty otherwise.
    changes: Vec<ChangeView>,
    /// "2 to add, 1 to destroy": the changes counted; null when there are none.
    change_summary: Option<String>,
    /// The SHA-256 of the file the dry run saved, which the run applies and nothing else.
    saved_file: Option<String>,
}

/// One structured change of a plan.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Change)]
struct ChangeView {
    /// What changes (`module.db.aws_db_instance.main`).
    target: String,
    /// `create`, `update`, `replace`, `delete`, `no-op`, `read`, or an action Docket does not
    /// know, in the tool's own words.
    action: String,
    /// The target's value before (null when none); sensitive values read `(sensitive)`.
    #[schema(schema_with = any_json)]
    before: Value,
    /// The target's value after (null when none); values known only after the run read
    /// `(known after apply)`.
    #[schema(schema_with = any_json)]
    after: Value,
}

/// One labelled value of a step's action.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StepDetail)]
struct DetailView {
    /// What it is (`Statement`, `URL`).
    label: String,
    /// Its value as text.
    value: String,
    /// Whether it is code (a command, a statement), shown in a fixed-width font.
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
                    changes: s
                        .facts
                        .changes
                        .iter()
                        .map(|c| ChangeView {
                            target: c.target.clone(),
                            action: c.action.to_string(),
                            before: c.before.clone(),
                            after: c.after.clone(),
                        })
                        .collect(),
                    change_summary: (!s.facts.changes.is_empty())
                        .then(|| docket_core::plan::ChangeCounts::of(&s.facts.changes).summary()),
                    saved_file: s.facts.saved_file.clone(),
                })
                .collect(),
        }
    }
}

/// What the policies decided.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Decision)]
struct DecisionView {
    /// The rule that decided; null when no rule matched.
    rule: Option<String>,
    outcome: DecisionOutcome,
    /// The policy's message when it denies.
    message: Option<String>,
    /// Why, in words.
    explanation: String,
    /// The approval stages, in order (empty unless `outcome` is `approvals`).
    stages: Vec<StageView>,
}

/// How a decision came out.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum DecisionOutcome {
    /// Refused by policy.
    Deny,
    /// Runs without approvals.
    AutoApprove,
    /// Needs the approvals in `stages`.
    Approvals,
}

/// One approval stage and how far it is.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Stage)]
struct StageView {
    name: String,
    /// Approvals needed.
    count: u32,
    /// Who may approve (`group:sre`, `oncall:…`, a person).
    from: Vec<String>,
    /// Who has approved this round.
    approvers: Vec<String>,
    satisfied: bool,
}

impl DecisionView {
    fn new(ticket: &Ticket, decision: &docket_core::Decision, now: Timestamp) -> Self {
        let (outcome, message, stages) = match &decision.outcome {
            Outcome::Deny { message } => (DecisionOutcome::Deny, Some(message.clone()), Vec::new()),
            Outcome::AutoApprove { .. } => (DecisionOutcome::AutoApprove, None, Vec::new()),
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
                (DecisionOutcome::Approvals, None, stages)
            }
        };
        Self { rule: decision.rule.clone(), outcome, message, explanation: decision.explanation.clone(), stages }
    }
}

/// An approval, rejection or request for changes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Review)]
struct ReviewView {
    person: String,
    verdict: VerdictName,
    /// The stage an approval counts for.
    stage: Option<String>,
    /// The planning round it was given in.
    round: u32,
    /// The plan digest an approval named.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    digest: Option<String>,
    comment: Option<String>,
    #[schema(format = DateTime)]
    at: String,
    /// When an approval stops counting.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

/// What a reviewer said.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Verdict)]
enum VerdictName {
    Approve,
    Reject,
    RequestChanges,
}

impl From<&Review> for ReviewView {
    fn from(review: &Review) -> Self {
        Self {
            person: review.person.to_string(),
            verdict: match review.verdict {
                Verdict::Approve => VerdictName::Approve,
                Verdict::Reject => VerdictName::Reject,
                Verdict::RequestChanges => VerdictName::RequestChanges,
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

/// A comment on a ticket.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Comment)]
struct CommentView {
    author: ActorView,
    text: String,
    #[schema(format = DateTime)]
    at: String,
}

impl From<&Comment> for CommentView {
    fn from(comment: &Comment) -> Self {
        Self { author: ActorView::from(&comment.author), text: comment.text.clone(), at: comment.at.to_string() }
    }
}

/// One run of the ticket's steps.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Run)]
struct RunView {
    /// 1 for the first run, 2 after a retry, …
    number: u32,
    #[schema(format = DateTime)]
    started_at: String,
    #[schema(format = DateTime)]
    finished_at: Option<String>,
    /// How it ended; null while it runs.
    outcome: Option<OutcomeView>,
    steps: Vec<StepRunView>,
}

/// How a run or a step ended: `status` and, where they apply, the step, exit code and message.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Outcome)]
struct OutcomeView {
    status: OutcomeStatus,
    /// The step (from 0) a run failed or was interrupted at.
    step: Option<usize>,
    /// A failed step's exit code, when it had one.
    exit_code: Option<i32>,
    /// Why it failed.
    message: Option<String>,
}

/// How something ended.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum OutcomeStatus {
    Succeeded,
    Failed,
    /// The run stopped with Docket (runs only).
    Interrupted,
    /// Cancelled while running (runs only).
    Cancelled,
}

impl OutcomeView {
    fn status(status: OutcomeStatus) -> Self {
        Self { status, step: None, exit_code: None, message: None }
    }
}

impl From<&RunOutcome> for OutcomeView {
    fn from(outcome: &RunOutcome) -> Self {
        match outcome {
            RunOutcome::Succeeded => Self::status(OutcomeStatus::Succeeded),
            RunOutcome::Failed { step, message } => {
                Self { step: Some(*step), message: Some(message.clone()), ..Self::status(OutcomeStatus::Failed) }
            }
            RunOutcome::Interrupted { step } => Self { step: Some(*step), ..Self::status(OutcomeStatus::Interrupted) },
            RunOutcome::Cancelled => Self::status(OutcomeStatus::Cancelled),
        }
    }
}

impl From<&StepOutcome> for OutcomeView {
    fn from(outcome: &StepOutcome) -> Self {
        match outcome {
            StepOutcome::Succeeded => Self::status(OutcomeStatus::Succeeded),
            StepOutcome::Failed { exit_code, message } => {
                Self { exit_code: *exit_code, message: Some(message.clone()), ..Self::status(OutcomeStatus::Failed) }
            }
        }
    }
}

/// One step of a run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StepRun)]
struct StepRunView {
    /// The step's place in the workflow, from 0.
    index: usize,
    name: String,
    /// Tries so far (steps marked `retry: safe` are tried again after a restart).
    attempts: u32,
    #[schema(format = DateTime)]
    started_at: String,
    #[schema(format = DateTime)]
    finished_at: Option<String>,
    /// How it ended; null while it runs.
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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogLine)]
pub(crate) struct LogLineView {
    /// The line's place among the ticket's lines, from 1; `after` and `Last-Event-ID` take it.
    #[schema(minimum = 1)]
    seq: u64,
    /// The run it belongs to.
    run: u32,
    /// The step (from 0) that printed it.
    step: usize,
    stream: StreamName,
    /// The text, with secrets redacted.
    text: String,
    #[schema(format = DateTime)]
    at: String,
}

/// Where a line came from.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = LogStream)]
enum StreamName {
    /// The process's standard output.
    Stdout,
    /// The process's standard error.
    Stderr,
    /// Docket's own notes (started, exit code, truncation, response excerpt).
    System,
}

impl From<LogStream> for StreamName {
    fn from(stream: LogStream) -> Self {
        match stream {
            LogStream::Stdout => StreamName::Stdout,
            LogStream::Stderr => StreamName::Stderr,
            LogStream::System => StreamName::System,
        }
    }
}

impl From<&LogLine> for LogLineView {
    fn from(line: &LogLine) -> Self {
        Self {
            seq: line.seq,
            run: line.run,
            step: line.step,
            stream: StreamName::from(line.stream),
            text: line.text.clone(),
            at: line.at.to_string(),
        }
    }
}

/// The caller, as the directory knows them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Person)]
pub(crate) struct PersonView {
    id: String,
    name: String,
    /// The groups they belong to.
    groups: Vec<String>,
    /// Whether they may read the audit log.
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
