//! Step processes and the servers that started them. Each step's process group is recorded in
//! the store while it runs (the [`Ledger`] a runner gets with its job, which writes the record
//! in the background as the step starts) and forgotten once the runner returned: by the commit
//! of the step's end (or after the record, if that was still being written). On start-up, before any run resumes, every group recorded on this host
//! whose server is gone is ended and seen gone ([`end_orphans`]); and a run found half-done
//! resumes here only when no group of its ticket is left running on this host
//! ([`clear_to_resume`]), so a `retry: safe` step never runs beside its first copy and a step
//! marked `interrupted` is known to be dead. Groups on other hosts are beyond reach: their runs
//! resume only after their lease lapses, by which time their own supervisor has ended them.

use std::sync::Mutex;

use async_trait::async_trait;
use docket_core::TicketId;
use tokio::task::{JoinHandle, JoinSet};

use crate::app::App;
use crate::error::AppError;
use crate::ports::processes::{GroupEnd, ProcessLedger, StepGroup, StepProcess};
use crate::ports::runner::Mode;
use crate::ports::store::StoreError;

/// Records the group a runner starts for one job, and forgets it afterwards.
#[derive(Debug)]
pub(crate) struct Ledger<'a> {
    app: &'a App,
    ticket: &'a TicketId,
    step: u32,
    mode: Mode,
    /// What was recorded (the write may still be under way), to forget it.
    recorded: Mutex<Option<(StepGroup, JoinHandle<()>)>>,
}

impl<'a> Ledger<'a> {
    /// A ledger for step `index` of `ticket`, or `None` when this app keeps no process records.
    pub(crate) fn new(app: &'a App, ticket: &'a TicketId, index: usize, mode: Mode) -> Option<Self> {
        app.inner.processes.as_ref()?;
        let step = u32::try_from(index).unwrap_or(u32::MAX);
        Some(Self { app, ticket, step, mode, recorded: Mutex::new(None) })
    }

    /// Drops the record, once the runner has returned (and so ended the group), in the
    /// background (a dry run's: nothing is committed at its end).
    pub(crate) fn forget(&self) {
        let recorded = self.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some((group, written)) = recorded {
            self.drop_record(group, written);
        }
    }

    /// Once the runner has returned (and so ended the group): the host and group whose record
    /// the commit of the step's end drops, in its own transaction. `None` when there is no
    /// record, or its write is still under way: then it is dropped after that write, in the
    /// background, so it is never left behind by a write that came last. Either way the
    /// step's end is not held up by it, and a record left behind (a stop or a failed write in
    /// between) is found gone and dropped by the next start.
    pub(crate) fn ended(&self) -> Option<(String, StepGroup)> {
        let (group, written) = self.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()?;
        if !written.is_finished() {
            self.drop_record(group, written);
            return None;
        }
        let host = self.app.inner.processes.as_ref()?.server().host.clone();
        Some((host, group))
    }

    /// Drops the record of `group` once its write (`written`) is done, so it is never left
    /// behind by a write that came last.
    fn drop_record(&self, group: StepGroup, written: JoinHandle<()>) {
        let Some(processes) = &self.app.inner.processes else { return };
        let (app, host, ticket) = (self.app.clone(), processes.server().host.clone(), self.ticket.clone());
        tokio::spawn(async move {
            let _ = written.await;
            if let Err(error) = app.store().forget_process(&host, &group).await {
                tracing::warn!(%error, %ticket, pgid = group.pgid, "could not drop a step process record");
            }
        });
    }
}

#[async_trait]
impl ProcessLedger for Ledger<'_> {
    async fn started(&self, group: StepGroup) -> Result<(), StoreError> {
        let Some(processes) = &self.app.inner.processes else { return Ok(()) };
        let record = StepProcess {
            ticket: self.ticket.clone(),
            step: self.step,
            mode: self.mode,
            group,
            server: processes.server().clone(),
            recorded_at: self.app.now(),
        };
        // Written in the background: the step runs meanwhile (the supervisor ends its group if
        // this server dies first), and a short step is not held up by the write. A step that
        // runs several programs one after another (`terraform init`, `plan`, `show`) records
        // each; the one before has ended, and its record goes.
        let app = self.app.clone();
        let written = tokio::spawn(async move {
            if let Err(error) = app.store().record_process(&record).await {
                let (ticket, pgid) = (&record.ticket, record.group.pgid);
                tracing::warn!(%error, %ticket, pgid, "could not record a step's process group");
            }
        });
        let before = self.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).replace((group, written));
        if let Some((before, written)) = before {
            self.drop_record(before, written);
        }
        Ok(())
    }
}

/// Ends every group recorded on this host by a server that is gone, all at once, and waits
/// until each is gone. A group that will not die stays recorded; its run does not resume
/// here (see [`clear_to_resume`]).
pub(crate) async fn end_orphans(app: &App) -> Result<(), AppError> {
    let Some(processes) = app.inner.processes.clone() else { return Ok(()) };
    let host = processes.server().host.clone();
    let records = app.store().processes_on(&host).await?;
    let mut ending = JoinSet::new();
    for record in records.into_iter().filter(|r| !processes.is_running(&r.server)) {
        let processes = processes.clone();
        ending.spawn(async move {
            let end = processes.end_group(&record).await;
            (record, end)
        });
    }
    while let Some(joined) = ending.join_next().await {
        let Ok((record, end)) = joined else { continue };
        settle(app, &record, end).await?;
    }
    Ok(())
}

/// Whether the run of `ticket` may resume on this host: no group of it recorded here is still
/// running. Groups left by a server that is gone are ended first. A group whose server still
/// runs (another server on this host that lost the lease and has yet to notice) is left to that
/// server, and the run waits for a later claim.
pub(crate) async fn clear_to_resume(app: &App, ticket: &TicketId) -> Result<bool, AppError> {
    let Some(processes) = app.inner.processes.clone() else { return Ok(true) };
    let me = processes.server().clone();
    let records = app.store().processes_on(&me.host).await?;
    for record in records.into_iter().filter(|r| &r.ticket == ticket) {
        if record.server == me {
            // This server's runner returned before the record was dropped, and it ends its
            // group before returning.
            app.store().forget_process(&me.host, &record.group).await?;
            continue;
        }
        if processes.is_running(&record.server) {
            tracing::warn!(
                ticket = %ticket,
                pgid = record.group.pgid,
                server_pid = record.server.process.pid,
                "a step process of this run still runs under another server on this host; the run waits"
            );
            return Ok(false);
        }
        let end = processes.end_group(&record).await;
        if !settle(app, &record, end).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Logs how ending `record`'s group went and drops the record if the group is gone. Whether
/// it is gone.
async fn settle(app: &App, record: &StepProcess, end: GroupEnd) -> Result<bool, AppError> {
    let (ticket, step, pgid) = (&record.ticket, record.step + 1, record.group.pgid);
    match end {
        GroupEnd::Gone => {}
        GroupEnd::Ended => tracing::warn!(
            %ticket, step, pgid, mode = record.mode.as_str(),
            "ended the processes of a step whose server stopped"
        ),
        GroupEnd::Stuck { alive } => {
            tracing::error!(
                %ticket, step, pgid, alive,
                "processes of a step whose server stopped are still running after SIGKILL; its run does not resume here"
            );
            return Ok(false);
        }
    }
    app.store().forget_process(&record.server.host, &record.group).await?;
    Ok(true)
}
