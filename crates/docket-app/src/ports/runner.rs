//! The `StepRunner` port: one implementation per step kind (`exec`, `http`, `wait`, …) in
//! `docket-steps`. A runner does the work and reports lines to a [`StepLog`]; redaction, the
//! output cap, storage and live delivery are the log's job, so every runner gets them alike.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use docket_core::Action;
use docket_core::ticket::StepOutcome;
use docket_core::{Params, PlanFacts, StepPlan, StepResult, TicketId};
use tokio_util::sync::CancellationToken;

use crate::ports::processes::ProcessLedger;
use crate::ports::store::LogStream;

/// Whether a step is being planned (its `plan` dry run) or run for real.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The dry run whose output approvers see.
    Plan,
    /// The real thing.
    Run,
}

impl Mode {
    /// `plan` or `run`, as steps see it (`DOCKET_MODE`) and the store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Plan => "plan",
            Mode::Run => "run",
        }
    }

    /// The mode [`Mode::as_str`] names.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "plan" => Some(Mode::Plan),
            "run" => Some(Mode::Run),
            _ => None,
        }
    }
}

/// Everything a runner needs to execute one action.
#[derive(Clone, Debug)]
pub struct StepJob<'a> {
    /// The action, with `{{param}}` templates still in it.
    pub action: &'a Action,
    /// The ticket's validated parameters, to render the templates.
    pub params: &'a Params,
    /// The ticket.
    pub ticket: &'a TicketId,
    /// The step's name.
    pub step: &'a str,
    /// Plan or run.
    pub mode: Mode,
    /// The same for every attempt of this step in this run; `exec` steps see it as
    /// `DOCKET_IDEMPOTENCY_KEY`.
    pub idempotency_key: &'a str,
    /// Variables every step of this workflow gets besides its own `env` (e.g. `PATH`), already
    /// resolved by the server's configuration.
    pub base_env: &'a BTreeMap<String, String>,
    /// Used when the action names no timeout.
    pub default_timeout: Duration,
    /// The step's entry in the approved plan (when running), so a runner can hold the run to
    /// what was approved (a SQL write commits only the planned number of rows).
    pub planned: Option<&'a StepPlan>,
    /// Where a runner that starts processes records their group (`None`: nowhere, e.g. in a
    /// runner's own tests).
    pub processes: Option<&'a dyn ProcessLedger>,
    /// The user whose programs the step starts run as (the workflow's `run_as`, or the
    /// configuration's); `None`: the server's own user.
    pub run_as: Option<&'a str>,
}

/// Where a runner writes its output. Implemented by the engine's log (redacts, caps, stores,
/// streams) and by test collectors.
pub trait StepLog: Send + Sync {
    /// One line, without its newline.
    fn line(&self, stream: LogStream, text: &str);

    /// What a dry run found, for the plan (ignored when running).
    fn facts(&self, _facts: PlanFacts) {}

    /// What the step leaves for people to read (a report's table, the rows a write changed),
    /// kept with the step when running; a later call replaces an earlier one. Ignored when
    /// planning: a dry run's findings go to [`StepLog::facts`].
    fn result(&self, _result: StepResult) {}
}

/// A runner for one step kind.
#[async_trait]
pub trait StepRunner: Send + Sync + 'static {
    /// The kind it runs: `exec`, `http`, `wait`, `sql`.
    fn kind(&self) -> &'static str;

    /// Runs `job`, reporting output to `log`. Must return promptly once `cancel` fires (killing
    /// whatever it started) with a failed outcome that says it was cancelled. Never panics on
    /// bad input: a template that renders to something unusable is a failed outcome.
    async fn run(&self, job: StepJob<'_>, log: &dyn StepLog, cancel: CancellationToken) -> StepOutcome;
}
