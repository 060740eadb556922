//! Starting a step's program: directly, or through the supervisor (see `supervisor`) that ends
//! the step's process group when this process dies. Either way the program gets exactly the
//! prepared argv, environment and working directory, its output goes to two pipes read here,
//! and a new process group is led by the process started here, so it can be killed whole.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use docket_app::{ProcessId, StepGroup};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::time::timeout;

use super::group::ProcessGroup;
use super::prepare::{Prepared, spawn_error};
use super::procfs;
use super::report::{Report, Reports};

/// How long a supervisor has to say whether it started the program.
const START_LIMIT: Duration = Duration::from_secs(10);

/// How `exec` starts programs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Launch {
    /// As children of this process. Their groups are killed on timeout, cancellation and when
    /// the runner is dropped — but not if this process is killed outright (`SIGKILL`, a crash):
    /// then they run on. For tests and embedding; `docket serve` supervises.
    #[default]
    Direct,
    /// Through a supervisor: this program (the `docket` binary; `/proc/self/exe` names the
    /// running one even after it was replaced on disk) run as `__supervise`. The step's group
    /// dies with this process, however this process dies.
    Supervised(PathBuf),
}

/// A started program.
#[derive(Debug)]
pub(crate) struct Launched {
    /// The group's leader, to learn how the program ended and to reap.
    pub(crate) leader: Leader,
    /// The group, killed whole.
    pub(crate) group: ProcessGroup,
    pub(crate) stdout: ChildStdout,
    pub(crate) stderr: ChildStderr,
    /// Who is who, for the record the engine keeps.
    pub(crate) identity: StepGroup,
}

/// The process this server started: the program itself, or its supervisor with the socket it
/// reports on (dropping which tells the supervisor to end the group).
#[derive(Debug)]
pub(crate) struct Leader {
    child: Child,
    reports: Option<Reports>,
}

impl Leader {
    /// Waits for the program to end. Cancel safe.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        let Some(reports) = &mut self.reports else { return self.child.wait().await };
        match reports.next().await? {
            Some(Report::Exited(raw)) => Ok(ExitStatus::from_raw(raw)),
            Some(other) => Err(io::Error::other(format!("the step's supervisor reported {other:?} twice"))),
            None => {
                let status = self.child.wait().await?;
                Err(io::Error::other(format!("the step's supervisor ended ({status}) before the program")))
            }
        }
    }

    /// Reaps the leader once its group has been killed, waiting at most `limit`.
    pub(crate) async fn reap(&mut self, limit: Duration) {
        let _ = timeout(limit, self.child.wait()).await;
    }
}

/// Starts `prepared` as `how` says; the supervisor, if any, gets `grace` between `SIGTERM` and
/// `SIGKILL` when this process dies. A failure is a one-line message for the step's outcome.
pub(crate) async fn launch(how: &Launch, prepared: &Prepared, grace: Duration) -> Result<Launched, String> {
    match how {
        Launch::Direct => direct(prepared),
        Launch::Supervised(supervisor) => supervised(supervisor, prepared, grace).await,
    }
}

/// What both ways share: the environment built from nothing, the working directory, output
/// pipes, a new process group, and a kill if the handle is dropped.
fn command(program: &std::path::Path, prepared: &Prepared) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .envs(&prepared.env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &prepared.cwd {
        command.current_dir(dir);
    }
    command
}

fn direct(prepared: &Prepared) -> Result<Launched, String> {
    let mut command = command(&prepared.program, prepared);
    if let Some((first, rest)) = prepared.argv.split_first() {
        command.arg0(first).args(rest);
    }
    let child = command.stdin(Stdio::null()).spawn().map_err(|e| spawn_error(&prepared.program, &e))?;
    let pid = child.id().unwrap_or_default();
    let me = ProcessId { pid, started: procfs::started(pid).unwrap_or_default() };
    let identity = StepGroup { pgid: pid, leader: me, program: me };
    started(Leader { child, reports: None }, identity)
}

async fn supervised(supervisor: &std::path::Path, prepared: &Prepared, grace: Duration) -> Result<Launched, String> {
    let could_not = |e: io::Error| format!("could not start the step's supervisor ({}): {e}", supervisor.display());
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(could_not)?;
    ours.set_nonblocking(true).map_err(could_not)?;
    let ours = tokio::net::UnixStream::from_std(ours).map_err(could_not)?;
    // The command (and with it this process's copy of the supervisor's end) is dropped right
    // after the spawn, so the supervisor's end closes when the supervisor exits.
    let child = {
        let mut command = command(supervisor, prepared);
        command
            .arg("__supervise")
            .arg(grace.as_millis().to_string())
            .arg(&prepared.program)
            .args(&prepared.argv)
            .stdin(Stdio::from(OwnedFd::from(theirs)));
        command.spawn().map_err(could_not)?
    };
    let pid = child.id().unwrap_or_default();
    let mut leader = Leader { child, reports: Some(Reports::new(ours)) };
    let first = match &mut leader.reports {
        Some(reports) => timeout(START_LIMIT, reports.next()).await,
        None => Ok(Ok(None)),
    };
    match first {
        Ok(Ok(Some(Report::Started { program, supervisor_started }))) => {
            let identity = StepGroup { pgid: pid, leader: ProcessId { pid, started: supervisor_started }, program };
            started(leader, identity)
        }
        Ok(Ok(Some(Report::Failed(errno)))) => {
            leader.reap(START_LIMIT).await;
            Err(spawn_error(&prepared.program, &io::Error::from_raw_os_error(errno)))
        }
        other => {
            let why = match other {
                Ok(Ok(Some(report))) => format!("reported {report:?} first"),
                Ok(Ok(None)) => "ended before starting the program".to_owned(),
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("did not answer within {}s", START_LIMIT.as_secs()),
            };
            if let Some(mut group) = ProcessGroup::led_by(pid) {
                group.kill();
            }
            leader.reap(START_LIMIT).await;
            Err(format!("the step's supervisor ({}) {why}", supervisor.display()))
        }
    }
}

fn started(mut leader: Leader, identity: StepGroup) -> Result<Launched, String> {
    let (Some(group), Some(stdout), Some(stderr)) =
        (ProcessGroup::led_by(identity.pgid), leader.child.stdout.take(), leader.child.stderr.take())
    else {
        // Not reachable with the settings above; the leader is killed on drop.
        return Err("the process started without its pipes or process id".to_owned());
    };
    Ok(Launched { leader, group, stdout, stderr, identity })
}
