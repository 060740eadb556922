//! Starting a step's program: directly, or through the supervisor (see `supervisor`) that ends
//! the step's process group when this process dies. Either way the program gets exactly the
//! given argv, environment and working directory, its stdin is empty, its output goes to two
//! pipes read by the caller, and the process started here leads a new process group, so it can
//! be killed whole.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use docket_app::{ProcessId, StepGroup};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::time::timeout;

use crate::group::ProcessGroup;
use crate::procfs;
use crate::report::{Report, Reports};
use crate::user::User;

/// How long a supervisor has to say whether it started the program.
const START_LIMIT: Duration = Duration::from_secs(10);

/// How step programs are started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Launch {
    /// As children of this process. Their groups are killed on timeout, cancellation and when
    /// the caller's handle is dropped — but not if this process is killed outright
    /// (`SIGKILL`, a crash): then they run on. For tests and embedding; `docket serve`
    /// supervises.
    #[default]
    Direct,
    /// Through a supervisor: this program (the `docket` binary; `/proc/self/exe` names the
    /// running one even after it was replaced on disk) run as `__supervise`. The step's group
    /// dies with this process, however this process dies.
    Supervised(PathBuf),
}

/// A program to start, never through a shell.
#[derive(Clone, Copy, Debug)]
pub struct Program<'a> {
    /// The file to execute.
    pub file: &'a Path,
    /// Its argv, `argv[0]` included (as the program should see it); never empty.
    pub argv: &'a [String],
    /// Its whole environment.
    pub env: &'a BTreeMap<String, String>,
    /// Its working directory, if not this process's.
    pub dir: Option<&'a Path>,
    /// The user it runs as (`run_as`); `None`: this process's.
    pub user: Option<&'a User>,
}

/// Why a program did not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The program itself could not be executed (not found, not executable, …).
    #[error("{0}")]
    Program(io::Error),
    /// The supervisor could not be started, or did not answer as it should.
    #[error("{0}")]
    Supervisor(String),
    /// `run_as` names a user this host does not have.
    #[error("there is no user `{0}` on this host (`run_as`)")]
    NoSuchUser(String),
    /// This process may not start programs as another user.
    #[error(
        "this server may not start programs as `{user}` ({source}): run it as root, or give it the \
         CAP_SETUID, CAP_SETGID and CAP_KILL capabilities"
    )]
    Switch {
        /// The user named by `run_as`.
        user: String,
        /// What the system said.
        source: io::Error,
    },
}

/// A spawn error, told apart when it is the switch to `user` that was refused.
fn spawn_failed(
    user: Option<&User>,
    error: io::Error,
    otherwise: impl FnOnce(io::Error) -> LaunchError,
) -> LaunchError {
    match user {
        Some(user) if error.raw_os_error() == Some(nix::libc::EPERM) => {
            LaunchError::Switch { user: user.name.clone(), source: error }
        }
        _ => otherwise(error),
    }
}

/// A started program.
#[derive(Debug)]
pub struct Launched {
    /// The group's leader, to learn how the program ended and to reap.
    pub leader: Leader,
    /// The group, killed whole.
    pub group: ProcessGroup,
    /// The program's stdout.
    pub stdout: ChildStdout,
    /// The program's stderr.
    pub stderr: ChildStderr,
    /// Who is who in the group, for the record the engine keeps.
    pub identity: StepGroup,
}

/// The process this server started: the program itself, or its supervisor with the socket it
/// reports on (dropping which tells the supervisor to end the group).
#[derive(Debug)]
pub struct Leader {
    child: Child,
    reports: Option<Reports>,
}

impl Leader {
    /// Waits for the program to end. Cancel safe.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
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
    pub async fn reap(&mut self, limit: Duration) {
        let _ = timeout(limit, self.child.wait()).await;
    }
}

/// Starts `program` as `how` says; the supervisor, if any, gets `grace` between `SIGTERM` and
/// `SIGKILL` when this process dies.
pub async fn launch(how: &Launch, program: Program<'_>, grace: Duration) -> Result<Launched, LaunchError> {
    match how {
        Launch::Direct => direct(program),
        Launch::Supervised(supervisor) => supervised(supervisor, program, grace).await,
    }
}

/// What both ways share: the environment built from nothing, the working directory, an empty
/// stdin unless given, output pipes, a new process group, and a kill if the handle is dropped.
fn command(file: &Path, program: Program<'_>) -> Command {
    let mut command = Command::new(file);
    command
        .env_clear()
        .envs(program.env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = program.dir {
        command.current_dir(dir);
    }
    if let Some(user) = program.user {
        command.uid(user.uid).gid(user.gid);
    }
    command
}

fn direct(program: Program<'_>) -> Result<Launched, LaunchError> {
    let mut command = command(program.file, program);
    if let Some((first, rest)) = program.argv.split_first() {
        command.arg0(first).args(rest);
    }
    let child =
        command.stdin(Stdio::null()).spawn().map_err(|e| spawn_failed(program.user, e, LaunchError::Program))?;
    let pid = child.id().unwrap_or_default();
    let me = ProcessId { pid, started: procfs::started(pid).unwrap_or_default() };
    let identity = StepGroup { pgid: pid, leader: me, program: me };
    started(Leader { child, reports: None }, identity)
}

async fn supervised(supervisor: &Path, program: Program<'_>, grace: Duration) -> Result<Launched, LaunchError> {
    let could_not = |e: io::Error| {
        LaunchError::Supervisor(format!("could not start the step's supervisor ({}): {e}", supervisor.display()))
    };
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(could_not)?;
    ours.set_nonblocking(true).map_err(could_not)?;
    let ours = tokio::net::UnixStream::from_std(ours).map_err(could_not)?;
    // The command (and with it this process's copy of the supervisor's end) is dropped right
    // after the spawn, so the supervisor's end closes when the supervisor exits.
    let child = {
        let mut command = command(supervisor, program);
        command
            .arg("__supervise")
            .arg(grace.as_millis().to_string())
            .arg(program.file)
            .args(program.argv)
            .stdin(Stdio::from(OwnedFd::from(theirs)));
        command.spawn().map_err(|e| spawn_failed(program.user, e, could_not))?
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
            Err(LaunchError::Program(io::Error::from_raw_os_error(errno)))
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
            Err(LaunchError::Supervisor(format!("the step's supervisor ({}) {why}", supervisor.display())))
        }
    }
}

fn started(mut leader: Leader, identity: StepGroup) -> Result<Launched, LaunchError> {
    let (Some(group), Some(stdout), Some(stderr)) =
        (ProcessGroup::led_by(identity.pgid), leader.child.stdout.take(), leader.child.stderr.take())
    else {
        // Not reachable with the settings above; the leader is killed on drop.
        return Err(LaunchError::Supervisor("the process started without its pipes or process id".to_owned()));
    };
    Ok(Launched { leader, group, stdout, stderr, identity })
}
