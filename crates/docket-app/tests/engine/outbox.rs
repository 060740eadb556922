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
    wait_drained(&t).await;
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

/// Regression: attempts that failed and were to be retried left nothing in the log, so a
/// notification stuck behind a broken chat went unnoticed until it was given up.
#[tokio::test]
async fn each_failed_delivery_attempt_is_logged_with_its_error() {
    let (logs, _logging) = docket_testkit::CapturedLogs::start();
    let notifier = Arc::new(RecordingNotifier::failing_first(2));
    let t = TestApp::builder()
        .notifier(notifier.clone())
        .settings(|s| {
            s.outbox_backoff = Duration::from_millis(20);
            s.outbox_max_backoff = Duration::from_millis(50);
        })
        .start()
        .await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    wait_drained(&t).await;
    t.stop().await;
    let text = logs.text();
    let warnings = logs.lines_containing("could not be delivered");
    assert_eq!(warnings.len(), 2, "one warning per failed attempt:\n{text}");
    for warning in warnings {
        assert!(warning.contains("WARN") && warning.contains("ticket=DKT-1"), "{warning}");
        assert!(warning.contains("error=") && warning.contains("retry_in_ms="), "{warning}");
    }
}

/// Holds every delivery for DKT-1 until released; delivers the others at once.
struct HoldsFirstTicket {
    release: tokio::sync::Semaphore,
    delivered: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl docket_app::Notifier for HoldsFirstTicket {
    fn name(&self) -> &str {
        "holds"
    }

    fn wants(&self, _ticket: &docket_core::Ticket, _events: &[docket_core::Event]) -> Vec<String> {
        vec!["status".to_owned()]
    }

    async fn deliver(
        &self,
        _app: &docket_app::App,
        message: &docket_app::OutboxMessage,
        ticket: &docket_core::Ticket,
    ) -> Result<(), docket_app::NotifyError> {
        if ticket.id.to_string() == "DKT-1" {
            drop(self.release.acquire().await);
        }
        self.delivered.lock().unwrap().push(format!("{}#{}", ticket.id, message.id));
        Ok(())
    }
}

#[tokio::test]
async fn a_slow_ticket_does_not_hold_up_the_others() {
    let notifier =
        Arc::new(HoldsFirstTicket { release: tokio::sync::Semaphore::new(0), delivered: Default::default() });
    let t = TestApp::builder().notifier(notifier.clone()).start().await;
    let first = t.app.request(&person("alice"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    let second = t.app.request(&person("alice"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    t.wait_for_state(&second.id, TicketState::Succeeded).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let delivered = notifier.delivered.lock().unwrap().clone();
        if delivered.iter().filter(|d| d.starts_with("DKT-2#")).count() >= 2 {
            assert!(delivered.iter().all(|d| !d.starts_with("DKT-1#")), "DKT-1 is still held: {delivered:?}");
            break;
        }
        assert!(Instant::now() < deadline, "DKT-2 waited behind DKT-1: {delivered:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Released, DKT-1's messages follow, in order.
    notifier.release.add_permits(1_000);
    t.wait_for_state(&first.id, TicketState::Succeeded).await;
    wait_drained(&t).await;
    let delivered = notifier.delivered.lock().unwrap().clone();
    let ids: Vec<u64> =
        delivered.iter().filter_map(|d| d.strip_prefix("DKT-1#")).map(|id| id.parse().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert!(ids.len() >= 2);
    assert_eq!(ids, sorted, "DKT-1 delivered out of order");
    t.stop().await;
}

/// Waits until every notification was delivered (or given up).
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
