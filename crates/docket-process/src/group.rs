//! The process group a step's program leads, so it can be killed whole — the program, its
//! children and their children — and is killed even if the runner itself is dropped.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// A process group started with `process_group(0)`: its id is the leader's pid. Killed with
/// `SIGKILL` when dropped, unless that was done already.
#[derive(Debug)]
pub struct ProcessGroup {
    id: Pid,
    /// Cleared once the group has had its final `SIGKILL`.
    armed: bool,
}

impl ProcessGroup {
    /// The group led by the process `pid`.
    pub fn led_by(pid: u32) -> Option<Self> {
        let raw = i32::try_from(pid).ok().filter(|&p| p > 1)?;
        Some(Self { id: Pid::from_raw(raw), armed: true })
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

    fn signal(&self, signal: Signal) -> bool {
        self.armed && killpg(self.id, signal).is_ok()
    }

    /// Kills whatever is left in the group; after this the group is never signalled again.
    pub fn kill(&mut self) {
        if self.armed {
            // ESRCH (nobody left) is the usual answer and not an error.
            let _ = killpg(self.id, Signal::SIGKILL);
            self.armed = false;
        }
    }
}

impl Drop for ProcessGroup {
    /// A runner future dropped mid-step (a worker shutting down) must not leave processes behind.
    fn drop(&mut self) {
        self.kill();
    }
}
