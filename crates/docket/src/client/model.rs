//! The parts of the REST API's JSON the client reads. Every field has a default and unknown
//! fields are ignored, so the server can add to its views without breaking older clients.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// `GET /tickets/{id}` and every command's answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Ticket {
    pub(crate) id: String,
    pub(crate) workflow: String,
    pub(crate) version: String,
    pub(crate) title: String,
    pub(crate) state: String,
    pub(crate) requester: String,
    /// Who asked, in words ("deploy-bot (agent of Alice Ng)"); empty from older servers.
    pub(crate) requested_by_name: String,
    pub(crate) params: BTreeMap<String, Value>,
    pub(crate) plan: Option<Plan>,
    pub(crate) digest: Option<String>,
    pub(crate) decision: Option<Decision>,
    pub(crate) reviews: Vec<Review>,
    pub(crate) comments: Vec<Comment>,
    pub(crate) runs: Vec<Run>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) respond_by: Option<String>,
    pub(crate) start_by: Option<String>,
    pub(crate) closing_reason: Option<String>,
    /// Its records in ticketing systems.
    pub(crate) external: Vec<External>,
}

/// A ticket's record in a ticketing system (`jira`, `OPS-123`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct External {
    pub(crate) system: String,
    pub(crate) key: String,
    pub(crate) url: Option<String>,
}

impl Ticket {
    /// The name of step `index` of the plan, if there is one.
    pub(crate) fn step_name(&self, index: usize) -> Option<&str> {
        self.plan.as_ref()?.steps.get(index).map(|s| s.name.as_str())
    }

    /// How many steps the plan has.
    pub(crate) fn step_count(&self) -> usize {
        self.plan.as_ref().map_or(0, |p| p.steps.len())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Plan {
    pub(crate) steps: Vec<PlanStep>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PlanStep {
    pub(crate) name: String,
    pub(crate) kind: String,
    /// What the step will do, in one line, as its kind reads it.
    pub(crate) summary: String,
    pub(crate) action: Value,
    pub(crate) output: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Decision {
    pub(crate) rule: Option<String>,
    /// `deny`, `auto_approve` or `approvals`.
    pub(crate) outcome: String,
    /// The policy's message when it denies.
    pub(crate) message: Option<String>,
    pub(crate) explanation: String,
    pub(crate) stages: Vec<Stage>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Stage {
    pub(crate) name: String,
    pub(crate) count: u32,
    pub(crate) from: Vec<String>,
    pub(crate) approvers: Vec<String>,
    pub(crate) satisfied: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Review {
    pub(crate) person: String,
    /// `approve`, `reject` or `request_changes`.
    pub(crate) verdict: String,
    pub(crate) stage: Option<String>,
    pub(crate) comment: Option<String>,
    pub(crate) at: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Comment {
    pub(crate) author: Actor,
    pub(crate) text: String,
    pub(crate) at: String,
}

/// Who did something: `{"kind": "person", "id"}`, `{"kind": "agent", "agent", "on_behalf_of"}`
/// or `{"kind": "system"}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Actor {
    pub(crate) kind: String,
    pub(crate) id: Option<String>,
    pub(crate) agent: Option<String>,
    pub(crate) on_behalf_of: Option<String>,
}

impl Actor {
    /// A short name for the actor.
    pub(crate) fn name(&self) -> String {
        match (self.kind.as_str(), &self.id, &self.agent, &self.on_behalf_of) {
            (_, Some(id), _, _) => id.clone(),
            (_, None, Some(agent), Some(person)) => format!("{agent} for {person}"),
            (_, None, Some(agent), None) => agent.clone(),
            ("", None, None, _) => "someone".to_owned(),
            (kind, None, None, _) => kind.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Run {
    pub(crate) number: u32,
    pub(crate) started_at: String,
    pub(crate) finished_at: Option<String>,
    pub(crate) outcome: Option<Outcome>,
    pub(crate) steps: Vec<StepRun>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StepRun {
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) attempts: u32,
    pub(crate) started_at: String,
    pub(crate) finished_at: Option<String>,
    pub(crate) outcome: Option<Outcome>,
}

/// How a run or step ended.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Outcome {
    pub(crate) status: String,
    pub(crate) step: Option<usize>,
    pub(crate) exit_code: Option<i32>,
    pub(crate) message: Option<String>,
}

/// One entry of `GET /tickets`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TicketSummary {
    pub(crate) id: String,
    pub(crate) workflow: String,
    pub(crate) state: String,
    pub(crate) requester: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TicketPage {
    pub(crate) tickets: Vec<TicketSummary>,
    pub(crate) next_cursor: Option<String>,
}

/// One line of a step's output.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LogLine {
    pub(crate) seq: u64,
    pub(crate) run: u32,
    pub(crate) step: usize,
    /// `stdout`, `stderr` or `system`.
    pub(crate) stream: String,
    pub(crate) text: String,
    pub(crate) at: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LogPage {
    pub(crate) lines: Vec<LogLine>,
    pub(crate) next_after: u64,
}

/// `GET /workflows/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Workflow {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) category: String,
    pub(crate) risk: String,
    pub(crate) params: Vec<Param>,
    pub(crate) steps: Vec<WorkflowStep>,
    pub(crate) examples: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Param {
    pub(crate) name: String,
    /// `string`, `text`, `integer`, `boolean` or `choice`.
    pub(crate) kind: String,
    pub(crate) label: String,
    pub(crate) help: Option<String>,
    pub(crate) required: bool,
    pub(crate) default: Option<Value>,
    pub(crate) pattern: Option<String>,
    pub(crate) min_length: Option<u64>,
    pub(crate) max_length: Option<u64>,
    pub(crate) min: Option<i64>,
    pub(crate) max: Option<i64>,
    pub(crate) choices: Option<Vec<Choice>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WorkflowStep {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) has_plan: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WorkflowList {
    pub(crate) workflows: Vec<WorkflowSummary>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WorkflowSummary {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) category: String,
    pub(crate) risk: String,
    pub(crate) params: Vec<Param>,
}

/// `POST /workflows/match`: what some words ask for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RequestMatch {
    pub(crate) workflow: Option<String>,
    pub(crate) example: Option<String>,
    pub(crate) params: serde_json::Map<String, Value>,
    pub(crate) problems: Vec<MatchProblem>,
    pub(crate) not_understood: Vec<String>,
    pub(crate) candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MatchProblem {
    pub(crate) param: String,
    pub(crate) message: String,
}

/// A workflow the words may ask for, with what was understood for it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Candidate {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) example: Option<String>,
    pub(crate) params: serde_json::Map<String, Value>,
}

/// `GET /me/waiting`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WaitingList {
    pub(crate) tickets: Vec<TicketSummary>,
    pub(crate) more: bool,
}

/// `GET /me`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Me {
    pub(crate) id: String,
    pub(crate) name: String,
}

/// The `end` event's data.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct End {
    pub(crate) state: String,
}
