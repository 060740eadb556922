//! Workers: claim a queued run with a lease, keep the lease alive with heartbeats, and run the
//! steps in order, recording each start and finish. A run found half-done (its lease lapsed
//! after a crash) resumes: a `retry: safe` step runs again with the same idempotency key; any
//! other interrupted step makes the ticket `interrupted`, never silently repeated.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use docket_core::ticket::{RunOutcome, StepOutcome};
use docket_core::{Actor, Command, Refusal, Ticket, TicketId, TicketState, Workflow};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::processes::Ledger;
use super::steplog::{EngineLog, LogEnd, StepLogHandle};
use super::watch::Woken;
use crate::app::{App, Applied};
use crate::error::AppError;
use crate::ports::processes::{ProcessLedger, StepGroup};
use crate::ports::results::StoredResult;
use crate::ports::runner::{Mode, StepJob};
use crate::ports::store::{Claim, EndOfStep, LogLine, QueueOp, StoredTicket};

pub(crate) async fn worker_loop(app: App, shutdown: CancellationToken) {
    let mut woken = Woken::Told;
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        if woken != Woken::Handoff {
            let now = app.now();
            let lease_until = now.checked_add(app.inner.settings.lease).unwrap_or(now);
            match app.store().claim_run(&app.inner.holder, now, lease_until).await {
                Ok(Some(claim)) => {
                    if woken == Woken::Looked {
                        app.inner.watch.found_by_looking();
                    }
                    run_claim(&app, claim, &shutdown).await;
                    woken = Woken::Told;
                    continue;
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "could not claim a run"),
            }
        }
        woken = app.inner.watch.wait(&app.inner.work, app.inner.settings.poll, &shutdown).await;
        if woken == Woken::Stopped {
            return;
        }
    }
}

async fn run_claim(app: &App, claim: Claim, shutdown: &CancellationToken) {
    let id = claim.ticket;
    let cancel = CancellationToken::new();
    let lost = CancellationToken::new();
    app.inner.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id.clone(), cancel.clone());
    let heartbeat = tokio::spawn(heartbeat(app.clone(), id.clone(), lost.clone(), cancel.clone()));
    if claim.recovered {
        tracing::info!(ticket = %id, "resuming a run whose worker stopped");
    }
    let span = tracing::info_span!("run", ticket = %id, workflow = tracing::field::Empty);
    if let Err(error) = drive(app, &id, &cancel, &lost, shutdown).instrument(span).await {
        tracing::error!(%error, ticket = %id, "run stopped by an error; it resumes when its lease lapses");
    }
    heartbeat.abort();
    app.inner.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
}

/// Renews the lease; if it was lost, marks the run `lost` and stops its process through `stop`
/// (the run's cancel token, which the runner watches).
async fn heartbeat(app: App, id: TicketId, lost: CancellationToken, stop: CancellationToken) {
    let every = app.inner.settings.heartbeat;
    loop {
        tokio::time::sleep(every).await;
        let now = app.now();
        let until = now.checked_add(app.inner.settings.lease).unwrap_or(now);
        match app.store().heartbeat(&id, &app.inner.holder, until).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(ticket = %id, "lost the lease on a run; stopping it here");
                lost.cancel();
                stop.cancel();
                return;
            }
            Err(error) => tracing::warn!(%error, ticket = %id, "could not renew a lease"),
        }
    }
}

async fn drive(
    app: &App,
    id: &TicketId,
    cancel: &CancellationToken,
    lost: &CancellationToken,
    shutdown: &CancellationToken,
) -> Result<(), AppError> {
    let StoredTicket { ticket, version } = app.load(id).await?;
    tracing::Span::current().record("workflow", ticket.workflow.as_str());
    let Some(workflow) = app.pinned_workflow(&ticket.workflow, &ticket.version) else {
        let reason = format!("workflow `{}` is no longer in the catalog", ticket.workflow);
        return give_up(app, id, reason).await;
    };
    let first = match ticket.state {
        TicketState::Queued => 0,
        // A run found half-done: whatever of it may still run on this host is ended first.
        TicketState::Running if !super::processes::clear_to_resume(app, id).await? => {
            tracing::warn!(ticket = %id, "not resuming the run yet: processes of its step are still running");
            return Ok(());
        }
        TicketState::Running => match resume_point(&ticket, &workflow) {
            Resume::At(index) => index,
            Resume::Finish(outcome) => return finish(app, id, outcome).await,
        },
        TicketState::Cancelled => return wind_up_cancelled(app, &ticket).await,
        _ => return remove_from_queue(app, id).await,
    };
    let fresh = ticket.state == TicketState::Queued;
    let run = if fresh { ticket.runs.len() as u32 + 1 } else { ticket.last_run().map_or(1, |r| r.number) };
    // A ticket's log numbering continues across runs and resumptions.
    let last_seq = if ticket.runs.is_empty() { 0 } else { app.store().last_log_seq(id).await? };
    let seq = Arc::new(AtomicU64::new(last_seq));
    let started = Instant::now();
    let mut chain = Chain { known: Some(StoredTicket { ticket: ticket.clone(), version }), ..Chain::default() };
    // Workflows have at least one step (the loader checks), so the last step's commit ends the run.
    for index in first..workflow.steps.len() {
        let start_run = fresh && index == 0;
        let step = Step { ticket: &ticket, workflow: &workflow, run, index, start_run };
        match run_step(app, step, &mut chain, &seq, cancel, lost, shutdown).await? {
            Some(StepOutcome::Succeeded) => {}
            // A failed step's commit ended the run; `None`: the run stopped here unfinished.
            Some(StepOutcome::Failed { .. }) | None => return Ok(()),
        }
    }
    metrics::histogram!("docket_run_duration_seconds", "workflow" => workflow.id.to_string())
        .record(started.elapsed().as_secs_f64());
    Ok(())
}

/// Which step of which run.
struct Step<'a> {
    ticket: &'a Ticket,
    workflow: &'a Workflow,
    run: u32,
    index: usize,
    /// A fresh run, whose first step this is: the run starts in the step's start commit.
    start_run: bool,
}

/// What one step hands the next: the ticket as last committed (so the next commit need not read
/// it again), and the end of the step before, which commits together with the next step's start.
#[derive(Default)]
struct Chain {
    known: Option<StoredTicket>,
    /// The commands that record the step before as finished (it succeeded, and more steps
    /// follow), not yet committed.
    finished: Vec<Command>,
    /// What is left of the step whose end is committed next, written by that commit: its
    /// last output lines, and its ended process group's record (host, group) to drop.
    lines: Vec<LogLine>,
    ended: Option<(String, StepGroup)>,
}

impl Chain {
    /// Commits `commands` after whatever is pending, all in one transaction, with what is left
    /// of the step whose end is pending. What was pending stays pending if that fails.
    async fn commit(&mut self, app: &App, id: &TicketId, commands: &[Command]) -> Result<Applied, AppError> {
        let mut all = self.finished.clone();
        all.extend_from_slice(commands);
        let end = (!self.lines.is_empty() || self.ended.is_some()).then(|| EndOfStep {
            lines: &self.lines,
            ended: self.ended.as_ref().map(|(host, group)| (host.as_str(), group)),
        });
        let applied = app.apply_all_on(self.known.take(), id, &Actor::System, &all, end).await;
        if let Ok(applied) = &applied {
            self.known = Some(applied.stored());
            self.clear();
        }
        applied
    }

    /// Forgets what was pending: committed, or the run stops here.
    fn clear(&mut self) {
        self.finished.clear();
        self.lines.clear();
        self.ended = None;
    }

    /// Writes what is left of the step on its own, whose end is not committed here (its run
    /// was lost or cancelled). A failure is logged; the run stops either way.
    async fn keep_left(&mut self, app: &App, id: &TicketId) {
        let lines = std::mem::take(&mut self.lines);
        if let Err(error) = app.store().append_logs(&lines).await {
            tracing::warn!(%error, ticket = %id, "could not write the last output of a step");
        }
        if let Some((host, group)) = self.ended.take()
            && let Err(error) = app.store().forget_process(&host, &group).await
        {
            tracing::warn!(%error, ticket = %id, pgid = group.pgid, "could not drop a step process record");
        }
    }

    /// Commits the step before's end on its own, if it is pending (the next step does not
    /// start after all).
    async fn settle(&mut self, app: &App, id: &TicketId) -> Result<(), AppError> {
        if self.finished.is_empty() {
            return Ok(());
        }
        self.commit(app, id, &[]).await.map(drop)
    }
}

/// Runs a step and records how it ended. `None` means the run stopped before the step ended
/// it: the lease was lost (another worker owns the run), the server is shutting down (the run
/// resumes at this step), or the ticket was cancelled (the run has been wound up).
///
/// A step's start is durable before its program starts, and its end before the next step's
/// program starts: a step that succeeded and is followed by another is recorded finished in
/// the commit that starts the next one (or on its own, if the next does not start).
async fn run_step(
    app: &App,
    at: Step<'_>,
    chain: &mut Chain,
    seq: &Arc<AtomicU64>,
    cancel: &CancellationToken,
    lost: &CancellationToken,
    shutdown: &CancellationToken,
) -> Result<Option<StepOutcome>, AppError> {
    let Step { ticket, workflow, run, index, start_run } = at;
    if shutdown.is_cancelled() || lost.is_cancelled() {
        chain.settle(app, &ticket.id).await?;
        return Ok(None);
    }
    if cancel.is_cancelled() {
        chain.settle(app, &ticket.id).await?;
        let current = app.load(&ticket.id).await?.ticket;
        wind_up_cancelled(app, &current).await?;
        return Ok(None);
    }
    let Some(step) = workflow.steps.get(index) else {
        chain.settle(app, &ticket.id).await?;
        return Ok(Some(StepOutcome::Failed { exit_code: None, message: format!("no step {}", index + 1) }));
    };
    // A fresh run and its first step start in one commit; so do the step before's end and this
    // step's start.
    let commands: &[Command] =
        if start_run { &[Command::StartRun, Command::StartStep { index }] } else { &[Command::StartStep { index }] };
    let mut started = chain.commit(app, &ticket.id, commands).await;
    if matches!(started, Err(AppError::Refused(_))) && !chain.finished.is_empty() {
        // Refused with the step before's end: that end on its own, then this start again.
        chain.known = None;
        chain.settle(app, &ticket.id).await?;
        started = chain.commit(app, &ticket.id, commands).await;
    }
    // Recorded by now, or the run stops here (an error, as when a step's end failed to commit).
    chain.clear();
    let attempts = match started {
        Ok(applied) => applied.ticket.last_run().and_then(|r| r.steps.last()).map_or(1, |s| s.attempts),
        Err(AppError::Refused(refusal)) if start_run => {
            unstartable(app, &ticket.id, refusal).await?;
            return Ok(None);
        }
        Err(AppError::Refused(refusal)) => {
            // Only a ticket cancelled in the meantime gets here; its run is wound up below.
            tracing::info!(ticket = %ticket.id, %refusal, "step not started");
            let current = app.load(&ticket.id).await?.ticket;
            if current.state == TicketState::Cancelled {
                wind_up_cancelled(app, &current).await?;
            }
            return Ok(None);
        }
        Err(other) => return Err(other),
    };
    let log = EngineLog::start(app, &ticket.id, run, index, Arc::clone(seq));
    if attempts > 1 {
        log.note(&format!(
            "step {} (`{}`) runs again after an interruption (it is marked `retry: safe`)",
            index + 1,
            step.name
        ));
    }
    let key = format!("{}-run{run}-step{}", ticket.id, index + 1);
    let ledger = Ledger::new(app, &ticket.id, index, Mode::Run);
    let job = StepJob {
        action: &step.action,
        params: &ticket.params,
        ticket: &ticket.id,
        step: &step.name,
        mode: Mode::Run,
        idempotency_key: &key,
        base_env: &app.inner.settings.base_env,
        default_timeout: app.inner.settings.default_step_timeout,
        planned: ticket.plan.as_ref().and_then(|plan| plan.steps.get(index)),
        processes: ledger.as_ref().map(|l| l as &dyn ProcessLedger),
        run_as: workflow.run_as.as_deref(),
    };
    let started = Instant::now();
    // `cancel` fires when the ticket is cancelled or the lease is lost; `lost` tells them apart.
    let runner = app.runners().get(step.action.kind()).cloned();
    let outcome = match runner {
        None => StepOutcome::Failed {
            exit_code: None,
            message: format!("this server has no runner for `{}` steps", step.action.kind()),
        },
        Some(runner) => runner.run(job, log.log(), cancel.clone()).await,
    };
    // The group's record goes with the step's end.
    let ended = ledger.as_ref().and_then(Ledger::ended);
    // Runners build the message from what they were given (a URL, a program name), which may
    // hold a secret; only log lines pass through the redacting log on their own.
    let outcome = match outcome {
        StepOutcome::Failed { exit_code, message } => {
            StepOutcome::Failed { exit_code, message: app.rules().redactor.redact(&message) }
        }
        other => other,
    };
    metrics::histogram!("docket_step_duration_seconds", "kind" => step.action.kind())
        .record(started.elapsed().as_secs_f64());
    if let Some(result) = log.take_result() {
        keep_result(app, &log, StoredResult { ticket: ticket.id.clone(), run, step: index, result, at: app.now() })
            .await;
    }
    let LogEnd { output, lines } = log.finish().await;
    (chain.lines, chain.ended) = (lines, ended);
    if lost.is_cancelled() {
        chain.keep_left(app, &ticket.id).await;
        return Ok(None);
    }
    if cancel.is_cancelled() {
        chain.keep_left(app, &ticket.id).await;
        let current = app.load(&ticket.id).await?.ticket;
        wind_up_cancelled(app, &current).await?;
        return Ok(None);
    }
    // The step's end, and the run's when this step ends it, in one commit; a step that
    // succeeded with more to follow ends in the next step's start commit.
    let mut commands = vec![Command::FinishStep { index, outcome: outcome.clone(), output: Some(output) }];
    match &outcome {
        StepOutcome::Failed { message, .. } => {
            commands.push(Command::FinishRun { outcome: RunOutcome::Failed { step: index, message: message.clone() } });
        }
        StepOutcome::Succeeded if index + 1 == workflow.steps.len() => {
            commands.push(Command::FinishRun { outcome: RunOutcome::Succeeded });
        }
        StepOutcome::Succeeded => {
            chain.finished = commands;
            return Ok(Some(outcome));
        }
    }
    chain.commit(app, &ticket.id, &commands).await?;
    Ok(Some(outcome))
}

/// Keeps a step's result before the step is recorded finished, trying once more after a
/// failed write; a result that cannot be kept is said in the step's log, and the run goes on
/// (what the step did is done either way).
async fn keep_result(app: &App, log: &StepLogHandle, result: StoredResult) {
    for attempt in 0..2 {
        match app.store().put_result(&result).await {
            Ok(()) => return,
            Err(error) if attempt == 0 => {
                tracing::warn!(%error, ticket = %result.ticket, "could not keep a step's result; will retry");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(error) => log.note(&format!("the step's result could not be kept: {error}")),
        }
    }
}

/// Where an interrupted run goes on.
enum Resume {
    At(usize),
    Finish(RunOutcome),
}

fn resume_point(ticket: &Ticket, workflow: &Workflow) -> Resume {
    let Some(last) = ticket.last_run().and_then(|r| r.steps.last()) else {
        return Resume::At(0);
    };
    match &last.outcome {
        Some(StepOutcome::Succeeded) if last.index + 1 >= workflow.steps.len() => Resume::Finish(RunOutcome::Succeeded),
        Some(StepOutcome::Succeeded) => Resume::At(last.index + 1),
        Some(StepOutcome::Failed { message, .. }) => {
            Resume::Finish(RunOutcome::Failed { step: last.index, message: message.clone() })
        }
        None => match workflow.steps.get(last.index) {
            Some(step) if step.retry == docket_core::catalog::workflow::Retry::Safe => Resume::At(last.index),
            _ => Resume::Finish(RunOutcome::Interrupted { step: last.index }),
        },
    }
}

async fn finish(app: &App, id: &TicketId, outcome: RunOutcome) -> Result<(), AppError> {
    if let RunOutcome::Interrupted { step } = &outcome {
        tracing::warn!(ticket = %id, step = step + 1, "a step was interrupted and is not safe to repeat");
    }
    app.apply(id, &Actor::System, &Command::FinishRun { outcome }).await.map(drop)
}

/// Stops the run of a cancelled ticket: the open step is recorded as cancelled, then the run.
async fn wind_up_cancelled(app: &App, ticket: &Ticket) -> Result<(), AppError> {
    let Some(run) = ticket.last_run().filter(|r| r.outcome.is_none()) else {
        return remove_from_queue(app, &ticket.id).await;
    };
    if let Some(step) = run.steps.last().filter(|s| s.outcome.is_none()) {
        let outcome = StepOutcome::Failed { exit_code: None, message: "cancelled; process group killed".to_owned() };
        app.apply(&ticket.id, &Actor::System, &Command::FinishStep { index: step.index, outcome, output: None })
            .await?;
    }
    finish(app, &ticket.id, RunOutcome::Cancelled).await
}

/// A queued ticket whose run may not start (its approval lapsed, its workflow changed): it
/// expires if it is due, otherwise it is cancelled with the reason, so its concurrency key is
/// not held forever.
async fn unstartable(app: &App, id: &TicketId, refusal: Refusal) -> Result<(), AppError> {
    match app.apply(id, &Actor::System, &Command::Expire).await {
        Ok(_) => Ok(()),
        Err(_) => {
            let current = app.load(id).await?.ticket;
            if current.state.is_terminal() {
                return remove_from_queue(app, id).await;
            }
            give_up(app, id, format!("the run could not start: {refusal}")).await
        }
    }
}

async fn give_up(app: &App, id: &TicketId, reason: String) -> Result<(), AppError> {
    match app.apply(id, &Actor::System, &Command::Cancel { reason: Some(reason) }).await {
        Ok(_) => Ok(()),
        // Refused, or its workflow is gone from the catalog: at least stop holding the queue.
        Err(AppError::Refused(_) | AppError::NotFound(_)) => remove_from_queue(app, id).await,
        Err(other) => Err(other),
    }
}

/// Drops a queue entry whose ticket has nothing left to run.
async fn remove_from_queue(app: &App, id: &TicketId) -> Result<(), AppError> {
    let stored = app.load(id).await?;
    let change = crate::ports::store::Change {
        ticket: stored.ticket,
        expected_version: stored.version,
        at: app.now(),
        events: Vec::new(),
        audit: Vec::new(),
        outbox: Vec::new(),
        queue: QueueOp::Remove,
    };
    app.store().commit(change).await?;
    app.inner.work.notify_one();
    Ok(())
}
