//! A run's steps one after another: each step's end is committed with the next step's start
//! (one transaction, one instant), and every step's output is stored, in order.

use docket_core::TicketState;
use docket_core::ticket::{RunOutcome, StepOutcome};
use docket_testkit::{TestApp, fixture};

use crate::{api, person};

const THREE: &str = r#"id: three
title: Three
steps:
  - name: one
    exec: { argv: [echo, one] }
  - name: two
    exec: { argv: [echo, two] }
  - name: three
    exec: { argv: [echo, three] }
"#;

#[tokio::test]
async fn a_steps_end_and_the_next_steps_start_are_one_commit() {
    let t = TestApp::builder().config(fixture::DOCKET_YAML).workflow("three.yaml", THREE).start().await;
    let ticket = t.app.request(&person("alice"), &"three".into(), Default::default(), api()).await.unwrap();
    let done = t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let run = &done.runs[0];
    assert_eq!(run.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(run.steps.len(), 3);
    assert!(run.steps.iter().all(|s| s.outcome == Some(StepOutcome::Succeeded)), "{run:#?}");
    for pair in run.steps.windows(2) {
        assert_eq!(pair[0].finished_at, Some(pair[1].started_at), "decided in one commit: {run:#?}");
    }
    assert_eq!(run.finished_at, run.steps[2].finished_at, "the last step's end ends the run");
    let logs = t.app.logs(&ticket.id, 0, 100).await.unwrap();
    let printed: Vec<(usize, &str)> = logs
        .iter()
        .filter(|l| ["one", "two", "three"].contains(&l.text.as_str()))
        .map(|l| (l.step, l.text.as_str()))
        .collect();
    assert_eq!(printed, [(0, "one"), (1, "two"), (2, "three")]);
    assert!(logs.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(t.app.verify_audit().await.unwrap().broken.is_none());
    // The process records went with their steps.
    let host = t.processes().server().host.clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !t.store().processes_on(&host).await.unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "a step's process record was left behind");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    t.stop().await;
}
