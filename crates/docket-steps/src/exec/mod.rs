//! The `exec` runner: a program and its argv, started directly (never through a shell) in a
//! cleared environment and a process group of its own.

mod action;
mod decode;
mod lines;
mod prepare;
mod shell;
mod supervise;

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use async_trait::async_trait;
use docket_app::{LogStream, StepJob, StepLog, StepRunner};
use docket_core::ticket::StepOutcome;
use tokio_util::sync::CancellationToken;

pub use self::action::ExecAction;
pub use self::decode::ExecKind;
pub(crate) use self::decode::named_templates;
use self::prepare::{prepare, spawn_error};
use self::supervise::{Ending, Watch, supervise};
use crate::outcome::{fail, show, wrong_kind};
use docket_process::{Launch, LaunchError, launch};

/// How long a process group has between `SIGTERM` and `SIGKILL` unless configured otherwise.
pub const DEFAULT_KILL_GRACE: Duration = docket_process::DEFAULT_GRACE;

/// Runs `exec` steps.
///
/// - Each argv template renders to exactly one argument; `argv[0]` names the program. A name
///   without `/` is looked up in the step's own `PATH` (or `/usr/local/bin:/usr/bin:/bin` when
///   it has none); a relative path with `/` is taken from the working directory.
/// - The environment is built from nothing: the job's `base_env`, then the step's `env`, then
///   `DOCKET_IDEMPOTENCY_KEY`, `DOCKET_TICKET` and `DOCKET_MODE` (`plan` or `run`).
/// - stdin is empty; stdout and stderr are streamed to the log line by line as they arrive.
/// - The program leads a new process group. On timeout (the step's, else the job's default) or
///   cancellation the group gets `SIGTERM`, then `SIGKILL` after the kill grace. When the
///   program exits by itself, whatever it left running in its group is killed too.
#[derive(Clone, Debug)]
pub struct ExecRunner {
    kill_grace: Duration,
    launch: Launch,
}

impl Default for ExecRunner {
    fn default() -> Self {
        Self::new()
    }
}

impl ExecRunner {
    /// A runner with the [`DEFAULT_KILL_GRACE`] that starts programs directly
    /// ([`Launch::Direct`]).
    pub fn new() -> Self {
        Self { kill_grace: DEFAULT_KILL_GRACE, launch: Launch::Direct }
    }

    /// The same runner, starting programs as `launch` says: `docket serve` starts them through
    /// its supervisor, so a step's processes die with the server.
    pub fn launch(self, launch: Launch) -> Self {
        Self { launch, ..self }
    }

    /// The same runner with another time between `SIGTERM` and `SIGKILL`. It also bounds how
    /// long output is still read after the program exits while background processes it started
    /// hold its pipes open.
    pub fn with_kill_grace(self, kill_grace: Duration) -> Self {
        Self { kill_grace, ..self }
    }
}

#[async_trait]
impl StepRunner for ExecRunner {
    fn kind(&self) -> &'static str {
        "exec"
    }

    async fn run(&self, job: StepJob<'_>, log: &dyn StepLog, cancel: CancellationToken) -> StepOutcome {
        let Some(exec) = job.action.spec::<ExecAction>() else {
            return wrong_kind(log, "exec", job.action);
        };
        if cancel.is_cancelled() {
            return fail(log, "cancelled before the program started");
        }
        let prepared = match prepare(exec, &job) {
            Ok(prepared) => prepared,
            Err(message) => return fail(log, message),
        };
        let time_limit = exec.timeout.map_or(job.default_timeout, |t| t.to_std());

        let launched = match launch(&self.launch, prepared.program(), self.kill_grace).await {
            Ok(launched) => launched,
            Err(LaunchError::Program(e)) => return fail(log, spawn_error(&prepared.program, &e)),
            Err(other) => return fail(log, other.to_string()),
        };
        let pid = launched.identity.program.pid;
        let mut started = format!("running {:?} ({}, pid {pid}", prepared.argv, prepared.program.display());
        if let Some(dir) = &prepared.cwd {
            started.push_str(&format!(", in {}", dir.display()));
        }
        started.push(')');
        log.line(LogStream::System, &started);

        // The group is recorded while the step already runs (its supervisor ends it if this
        // server dies first), and the record is written before this returns.
        let identity = launched.identity;
        let record = async {
            if let Some(ledger) = job.processes
                && let Err(error) = ledger.started(identity).await
            {
                log.line(LogStream::System, &format!("could not record the step's process group: {error}"));
            }
        };
        let watch = Watch { timeout: time_limit, grace: self.kill_grace, cancel: &cancel, log };
        let (ending, ()) = tokio::join!(supervise(launched, watch), record);
        match ending {
            Ending::Exited(status) => exited(status, log),
            Ending::TimedOut => fail(log, format!("timed out after {}; process group killed", show(time_limit))),
            Ending::Cancelled => fail(log, "cancelled; process group killed"),
            Ending::Lost(e) => fail(log, format!("could not wait for the process: {e}; process group killed")),
        }
    }
}

fn exited(status: std::process::ExitStatus, log: &dyn StepLog) -> StepOutcome {
    match (status.code(), status.signal()) {
        (Some(0), _) => {
            log.line(LogStream::System, "exit code 0");
            StepOutcome::Succeeded
        }
        (Some(code), _) => {
            let message = format!("exit code {code}");
            log.line(LogStream::System, &message);
            StepOutcome::Failed { exit_code: Some(code), message }
        }
        (None, Some(signal)) => fail(log, format!("killed by signal {signal}")),
        (None, None) => fail(log, format!("ended without an exit code ({status})")),
    }
}
