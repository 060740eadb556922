//! A click is acknowledged at once and handled after (Slack wants its 200 within 3 s, and does
//! not send an acknowledged click again): a clean stop waits for that work (`App::settle`), so
//! an approval clicked just before a stop is not lost.

use std::time::Duration;

use docket_core::ticket::Origin;
use docket_core::{Actor, PersonId, RawParams, TicketState};
use serde_json::Value;

use crate::support::Harness;

#[tokio::test]
async fn a_stop_waits_for_a_click_acknowledged_before_it() {
    // Carol has no Slack id in the directory: her click is handled only once Slack has said who
    // she is (`users.info`), which the fake holds until the stop has begun.
    let yaml = docket_testkit::fixture::DOCKET_YAML.replace("slack: U0CAROL, ", "");
    let h = Harness::start_with(|b| b.config(&yaml)).await;
    h.fake.user("U0CAROL", "carol@example.com");
    let params: RawParams = [("service", "api"), ("version", "1.2.3"), ("env", "prod")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    let origin = Origin { surface: "slack".to_owned(), channel: Some("C0DEPLOYS".to_owned()), ..Origin::default() };
    let ticket = h.t.app.request(&Actor::person("alice"), &"deploy".into(), params, origin).await.unwrap();
    h.t.wait_for_state(&ticket.id, TicketState::AwaitingApproval).await;
    let copy = h.fake.wait_for_message("the channel copy", |m| m.channel == "C0APPROVALS").await;

    h.fake.hold("users.info");
    let (status, _) = h.click("U0CAROL", &copy, "docket.approve", "trigger-stop").await;
    assert_eq!(status, 200, "acknowledged before it is handled");
    let reviewed = |t: &docket_core::Ticket| t.reviews.iter().any(|r| r.person == PersonId::new("carol"));
    assert!(!reviewed(&h.t.app.ticket(&ticket.id).await.unwrap()), "not handled yet");

    // The stop: no request is served any more, and the click's work is waited for.
    let app = h.t.app.clone();
    let settling = tokio::spawn(async move { app.settle(Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!settling.is_finished(), "the stop waits while the click is being handled");
    h.fake.release("users.info");
    assert!(settling.await.unwrap(), "the click's work ended within the grace");
    assert!(reviewed(&h.t.app.ticket(&ticket.id).await.unwrap()), "the approval was recorded before the stop");
    h.t.stop().await;
}
