//! What the tools answer, as types of their own (their JSON Schemas are the tools' output
//! schemas): workflows with their parameters' schema, and tickets with what an agent needs to
//! act on them — state, plan, the policy's explanation, who approved, how the run went.

use std::collections::BTreeMap;

use docket_app::{App, LogLine, StoredResult};
use docket_core::policy::Outcome;
use docket_core::ticket::{RunOutcome, StepOutcome, Verdict};
use docket_core::{Actor, Ticket, Workflow};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::schema::{params_schema, value};

/// `list_workflows`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowList {
    /// The workflows this agent may request, by id.
    pub workflows: Vec<WorkflowOut>,
}

/// One workflow of the catalog.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowOut {
    /// Its id: what `request` takes as `workflow`.
    pub id: String,
    /// Its title.
    pub title: String,
    /// What it does.
    pub description: String,
    /// `low`, `medium` or `high`: an input to the approval policy.
    pub risk: String,
    /// Its catalog section.
    pub category: String,
    /// How people ask for it in words (`deploy {service} {version} to {env}`).
    pub examples: Vec<String>,
    /// A JSON Schema of `request`'s `params` for it: each parameter's type, pattern,
    /// bounds, choices (`enum`), default and help (`description`); `required` lists those
    /// without a default.
    pub params: Value,
}

impl WorkflowOut {
    pub(crate) fn new(workflow: &Workflow) -> Self {
        Self {
            id: workflow.id.to_string(),
            title: workflow.title.clone(),
            description: workflow.description.clone(),
            risk: workflow.risk.as_str().to_owned(),
            category: workflow.category.clone(),
            examples: workflow.examples.iter().map(|e| e.text().to_owned()).collect(),
            params: params_schema(workflow),
        }
    }
}

/// A ticket as `request`, `get_ticket`, `comment` and `cancel` return it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TicketOut {
    /// `DKT-42`.
    pub id: String,
    /// The workflow's id.
    pub workflow: String,
    /// The workflow's title.
    pub title: String,
    /// `requested`, `planning`, `awaiting_approval`, `approved`, `queued`, `running`,
    /// `succeeded`, `failed`, `rejected`, `denied`, `expired`, `cancelled`, `plan_failed`,
    /// `changes_requested` or `interrupted`.
    pub state: String,
    /// Whether nothing more will happen to it.
    pub finished: bool,
    /// The state in words, with what it waits for.
    pub headline: String,
    /// Who asked, in words: "deploy-bot (agent of Alice Ng)".
    pub requested_by: String,
    /// The person the ticket counts as requested by (an agent's owner): they cannot approve it.
    pub requester: String,
    /// The validated parameters.
    pub params: BTreeMap<String, Value>,
    /// The plan approvers see, one or more lines per step.
    pub plan: Vec<String>,
    /// The plan's digest, which approvals are bound to.
    pub digest: Option<String>,
    /// What the policy decided.
    pub decision: Option<DecisionOut>,
    /// The approval stages and who has approved, while approvals are asked or counted.
    pub stages: Vec<StageOut>,
    /// Every approval, rejection and request for changes.
    pub reviews: Vec<ReviewOut>,
    /// Comments, oldest first.
    pub comments: Vec<CommentOut>,
    /// Runs, oldest first, with each step's state.
    pub runs: Vec<RunOut>,
    /// What the steps left (a report's table, the rows a write changed), per step, from the
    /// latest run that kept one.
    pub results: Vec<ResultOut>,
    /// Why it ended the way it did.
    pub closing_reason: Option<String>,
    /// When an unanswered request expires.
    pub respond_by: Option<String>,
    /// The ticket's page, when the server has a public URL.
    pub url: Option<String>,
    /// When it was opened.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// What one step left.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ResultOut {
    /// The step's name.
    pub step: String,
    /// The run it is from.
    pub run: u32,
    /// A report's column names; empty for a write.
    pub columns: Vec<String>,
    /// A report's first rows (at most 50; the API's `results.csv` has them all).
    pub rows: Vec<Vec<Value>>,
    /// How many rows the report returned in all.
    pub row_count: Option<u64>,
    /// Whether the database's `max_rows` left rows out of what was kept.
    pub truncated: bool,
    /// Rows a write changed.
    pub rows_changed: Option<u64>,
}

/// Rows of a result shown to an agent.
const RESULT_ROWS: usize = 50;

impl ResultOut {
    pub(crate) fn new(stored: &StoredResult, ticket: &Ticket, app: &App) -> Self {
        let step = app
            .workflow(&ticket.workflow)
            .and_then(|w| w.steps.get(stored.step).map(|s| s.name.clone()))
            .unwrap_or_else(|| format!("step {}", stored.step + 1));
        let table = stored.result.table.as_ref();
        Self {
            step,
            run: stored.run,
            columns: table.map(|t| t.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default(),
            rows: table
                .map(|t| {
                    t.rows
                        .iter()
                        .take(RESULT_ROWS)
                        .map(|row| row.iter().map(|cell| serde_json::to_value(cell).unwrap_or(Value::Null)).collect())
                        .collect()
                })
                .unwrap_or_default(),
            row_count: table.map(|t| t.row_count),
            truncated: table.is_some_and(|t| t.truncated),
            rows_changed: stored.result.rows_changed,
        }
    }
}

/// The policy's decision.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DecisionOut {
    /// `deny`, `auto_approve` or `approvals`.
    pub outcome: String,
    /// The rule that decided.
    pub rule: Option<String>,
    /// Why, in words: "needs 1 approval from sre because rule `production` matched".
    pub explanation: String,
}

/// One approval stage.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct StageOut {
    /// Its name.
    pub name: String,
    /// Approvals it needs.
    pub needed: u32,
    /// Whose approvals count now.
    pub approved_by: Vec<String>,
    /// Who may still approve it (never the requester).
    pub eligible: Vec<String>,
    /// Whether it has its approvals.
    pub satisfied: bool,
    /// Whether it is the stage being asked now.
    pub current: bool,
}

/// An approver's decision.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReviewOut {
    /// Who.
    pub person: String,
    /// `approve`, `reject` or `request_changes`.
    pub verdict: String,
    /// The stage an approval counts for.
    pub stage: Option<String>,
    /// Their comment or reason.
    pub comment: Option<String>,
    /// When.
    pub at: String,
}

/// A comment.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CommentOut {
    /// Who wrote it, in words.
    pub author: String,
    /// What they wrote.
    pub text: String,
    /// When.
    pub at: String,
}

/// One run of the ticket's steps.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RunOut {
    /// 1, and one more for each retry.
    pub number: u32,
    /// `running`, `succeeded`, `failed`, `interrupted` or `cancelled`.
    pub status: String,
    /// Its steps so far.
    pub steps: Vec<StepOut>,
}

/// One step of a run.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct StepOut {
    /// The step's name.
    pub name: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    /// The exit code of a failed program.
    pub exit_code: Option<i32>,
    /// Why it failed.
    pub message: Option<String>,
}

/// `wait_for_ticket`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Waited {
    /// Whether the wait ended before the change: its timeout came, or the server began to
    /// stop (the ticket is then as it was); ask again.
    pub timed_out: bool,
    /// The ticket now.
    pub ticket: TicketOut,
}

/// `ticket_logs`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LogsOut {
    /// The lines after `after`, oldest first.
    pub lines: Vec<LogLineOut>,
    /// Pass this as `after` to read on.
    pub next_after: u64,
    /// Whether more lines are stored beyond these.
    pub more: bool,
}

/// One line a step printed (secrets masked).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LogLineOut {
    /// Its position in the ticket's log.
    pub seq: u64,
    /// The run, from 1.
    pub run: u32,
    /// The step's name.
    pub step: String,
    /// `stdout`, `stderr` or `system` (Docket's own notes).
    pub stream: String,
    /// The line.
    pub text: String,
}

impl LogLineOut {
    pub(crate) fn new(line: &LogLine, ticket: &Ticket, app: &App) -> Self {
        let step = app
            .workflow(&ticket.workflow)
            .and_then(|w| w.steps.get(line.step).map(|s| s.name.clone()))
            .unwrap_or_else(|| format!("step {}", line.step + 1));
        Self { seq: line.seq, run: line.run, step, stream: line.stream.as_str().to_owned(), text: line.text.clone() }
    }
}

impl TicketOut {
    /// The ticket with what its steps left, read from the store.
    pub(crate) async fn read(ticket: &Ticket, app: &App) -> Self {
        let mut out = Self::new(ticket, app);
        match app.results(&ticket.id).await {
            Ok(results) => out.results = results.iter().map(|r| ResultOut::new(r, ticket, app)).collect(),
            Err(error) => tracing::warn!(%error, ticket = %ticket.id, "could not read a ticket's results"),
        }
        out
    }

    pub(crate) fn new(ticket: &Ticket, app: &App) -> Self {
        let summary = app.summarize(ticket);
        let approval = app.approval_view(ticket);
        let decision = ticket.decision.as_ref().map(|d| DecisionOut {
            outcome: match d.outcome {
                Outcome::Deny { .. } => "deny",
                Outcome::AutoApprove { .. } => "auto_approve",
                Outcome::Approvals(_) => "approvals",
            }
            .to_owned(),
            rule: d.rule.clone(),
            explanation: d.explanation.clone(),
        });
        let stages = approval
            .as_ref()
            .map(|a| {
                a.stages
                    .iter()
                    .map(|s| StageOut {
                        name: s.name.clone(),
                        needed: s.needed,
                        approved_by: s.approved_by.iter().map(ToString::to_string).collect(),
                        eligible: s.eligible.iter().map(ToString::to_string).collect(),
                        satisfied: s.satisfied,
                        current: s.current,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let reviews = ticket
            .reviews
            .iter()
            .map(|r| ReviewOut {
                person: r.person.to_string(),
                verdict: match r.verdict {
                    Verdict::Approve => "approve",
                    Verdict::Reject => "reject",
                    Verdict::RequestChanges => "request_changes",
                }
                .to_owned(),
                stage: r.stage.clone(),
                comment: r.comment.clone(),
                at: r.at.to_string(),
            })
            .collect();
        let comments = ticket
            .comments
            .iter()
            .map(|c| CommentOut { author: actor_words(app, &c.author), text: c.text.clone(), at: c.at.to_string() })
            .collect();
        let runs = ticket.runs.iter().map(|run| RunOut {
            number: run.number,
            status: match &run.outcome {
                None => "running",
                Some(RunOutcome::Succeeded) => "succeeded",
                Some(RunOutcome::Failed { .. }) => "failed",
                Some(RunOutcome::Interrupted { .. }) => "interrupted",
                Some(RunOutcome::Cancelled) => "cancelled",
            }
            .to_owned(),
            steps: run
                .steps
                .iter()
                .map(|s| {
                    let (status, exit_code, message) = match &s.outcome {
                        None => ("running", None, None),
                        Some(StepOutcome::Succeeded) => ("succeeded", None, None),
                        Some(StepOutcome::Failed { exit_code, message }) => {
                            ("failed", *exit_code, Some(message.clone()))
                        }
                    };
                    StepOut { name: s.name.clone(), status: status.to_owned(), exit_code, message }
                })
                .collect(),
        });
        Self {
            id: ticket.id.to_string(),
            workflow: ticket.workflow.to_string(),
            title: summary.title.clone(),
            state: ticket.state.as_str().to_owned(),
            finished: ticket.state.is_terminal(),
            headline: summary.headline.clone(),
            requested_by: summary.requester.clone(),
            requester: ticket.requester.to_string(),
            params: ticket.params.iter().map(|(k, v)| (k.to_owned(), value(v))).collect(),
            plan: summary.plan.clone(),
            digest: ticket.digest.map(|d| d.to_string()),
            decision,
            stages,
            reviews,
            comments,
            runs: runs.collect(),
            results: Vec::new(),
            closing_reason: ticket.closing_reason.clone(),
            respond_by: ticket.respond_by.map(|t| t.to_string()),
            url: app.ticket_url(&ticket.id),
            created_at: ticket.created_at.to_string(),
            updated_at: ticket.updated_at.to_string(),
        }
    }
}

/// `actor` in words: "Alice Ng", "deploy-bot (agent of Alice Ng)", "Docket".
pub(crate) fn actor_words(app: &App, actor: &Actor) -> String {
    match actor {
        Actor::Person { id } => app.person_name(id),
        Actor::Agent { agent, on_behalf_of } => {
            docket_core::agent::requested_by_words(Some(&app.agent_name(agent)), &app.person_name(on_behalf_of))
        }
        Actor::System => "Docket".to_owned(),
    }
}
