//! `wait`: the pause is honoured, cancellable, free at `0s` and skipped when planning.

use std::time::{Duration, Instant};

use docket_app::Mode;
use docket_core::Action;
use docket_core::ticket::StepOutcome;
use docket_steps::WaitAction;
use docket_steps::WaitRunner;

use crate::support::{Case, exec, failure};

fn wait(millis: u64) -> Case {
    Case::new(Action::new(WaitAction(docket_core::Duration::from_millis(millis))))
}

#[tokio::test]
async fn waits_for_its_duration() {
    let start = Instant::now();
    let (outcome, log) = wait(200).run(&WaitRunner::new()).await;
    let took = start.elapsed();
    assert_eq!(outcome, StepOutcome::Succeeded);
    assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(log.system(), ["waiting 200ms"]);
}

#[tokio::test]
async fn zero_returns_at_once_without_a_word() {
    let start = Instant::now();
    let (outcome, log) = wait(0).run(&WaitRunner::new()).await;
    assert_eq!(outcome, StepOutcome::Succeeded);
    assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
    assert!(log.entries().is_empty());
}

#[tokio::test]
async fn cancelling_ends_the_wait_as_a_failure() {
    let case = Case::new(Action::new(WaitAction(docket_core::Duration::from_secs(3600))));
    let pause = tokio::time::sleep(Duration::from_millis(100));
    let (outcome, _, after_cancel, ()) = case.run_cancelled_after(&WaitRunner::new(), pause).await;
    assert_eq!(failure(&outcome), (None, "cancelled during a wait of 1h"));
    assert!(after_cancel < Duration::from_secs(2), "took {after_cancel:?}");
}

#[tokio::test]
async fn planning_does_not_wait() {
    let start = Instant::now();
    let case = Case::new(Action::new(WaitAction(docket_core::Duration::from_secs(3600)))).mode(Mode::Plan);
    let (outcome, log) = case.run(&WaitRunner::new()).await;
    assert_eq!(outcome, StepOutcome::Succeeded);
    assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
    assert_eq!(log.system(), ["will wait 1h"]);
}

#[tokio::test]
async fn another_kind_of_action_is_refused() {
    let (outcome, _) = Case::new(Action::new(exec(&["/usr/bin/true"]))).run(&WaitRunner::new()).await;
    assert_eq!(failure(&outcome).1, "the wait runner cannot run `exec` steps");
}
