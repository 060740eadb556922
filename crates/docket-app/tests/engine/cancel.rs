//! Cancelling: a running step's whole process group is killed and the run ends cancelled;
//! a queued ticket leaves the queue.

use std::time::{Duration, Instant};

use docket_core::TicketState;
use docket_core::ticket::RunOutcome;
use docket_testkit::{TestApp, fixture};

use crate::{api, person};

const SLEEPY: &str = r#"id: sleepy
title: Sleepy
steps:
  - name: sleep
    exec: { argv: [sleep, "30"] }
  - name: never
    exec: { argv: [echo, never] }
"#;

#[tokio::test]
async fn cancelling_a_running_ticket_kills_its_process_and_ends_the_run() {
    let t = TestApp::builder().config(fixture::DOCKET_YAML).workflow("sleepy.yaml", SLEEPY).start().await;
    let ticket = t.app.request(&person("alice"), &"sleepy".into(), Default::default(), api()).await.unwrap();
    t.wait_for_state(&ticket.id, TicketState::Running).await;
    // Let the process start.
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.app.logs(&ticket.id, 0, 10).await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the step never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let bob = t.app.cancel(&person("bob"), &ticket.id, None).await.unwrap_err();
    assert_eq!(bob.code(), "not_requester");
    let started = Instant::now();
    t.app.cancel(&person("alice"), &ticket.id, Some("wrong version".into())).await.unwrap();
    loop {
        let current = t.app.ticket(&ticket.id).await.unwrap();
        if current.runs[0].outcome.is_some() {
            assert_eq!(current.runs[0].outcome, Some(RunOutcome::Cancelled));
            assert_eq!(current.runs[0].steps.len(), 1, "the second step never started");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the run did not stop: {current:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(started.elapsed() < Duration::from_secs(5), "cancel took {:?}", started.elapsed());
    let logs = t.app.logs(&ticket.id, 0, 100).await.unwrap();
    assert!(logs.iter().any(|l| l.text.contains("cancelled")), "{logs:#?}");
    assert_eq!(t.app.stats().await.unwrap().queue_depth, 0);
    t.stop().await;
}
