//! Planning: each step's `plan` dry run is run and its output kept; steps without one show
//! their rendered action. The plan is then recorded, which lets the policy decide.

use docket_core::plan::{Plan, StepPlan};
use docket_core::{Actor, Command, Refusal, Ticket, TicketId, TicketState};
use tokio_util::sync::CancellationToken;

use super::processes::Ledger;
use super::steplog::PlanLog;
use crate::app::App;
use crate::error::AppError;
use crate::ports::processes::ProcessLedger;
use crate::ports::runner::{Mode, StepJob};
use docket_core::ticket::StepOutcome;

impl App {
    /// Plans ticket `id` if it is waiting to be planned, records the plan (or why it could
    /// not be made) and returns the ticket as it is then.
    pub(crate) async fn plan(&self, id: &TicketId) -> Result<Ticket, AppError> {
        let stored = self.load(id).await?;
        if stored.ticket.state != TicketState::Planning {
            return Ok(stored.ticket);
        }
        let result = self.make_plan(&stored.ticket).await;
        match self.apply(id, &Actor::System, &Command::RecordPlan { result }).await {
            Ok(applied) => Ok(applied.ticket),
            // Cancelled or re-planned while the dry runs ran: the ticket has moved on.
            Err(AppError::Refused(Refusal::WrongState { .. } | Refusal::WorkflowChanged { .. })) => {
                Ok(self.load(id).await?.ticket)
            }
            Err(other) => Err(other),
        }
    }

    pub(crate) async fn make_plan(&self, ticket: &Ticket) -> Result<Plan, String> {
        let workflow = self
            .pinned_workflow(&ticket.workflow, &ticket.version)
            .ok_or_else(|| format!("workflow `{}` is no longer in the catalog", ticket.workflow))?;
        // One version of the rules and runners for the whole plan, whatever a reload does meanwhile.
        let (book, runners) = (self.rules(), self.runners());
        let mut steps = Vec::with_capacity(workflow.steps.len());
        for (index, step) in workflow.steps.iter().enumerate() {
            if !runners.contains_key(step.action.kind()) {
                return Err(format!(
                    "step {} (`{}`) is a `{}` step, and this server has no runner for those",
                    index + 1,
                    step.name,
                    step.action.kind()
                ));
            }
            // A step's dry run is its `plan`, or the action itself when it plans itself.
            let dry_run = match &step.plan {
                Some(plan) => plan,
                None if step.action.plans_itself() => &step.action,
                None => {
                    steps.push(StepPlan::new(step, &ticket.params, None, &book.redactor));
                    continue;
                }
            };
            let runner = runners.get(dry_run.kind()).ok_or_else(|| {
                format!(
                    "the dry run of step `{}` is a `{}` action, which this server cannot run",
                    step.name,
                    dry_run.kind()
                )
            })?;
            let log = PlanLog::new(self);
            let key = format!("{}-plan{}-step{}", ticket.id, ticket.round, index + 1);
            let ledger = Ledger::new(self, &ticket.id, index, Mode::Plan);
            let job = StepJob {
                action: dry_run,
                params: &ticket.params,
                ticket: &ticket.id,
                step: &step.name,
                mode: Mode::Plan,
                idempotency_key: &key,
                base_env: &self.inner.settings.base_env,
                default_timeout: self.inner.settings.default_plan_timeout,
                planned: None,
                processes: ledger.as_ref().map(|l| l as &dyn ProcessLedger),
                run_as: workflow.run_as.as_deref(),
            };
            let outcome = runner.run(job, &log, CancellationToken::new()).await;
            if let Some(ledger) = &ledger {
                ledger.forget();
            }
            let facts = log.take_facts();
            let output = log.into_text();
            if let StepOutcome::Failed { message, .. } = outcome {
                let tail: String =
                    output.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
                let mut error = format!("the dry run of step `{}` failed: {message}", step.name);
                if !tail.is_empty() {
                    error.push('\n');
                    error.push_str(&tail);
                }
                return Err(book.redactor.redact(&error));
            }
            steps.push(StepPlan::with_facts(step, &ticket.params, Some(output), facts, &book.redactor));
        }
        Ok(Plan { steps })
    }
}
