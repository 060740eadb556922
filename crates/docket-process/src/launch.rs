//! Starting a step's program: directly, or through the step supervisor (see `supervisor`) that
//! ends the step's process group when this process dies. Either way the program gets exactly
//! the given argv, environment and working directory, its stdin is empty, its output goes to
//! two pipes read by the caller, and it leads a new process group, so it can be killed whole.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::AsFd as _;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use docket_app::{ProcessId, StepGroup};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::group::ProcessGroup;
use crate::procfs;
use crate::supervised::{Step, Supervisor};
use crate::user::User;
use crate::wire::{HoldsNul, Report, Request};

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
    /// Through the step supervisor (one per [`Supervisor`], shared by its clones): every
    /// step's group dies with this process, however this process dies.
    Supervised(Supervisor),
}

impl Launch {
    /// Through a supervisor that runs `program` (the `docket` binary) as `__supervise`.
    pub fn supervised(program: impl Into<PathBuf>) -> Self {
        Launch::Supervised(Supervisor::new(program))
    }
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

/// The process that leads the group: the program, a child of this process or of the step
/// supervisor.
#[derive(Debug)]
pub struct Leader {
    how: Led,
}

#[derive(Debug)]
enum Led {
    Direct(Child),
    Supervised { reports: mpsc::UnboundedReceiver<Report>, status: Option<ExitStatus> },
}

impl Leader {
    /// Waits for the program to end. Cancel safe.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let (reports, status) = match &mut self.how {
            Led::Direct(child) => return child.wait().await,
            Led::Supervised { reports, status } => (reports, status),
        };
        if let Some(status) = status {
            return Ok(*status);
        }
        match reports.recv().await {
            Some(Report::Exited(raw)) => Ok(*status.insert(ExitStatus::from_raw(raw))),
            Some(other) => Err(io::Error::other(format!("the step supervisor reported {other:?} twice"))),
            None => Err(io::Error::other("the step supervisor ended before the program")),
        }
    }

    /// Waits, at most `limit`, for the leader to end once its group has been killed (and,
    /// started directly, reaps it).
    pub async fn reap(&mut self, limit: Duration) {
        let _ = timeout(limit, self.wait()).await;
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

fn direct(program: Program<'_>) -> Result<Launched, LaunchError> {
    let mut command = Command::new(program.file);
    command
        .env_clear()
        .envs(program.env)
        .stdin(Stdio::null())
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
    if let Some((first, rest)) = program.argv.split_first() {
        command.arg0(first).args(rest);
    }
    let mut child = command.spawn().map_err(|e| spawn_failed(program.user, e, LaunchError::Program))?;
    let pid = child.id().unwrap_or_default();
    let me = ProcessId { pid, started: procfs::started(pid).unwrap_or_default() };
    let identity = StepGroup { pgid: pid, leader: me, program: me };
    let (Some(group), Some(stdout), Some(stderr)) =
        (ProcessGroup::led_by(pid), child.stdout.take(), child.stderr.take())
    else {
        // Not reachable with the settings above; the child is killed on drop.
        return Err(LaunchError::Program(io::Error::other("the process started without its pipes or process id")));
    };
    Ok(Launched { leader: Leader { how: Led::Direct(child) }, group, stdout, stderr, identity })
}

async fn supervised(supervisor: &Supervisor, program: Program<'_>, grace: Duration) -> Result<Launched, LaunchError> {
    let request = Request {
        grace,
        user: program.user.map(|user| (user.uid, user.gid)),
        file: program.file.into(),
        dir: program.dir.map(Into::into),
        argv: program.argv.iter().map(Into::into).collect(),
        env: program.env.iter().map(|(name, value)| (name.into(), value.into())).collect(),
    };
    let body = request.encode().map_err(|HoldsNul| {
        LaunchError::Program(io::Error::new(io::ErrorKind::InvalidInput, "nul byte found in provided data"))
    })?;
    let failed = |what: &str, e: io::Error| {
        LaunchError::Supervisor(format!("the step supervisor ({}) {what}: {e}", supervisor.program().display()))
    };
    let pipe = || rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(io::Error::from);
    let ((out, out_end), (err, err_end)) =
        (pipe().map_err(|e| failed("got no pipe", e))?, pipe().map_err(|e| failed("got no pipe", e))?);
    let connection = supervisor.connection().map_err(|e| failed("could not be started", e))?;
    let (id, mut reports) = connection
        .request(&body, [out_end.as_fd(), err_end.as_fd()])
        .await
        .map_err(|e| failed("could not be reached", e))?;
    // The supervisor has its own copies now; the program's are the only ones left once it
    // started, so output ends when the step's processes close it.
    drop((out_end, err_end));
    let answer = timeout(START_LIMIT, reports.recv()).await;
    let (pid, started) = match answer {
        Ok(Some(Report::Started { pid, started })) => (pid, started),
        Ok(Some(Report::Failed(errno))) => {
            return Err(spawn_failed(program.user, io::Error::from_raw_os_error(errno), LaunchError::Program));
        }
        other => {
            connection.abandon(id);
            let why = match other {
                Ok(Some(report)) => format!("reported {report:?} first"),
                Ok(None) => "ended before starting the program".to_owned(),
                Err(_) => format!("did not answer within {}s", START_LIMIT.as_secs()),
            };
            return Err(LaunchError::Supervisor(format!(
                "the step supervisor ({}) {why}",
                supervisor.program().display()
            )));
        }
    };
    let step = Step { connection, id };
    let pipes = ChildStdout::from_std(std::process::ChildStdout::from(out))
        .and_then(|stdout| Ok((stdout, ChildStderr::from_std(std::process::ChildStderr::from(err))?)));
    let group = ProcessGroup::supervised(pid, step);
    let (Some(group), Ok((stdout, stderr))) = (group, pipes) else {
        return Err(LaunchError::Supervisor("the program started without its pipes or process id".to_owned()));
    };
    let me = ProcessId { pid, started };
    let identity = StepGroup { pgid: pid, leader: me, program: me };
    let leader = Leader { how: Led::Supervised { reports, status: None } };
    Ok(Launched { leader, group, stdout, stderr, identity })
}
