//! Work nobody is told about: runs a replica claimed before it died are found once their leases
//! lapse, by the idle worker that watches, and taken up together, one worker each, not one per
//! poll interval.

use std::time::Duration;

use docket_core::TicketState;
use docket_testkit::{TestApp, fixture};

use crate::{api, params, person};

const HOLD: &str = r#"id: hold
title: Hold
params:
  - { name: n, type: string }
steps:
  - name: hold
    wait: 2s
"#;

#[tokio::test]
async fn runs_whose_leases_lapsed_are_taken_up_together_once_a_worker_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    // A replica that queued four runs, claimed them and died.
    let gone = TestApp::builder()
        .config(fixture::DOCKET_YAML)
        .workflow("hold.yaml", HOLD)
        .without_engine()
        .in_dir(dir.path())
        .start()
        .await;
    let alice = person("alice");
    let mut ids = Vec::new();
    for n in ["1", "2", "3", "4"] {
        ids.push(gone.app.request(&alice, &"hold".into(), params(&[("n", n)]), api()).await.unwrap().id);
    }
    let claimed = jiff::Timestamp::now();
    let lapses = claimed + Duration::from_millis(1500);
    for _ in &ids {
        gone.store().claim_run("gone", claimed, lapses).await.unwrap().expect("a run to claim");
    }
    drop(gone);

    // This replica's workers find nothing to claim at start; only the watcher looks again.
    let t = TestApp::builder()
        .config(fixture::DOCKET_YAML)
        .workflow("hold.yaml", HOLD)
        .in_dir(dir.path())
        .settings(|s| {
            s.exclusive = false;
            s.poll = Duration::from_secs(3);
            s.workers = 8;
        })
        .start()
        .await;
    let mut started = Vec::new();
    for id in &ids {
        let ticket = t.wait_for_state(id, TicketState::Succeeded).await;
        started.push(ticket.runs[0].started_at);
    }
    let (first, last) = (started.iter().min().unwrap(), started.iter().max().unwrap());
    assert!(*first >= lapses, "a run was taken while its lease held: {started:?}, lapsing {lapses}");
    // One poll apart, the last would start 9 s after the first; 2 s leaves a slow machine room
    // to start four runs one after another.
    let spread = last.duration_since(*first);
    assert!(spread < jiff::SignedDuration::from_secs(2), "taken one poll apart: {started:?}");
    t.stop().await;
}
