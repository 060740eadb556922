//! The outbox's patience with a ticketing system's mirror (Jira, ServiceNow), which keeps the
//! organisation's record of a change: its messages wait out an outage that a chat's would be
//! given up in. (Its own test binary: its retries log from another thread while the engine
//! suite captures the same log lines.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use docket_core::ticket::Origin;
use docket_core::{Actor, TicketState};
use docket_testkit::{RecordingNotifier, TestApp};

fn deploy() -> docket_core::RawParams {
    [("service", "api"), ("version", "1.2.3"), ("env", "staging")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
        .collect()
}

fn api() -> Origin {
    Origin { surface: "api".to_owned(), ..Origin::default() }
}

async fn wait_drained(t: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = t.app.stats().await.unwrap();
        if stats.oldest_undelivered.is_none() {
            return;
        }
        assert!(Instant::now() < deadline, "the outbox never drained: {stats:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A ticketing system's mirror outlasts the chats' patience: its messages are still delivered
/// after more failures than a chat's would be given up at.
#[tokio::test]
async fn a_mirror_waits_out_an_outage_longer_than_a_chat_would() {
    let chat = Arc::new(RecordingNotifier::failing_first(u32::MAX));
    let mirror = Arc::new(RecordingNotifier::failing_first(8).as_mirror());
    for (notifier, delivered) in [(chat, false), (mirror, true)] {
        let t = TestApp::builder()
            .notifier(notifier.clone())
            .settings(|s| {
                s.outbox_max_attempts = 3;
                s.outbox_backoff = Duration::from_millis(5);
                s.outbox_max_backoff = Duration::from_millis(20);
            })
            .start()
            .await;
        let ticket = t.app.request(&Actor::person("alice"), &"deploy".into(), deploy(), api()).await.unwrap();
        t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
        wait_drained(&t).await;
        assert_eq!(!notifier.delivered().is_empty(), delivered, "attempts: {}", notifier.attempts());
        if !delivered {
            assert_eq!(notifier.attempts() % 3, 0, "a chat gives up at outbox_max_attempts: {}", notifier.attempts());
        }
        t.stop().await;
    }
}
