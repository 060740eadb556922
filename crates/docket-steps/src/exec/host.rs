//! The app's `Processes` port on Linux: this server's identity on its host, whether a recorded
//! server still runs, and ending a group a dead server left behind — only after checking, by
//! pid *and* start time, that the group still holds the recorded process.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use docket_app::{GroupEnd, ProcessId, Processes, ServerProcess, StepProcess};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::DEFAULT_KILL_GRACE;
use super::procfs;

/// How long a group has, after `SIGKILL`, to be gone.
const GONE_LIMIT: Duration = Duration::from_secs(5);

/// How often a group is looked at while it is being ended.
const LOOK_EVERY: Duration = Duration::from_millis(20);

/// Step processes on this host, seen through `/proc`.
#[derive(Clone, Debug)]
pub struct LocalProcesses {
    server: ServerProcess,
    grace: Duration,
}

impl LocalProcesses {
    /// This process on this host, with the [`DEFAULT_KILL_GRACE`] between `SIGTERM` and
    /// `SIGKILL`. Fails where `/proc` cannot be read (Docket's process handling needs Linux).
    pub fn new() -> std::io::Result<Self> {
        let pid = std::process::id();
        let started = procfs::started(pid).ok_or_else(|| std::io::Error::other("cannot read /proc/self/stat"))?;
        let server =
            ServerProcess { host: procfs::host_name()?, boot: procfs::boot_id()?, process: ProcessId { pid, started } };
        Ok(Self { server, grace: DEFAULT_KILL_GRACE })
    }

    /// The same, with another time between `SIGTERM` and `SIGKILL`.
    pub fn with_kill_grace(self, grace: Duration) -> Self {
        Self { grace, ..self }
    }

    fn same_boot(&self, server: &ServerProcess) -> bool {
        server.host == self.server.host && server.boot == self.server.boot
    }
}

#[async_trait]
impl Processes for LocalProcesses {
    fn server(&self) -> &ServerProcess {
        &self.server
    }

    fn is_running(&self, server: &ServerProcess) -> bool {
        self.same_boot(server) && procfs::is_running(server.process)
    }

    async fn end_group(&self, process: &StepProcess) -> GroupEnd {
        let g = &process.group;
        // A group id is never reused while the group has members: if the recorded leader or
        // program still runs in it, the group is the recorded one.
        let recorded = self.same_boot(&process.server)
            && (procfs::runs_in_group(g.leader, g.pgid) || procfs::runs_in_group(g.program, g.pgid));
        let Some(group) = i32::try_from(g.pgid).ok().filter(|&p| p > 1).map(Pid::from_raw) else {
            return GroupEnd::Gone;
        };
        if !recorded {
            return GroupEnd::Gone;
        }
        let _ = killpg(group, Signal::SIGTERM);
        if gone_within(g.pgid, self.grace).await {
            return GroupEnd::Ended;
        }
        let _ = killpg(group, Signal::SIGKILL);
        if gone_within(g.pgid, GONE_LIMIT).await {
            GroupEnd::Ended
        } else {
            GroupEnd::Stuck { alive: procfs::live_members(g.pgid).len() }
        }
    }
}

/// Whether no process of group `pgid` runs any more, looking until `limit` has passed.
async fn gone_within(pgid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if procfs::live_members(pgid).is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}
