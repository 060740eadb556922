//! Step processes on this host: what a runner that starts processes records about them, where
//! the store keeps those records ([`ProcessStore`]), and the operating system's side
//! ([`Processes`]): which server this is, whether a recorded server still runs, and ending a
//! group a dead server left behind. With these the engine keeps its promise that no step's
//! processes outlive the server that started them: on start-up, before any run resumes, every
//! group recorded as running on this host whose server is gone is ended and seen gone.

use std::fmt::Debug;

use async_trait::async_trait;
use docket_core::TicketId;
use jiff::Timestamp;

use crate::ports::runner::Mode;
use crate::ports::store::StoreError;

/// One process on this host, told apart from any later process given the same pid by when it
/// started (clock ticks since boot: field 22 of `/proc/<pid>/stat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProcessId {
    /// Its process id.
    pub pid: u32,
    /// When it started, in clock ticks since the host booted.
    pub started: u64,
}

/// The process group a runner started for one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepGroup {
    /// The group's id: its leader's pid.
    pub pgid: u32,
    /// The group's leader: the program itself (a supervisor that led the group was recorded
    /// here by earlier versions).
    pub leader: ProcessId,
    /// The step's program.
    pub program: ProcessId,
}

/// A server process: the host it runs on and which process it is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerProcess {
    /// The host's name.
    pub host: String,
    /// The host's boot (`/proc/sys/kernel/random/boot_id`): nothing recorded under another boot
    /// can still run.
    pub boot: String,
    /// The server process.
    pub process: ProcessId,
}

/// A step's process group as the store keeps it while the step runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepProcess {
    /// The ticket whose step it is.
    pub ticket: TicketId,
    /// The step's index in its workflow.
    pub step: u32,
    /// Whether it is the step's dry run or the real thing.
    pub mode: Mode,
    /// The group and its members' identities.
    pub group: StepGroup,
    /// The server that started it.
    pub server: ServerProcess,
    /// When it was recorded.
    pub recorded_at: Timestamp,
}

/// How ending a group a dead server left went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupEnd {
    /// Nothing of it was running: neither its leader nor its program is the recorded process
    /// any more (or the host has booted since).
    Gone,
    /// It was running; it was sent `SIGTERM`, then `SIGKILL`, and is gone now.
    Ended,
    /// It was killed but processes of it still run (stuck in the kernel): the record is kept
    /// and its run does not resume.
    Stuck {
        /// How many processes of the group still run.
        alive: usize,
    },
}

/// The operating system's side of step processes, on this host. Implemented by `docket-steps`
/// (Linux: `/proc` and process groups).
#[async_trait]
pub trait Processes: Send + Sync + Debug + 'static {
    /// This server process, as it is recorded with each step process it starts.
    fn server(&self) -> &ServerProcess;

    /// Whether `server`, recorded on this host, still runs: same boot, and a live process with
    /// its pid that started when it did.
    fn is_running(&self, server: &ServerProcess) -> bool;

    /// Ends the group of `process` (recorded on this host by a server that is gone) if it is
    /// still the recorded one — its leader or its program is the recorded process, in the
    /// recorded group —: `SIGTERM` to the group, `SIGKILL` after a grace, then waits (bounded)
    /// until no process of the group runs. A group that is not the recorded one is never
    /// signalled.
    async fn end_group(&self, process: &StepProcess) -> GroupEnd;
}

/// Where a runner that starts processes records them, given with each job by the engine. The
/// engine writes the record as the step starts, while the step runs (a record is for when the
/// server and its step supervisor both die; while either lives, the group is ended anyway), and
/// drops it once the runner returned (by then the runner has killed what was left of the group).
#[async_trait]
pub trait ProcessLedger: Send + Sync + Debug {
    /// Records the group just started for the job. An error means the record could not even
    /// be begun.
    async fn started(&self, group: StepGroup) -> Result<(), StoreError>;
}

/// Step process groups recorded as running, per host.
#[async_trait]
pub trait ProcessStore: Send + Sync + 'static {
    /// Records a step's group as running. A record of the same group id on the same host is
    /// replaced: a group id is not reused while its group exists, so that group has ended.
    async fn record_process(&self, process: &StepProcess) -> Result<(), StoreError>;

    /// Forgets the record of `group` on `host` — only if it is that group (same leader), so a
    /// late call cannot drop the record of a newer group with the same id.
    async fn forget_process(&self, host: &str, group: &StepGroup) -> Result<(), StoreError>;

    /// Every group recorded as running on `host`, oldest first.
    async fn processes_on(&self, host: &str) -> Result<Vec<StepProcess>, StoreError>;
}
