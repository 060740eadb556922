//! A click is acknowledged at once and handled after (Slack wants its 200 within 3 s, and does
//! not send an acknowledged click again): a clean stop waits for that work (`App::settle`), so
//! an approval clicked just before a stop is not lost.

use docket_core::PersonId;

use crate::support::Harness;

#[tokio::test]
async fn a_stop_waits_for_a_click_acknowledged_before_it() {
    // Carol has no Slack id in the directory: her click is handled only once Slack has said who
    // she is (`users.info`), which the fake holds until the stop has begun.
    let yaml = docket_testkit::fixture::DOCKET_YAML.replace("slack: U0CAROL, ", "");
    let h = Harness::start_with(|b| b.config(&yaml)).await;
    h.fake.user("U0CAROL", "carol@example.com");
    let ticket = h.prod_deploy_waiting().await;
    let copy = h.fake.wait_for_message("the channel copy", |m| m.channel == "C0APPROVALS").await;

    h.fake.hold("users.info");
    let (status, _) = h.click("U0CAROL", &copy, "docket.approve", "trigger-stop").await;
    assert_eq!(status, 200, "acknowledged before it is handled");
    let reviewed = |t: &docket_core::Ticket| t.reviews.iter().any(|r| r.person == PersonId::new("carol"));
    assert!(!reviewed(&h.t.app.ticket(&ticket.id).await.unwrap()), "not handled yet");

    // The stop: no request is served any more, and the click's work is waited for.
    h.stop_while_held("users.info").await;
    assert!(reviewed(&h.t.app.ticket(&ticket.id).await.unwrap()), "the approval was recorded before the stop");
    h.t.stop().await;
}
