//! The process group a step's program leads, so it can be killed whole — the program, its
//! children and their children — and is killed even if the runner itself is dropped.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::supervised::Step;

/// A process group started with `process_group(0)`: its id is the leader's pid. Killed with
/// `SIGKILL` when dropped, unless that was done already.
#[derive(Debug)]
pub struct ProcessGroup {
    id: Pid,
    /// Cleared once the group has had its final `SIGKILL`.
    armed: bool,
    /// Started by the step supervisor: released to it after the final `SIGKILL`, and never
    /// signalled once the supervisor died (the leader may have been reaped, its id reused).
    step: Option<Step>,
}

impl ProcessGroup {
    /// The group led by the process `pid`.
    pub fn led_by(pid: u32) -> Option<Self> {
        Some(Self { id: group_id(pid)?, armed: true, step: None })
    }

    /// The group led by `pid`, a program the step supervisor started as `step`.
    pub(crate) fn supervised(pid: u32, step: Step) -> Option<Self> {
        Some(Self { id: group_id(pid)?, armed: true, step: Some(step) })
    }

    /// Asks every process in the group to stop (`SIGTERM`). Whether anything was still there
    /// to ask.
    pub fn terminate(&self) -> bool {
        self.signal(Signal::SIGTERM)
    }

    /// Interrupts every process in the group (`SIGINT`, what some programs, Terraform among
    /// them, take as "stop gracefully"). Whether anything was still there to interrupt.
    pub fn interrupt(&self) -> bool {
        self.signal(Signal::SIGINT)
    }

    fn reachable(&self) -> bool {
        self.armed && self.step.as_ref().is_none_or(Step::reachable)
    }

    fn signal(&self, signal: Signal) -> bool {
        self.reachable() && killpg(self.id, signal).is_ok()
    }

    /// Kills whatever is left in the group; after this the group is never signalled again.
    pub fn kill(&mut self) {
        if self.reachable() {
            // ESRCH (nobody left) is the usual answer and not an error.
            let _ = killpg(self.id, Signal::SIGKILL);
        }
        if self.armed
            && let Some(step) = &self.step
        {
            step.connection.release(step.id);
        }
        self.armed = false;
    }
}

/// The id of the group `pid` leads; never 0 or 1, which `killpg` would read as "my own group"
/// or init's.
fn group_id(pid: u32) -> Option<Pid> {
    i32::try_from(pid).ok().filter(|&p| p > 1).map(Pid::from_raw)
}

impl Drop for ProcessGroup {
    /// A runner future dropped mid-step (a worker shutting down) must not leave processes behind.
    fn drop(&mut self) {
        self.kill();
    }
}
