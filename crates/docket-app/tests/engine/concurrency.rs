//! Concurrency keys: one run per key at a time, the rest waiting in order; different keys run
//! side by side.

use docket_core::TicketState;
use docket_testkit::{TestApp, fixture};

use crate::{api, params, person};

const SLOW: &str = r#"id: slow
title: Slow
params:
  - { name: key, type: string }
  - { name: n, type: string }
concurrency: "{{key}}"
steps:
  - name: hold
    wait: 1s
"#;

#[tokio::test]
async fn one_run_per_key_in_order_and_other_keys_in_parallel() {
    let t = TestApp::builder().config(fixture::DOCKET_YAML).workflow("slow.yaml", SLOW).start().await;
    let alice = person("alice");
    let mut ids = Vec::new();
    for (key, n) in [("a", "1"), ("a", "2"), ("a", "3"), ("b", "1")] {
        let p = params(&[("key", key), ("n", n)]);
        ids.push(t.app.request(&alice, &"slow".into(), p, api()).await.unwrap().id);
    }
    for id in &ids {
        t.wait_for_state(id, TicketState::Succeeded).await;
    }
    let mut runs = Vec::new();
    for id in &ids {
        let ticket = t.app.ticket(id).await.unwrap();
        let run = ticket.runs[0].clone();
        runs.push((run.started_at, run.finished_at.unwrap()));
    }
    // Key `a`: each run starts after the previous one finished, in request order.
    for pair in runs[..3].windows(2) {
        assert!(pair[1].0 >= pair[0].1, "runs of one key overlapped: {runs:?}");
    }
    // Key `b` did not wait for key `a`'s queue (a run of `a` holds it 1 s, so a slow machine
    // can be late to start `b` without it seeming to wait).
    assert!(runs[3].0 < runs[1].0, "key b waited behind key a: {runs:?}");
    let total = runs[2].1.duration_since(runs[0].0);
    assert!(total >= jiff::SignedDuration::from_secs(3), "{total:?}");
    t.stop().await;
}
