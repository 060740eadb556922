//! What every runner test needs: a log that collects lines with the time they arrived, a job
//! built from owned parts, parameters from JSON, and helpers for processes and test scripts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use docket_app::{LogStream, Mode, StepJob, StepLog, StepRunner};
use docket_core::Action;
use docket_core::catalog::template::Template;
use docket_core::ticket::StepOutcome;
use docket_core::{Params, TicketId};
use docket_steps::{ExecAction, ExecRunner};
use tokio_util::sync::CancellationToken;

/// One collected line.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) stream: LogStream,
    pub(crate) text: String,
    pub(crate) at: Instant,
}

/// A [`StepLog`] that keeps every line.
#[derive(Debug, Default)]
pub(crate) struct Collect {
    lines: Mutex<Vec<Entry>>,
}

impl StepLog for Collect {
    fn line(&self, stream: LogStream, text: &str) {
        assert!(!text.contains('\n'), "a log line must not contain a newline: {text:?}");
        self.lines.lock().unwrap().push(Entry { stream, text: text.to_owned(), at: Instant::now() });
    }
}

impl Collect {
    pub(crate) fn entries(&self) -> Vec<Entry> {
        self.lines.lock().unwrap().clone()
    }

    pub(crate) fn of(&self, stream: LogStream) -> Vec<String> {
        self.entries().into_iter().filter(|e| e.stream == stream).map(|e| e.text).collect()
    }

    pub(crate) fn stdout(&self) -> Vec<String> {
        self.of(LogStream::Stdout)
    }

    pub(crate) fn stderr(&self) -> Vec<String> {
        self.of(LogStream::Stderr)
    }

    pub(crate) fn system(&self) -> Vec<String> {
        self.of(LogStream::System)
    }

    /// Everything, for assertion messages.
    pub(crate) fn dump(&self) -> String {
        self.entries().iter().map(|e| format!("[{}] {}", e.stream.as_str(), e.text)).collect::<Vec<_>>().join("\n")
    }
}

/// The owned parts of a [`StepJob`].
#[derive(Debug)]
pub(crate) struct Case {
    pub(crate) action: Action,
    pub(crate) params: Params,
    pub(crate) ticket: TicketId,
    pub(crate) mode: Mode,
    pub(crate) key: String,
    pub(crate) base_env: BTreeMap<String, String>,
    pub(crate) default_timeout: Duration,
    pub(crate) run_as: Option<String>,
}

impl Case {
    /// A run-mode job for `action` on ticket DKT-42 with `PATH=/usr/bin:/bin` and a 30 s default
    /// timeout.
    pub(crate) fn new(action: Action) -> Self {
        Self {
            action,
            params: Params::default(),
            ticket: TicketId::new("DKT", 42),
            mode: Mode::Run,
            key: "DKT-42-run1-step0".to_owned(),
            base_env: env(&[("PATH", "/usr/bin:/bin")]),
            default_timeout: Duration::from_secs(30),
            run_as: None,
        }
    }

    pub(crate) fn params(mut self, values: serde_json::Value) -> Self {
        self.params = serde_json::from_value(values).unwrap();
        self
    }

    /// Runs the programs as `user` (`run_as`).
    pub(crate) fn run_as(mut self, user: &str) -> Self {
        self.run_as = Some(user.to_owned());
        self
    }

    pub(crate) fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    pub(crate) fn base_env(mut self, pairs: &[(&str, &str)]) -> Self {
        self.base_env = env(pairs);
        self
    }

    pub(crate) fn job(&self) -> StepJob<'_> {
        StepJob {
            action: &self.action,
            params: &self.params,
            ticket: &self.ticket,
            step: "step",
            mode: self.mode,
            idempotency_key: &self.key,
            base_env: &self.base_env,
            default_timeout: self.default_timeout,
            planned: None,
            processes: None,
            run_as: self.run_as.as_deref(),
        }
    }

    /// Runs the job to its end.
    pub(crate) async fn run(&self, runner: &dyn StepRunner) -> (StepOutcome, Collect) {
        self.run_with(runner, CancellationToken::new()).await
    }

    pub(crate) async fn run_with(&self, runner: &dyn StepRunner, cancel: CancellationToken) -> (StepOutcome, Collect) {
        let log = Collect::default();
        let outcome = runner.run(self.job(), &log, cancel).await;
        (outcome, log)
    }

    /// Runs the job and fires `cancel` once `after` is done (a pause, or a script's pids read);
    /// also returns how long the run took after the cancellation, and what `after` gave.
    pub(crate) async fn run_cancelled_after<T>(
        &self,
        runner: &dyn StepRunner,
        after: impl Future<Output = T>,
    ) -> (StepOutcome, Collect, Duration, T) {
        let cancel = CancellationToken::new();
        let canceller = async {
            let given = after.await;
            let fired = Instant::now();
            cancel.cancel();
            (given, fired)
        };
        let ((outcome, log), (given, fired)) = tokio::join!(self.run_with(runner, cancel.clone()), canceller);
        (outcome, log, fired.elapsed(), given)
    }
}

pub(crate) fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

pub(crate) fn tpl(text: &str) -> Template {
    Template::parse(text).unwrap()
}

/// An `exec` action with no env, cwd or timeout.
pub(crate) fn exec(argv: &[&str]) -> ExecAction {
    ExecAction {
        argv: argv.iter().map(|a| tpl(a)).collect(),
        env: BTreeMap::new(),
        cwd: None,
        timeout: None,
        allow_shell_template: false,
    }
}

/// The `exec` runner the scenarios run, as the test crate that includes them starts programs
/// (`docket-steps`: directly; `docket`: through its supervisor).
pub(crate) fn runner() -> ExecRunner {
    crate::exec_runner()
}

/// A test script (committed with its executable bit, never written at test time, so running it
/// cannot race a write).
pub(crate) fn script(name: &str) -> String {
    let path = scripts_dir().join(name);
    assert!(path.is_file(), "missing test script {}", path.display());
    path.display().to_string()
}

/// `docket-steps`' `tests/steps/scripts`, wherever these scenarios are compiled.
pub(crate) fn scripts_dir() -> PathBuf {
    Path::new(crate::STEPS_TESTS).join("scripts")
}

pub(crate) fn failure(outcome: &StepOutcome) -> (Option<i32>, &str) {
    match outcome {
        StepOutcome::Failed { exit_code, message } => (*exit_code, message.as_str()),
        StepOutcome::Succeeded => panic!("expected a failure, got success"),
    }
}

/// Waits (up to 5 s) for a script to write `<pid> <pid>…` to `file`.
pub(crate) async fn read_pids(file: &Path) -> Vec<i32> {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(file) {
            return text.split_whitespace().map(|p| p.parse().unwrap()).collect();
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{} never appeared", file.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether a process is gone: no `/proc` entry, or a zombie nobody has reaped yet.
pub(crate) fn is_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
            matches!(state, Some('Z' | 'X'))
        }
    }
}

/// Asserts every pid is gone within a second (a killed process may take a moment).
pub(crate) async fn assert_gone(pids: &[i32]) {
    let start = Instant::now();
    while !pids.iter().all(|&p| is_gone(p)) {
        assert!(start.elapsed() < Duration::from_secs(1), "still running: {pids:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
