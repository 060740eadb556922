//! `exec` ends with its whole process group: on timeout, on cancellation, when the runner is
//! dropped, and when the program exits leaving something behind — and never hangs on pipes a
//! grandchild holds open.

use std::time::{Duration, Instant};

use docket_core::Action;
use docket_core::ticket::StepOutcome;
use tokio_util::sync::CancellationToken;

use crate::support::{Case, Collect, assert_gone, exec, failure, read_pids, runner, script};

/// `script` run with a fresh pid file as its argument, and that file.
fn with_pid_file(name: &str, timeout: Option<docket_core::Duration>) -> (Case, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let mut action = exec(&[&script(name), &pid_file.display().to_string()]);
    action.timeout = timeout;
    (Case::new(Action::new(action)), dir, pid_file)
}

#[tokio::test]
async fn a_timeout_kills_the_program_and_its_grandchildren() {
    // Long enough that a slow machine has the script write its pids before the timeout.
    let (case, _dir, pid_file) = with_pid_file("grandchild.sh", Some(docket_core::Duration::from_secs(2)));
    let start = Instant::now();
    let (outcome, log) = case.run(&runner()).await;
    let took = start.elapsed();
    assert_eq!(failure(&outcome), (None, "timed out after 2s; process group killed"));
    assert_eq!(log.system().last().unwrap(), "timed out after 2s; process group killed");
    assert!(took < Duration::from_secs(2 + 2), "took {took:?}: SIGTERM should have ended it");
    let pids = read_pids(&pid_file).await;
    assert_eq!(pids.len(), 2);
    assert_gone(&pids).await;
}

#[tokio::test]
async fn processes_that_ignore_sigterm_get_sigkill_after_the_grace() {
    let (case, _dir, pid_file) = with_pid_file("stubborn.sh", Some(docket_core::Duration::from_secs(2)));
    let runner = runner().with_kill_grace(Duration::from_millis(400));
    let start = Instant::now();
    let (outcome, _) = case.run(&runner).await;
    let took = start.elapsed();
    assert_eq!(failure(&outcome).1, "timed out after 2s; process group killed");
    assert!(took >= Duration::from_millis(2400), "SIGKILL came before the grace ended: {took:?}");
    assert!(took < Duration::from_millis(2400 + 2000), "took {took:?}");
    assert_gone(&read_pids(&pid_file).await).await;
}

#[tokio::test]
async fn the_default_timeout_applies_when_the_step_names_none() {
    let (mut case, _dir, pid_file) = with_pid_file("grandchild.sh", None);
    case.default_timeout = Duration::from_secs(2);
    let (outcome, _) = case.run(&runner()).await;
    assert_eq!(failure(&outcome).1, "timed out after 2s; process group killed");
    assert_gone(&read_pids(&pid_file).await).await;
}

#[tokio::test]
async fn cancelling_kills_the_group_promptly() {
    let (case, _dir, pid_file) = with_pid_file("stubborn.sh", None);
    let runner = runner().with_kill_grace(Duration::from_millis(300));
    // Cancelled once the script has written its pids, however long it takes to start.
    let (outcome, log, after_cancel, pids) = case.run_cancelled_after(&runner, read_pids(&pid_file)).await;
    assert_eq!(failure(&outcome), (None, "cancelled; process group killed"));
    assert_eq!(log.system().last().unwrap(), "cancelled; process group killed");
    assert!(after_cancel < Duration::from_secs(2), "returned {after_cancel:?} after the cancellation");
    assert_gone(&pids).await;
}

#[tokio::test]
async fn a_run_cancelled_before_it_starts_starts_nothing() {
    let cancel = CancellationToken::new();
    cancel.cancel();
    let (outcome, log) = Case::new(Action::new(exec(&["/usr/bin/true"]))).run_with(&runner(), cancel).await;
    assert!(failure(&outcome).1.starts_with("cancelled"));
    assert!(!log.system().iter().any(|l| l.starts_with("running")));
}

#[tokio::test]
async fn background_processes_holding_the_pipes_do_not_hang_the_step() {
    let (case, _dir, pid_file) = with_pid_file("background.sh", None);
    let runner = runner().with_kill_grace(Duration::from_millis(300));
    let start = Instant::now();
    let (outcome, log) = case.run(&runner).await;
    assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());
    // The background process sleeps 1000 s; the step waits only the 300 ms grace for it.
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    assert_eq!(log.stdout(), ["started"]);
    assert!(log.system().iter().any(|l| l.contains("kept the output open")), "{}", log.dump());
    assert_eq!(log.system().last().unwrap(), "exit code 0");
    assert_gone(&read_pids(&pid_file).await).await;
}

#[tokio::test]
async fn nothing_the_step_started_outlives_it() {
    let (case, _dir, pid_file) = with_pid_file("quiet-background.sh", None);
    // A grace far longer than the bound below: waiting it out would show.
    let runner = runner().with_kill_grace(Duration::from_secs(20));
    let start = Instant::now();
    let (outcome, log) = case.run(&runner).await;
    assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());
    assert!(start.elapsed() < Duration::from_secs(8), "waited for a process that holds no pipe");
    assert_gone(&read_pids(&pid_file).await).await;
}

#[tokio::test]
async fn dropping_a_running_step_kills_its_group() {
    let (case, _dir, pid_file) = with_pid_file("stubborn.sh", None);
    let runner = runner();
    let log = Collect::default();
    let run = runner_run(&runner, &case, &log);
    // Dropped once the script has written its pids, however long it takes to start.
    let pids = tokio::select! {
        outcome = run => panic!("the step ended on its own: {outcome:?}"),
        pids = read_pids(&pid_file) => pids,
    };
    assert_gone(&pids).await;
}

async fn runner_run(runner: &docket_steps::ExecRunner, case: &Case, log: &Collect) -> StepOutcome {
    docket_app::StepRunner::run(runner, case.job(), log, CancellationToken::new()).await
}
