//! The outbox: notifications are committed with the change and delivered afterwards, retried
//! with backoff when the notifier fails, in order per ticket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use docket_core::TicketState;
use docket_testkit::{RecordingNotifier, TestApp};

use crate::{api, deploy, person};

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_until_they_succeed() {
    let notifier = Arc::new(RecordingNotifier::failing_first(3));
    let t = TestApp::builder()
        .notifier(notifier.clone())
        .settings(|s| {
            s.outbox_backoff = Duration::from_millis(20);
            s.outbox_max_backoff = Duration::from_millis(200);
        })
        .start()
        .await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = t.app.stats().await.unwrap();
        if stats.oldest_undelivered.is_none() {
            break;
        }
        assert!(Instant::now() < deadline, "the outbox never drained: {stats:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered = notifier.delivered();
    assert!(delivered.len() >= 2, "{delivered:?}");
    assert!(notifier.attempts() as usize >= delivered.len() + 3);
    let ids: Vec<u64> = delivered.iter().map(|d| d.outbox_id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "delivered out of order");
    assert!(delivered.iter().all(|d| d.ticket == "DKT-1" && d.key == "status"));
    t.stop().await;
}
