//! Approvers whom the directory gives no Slack id are found by email (`users.lookupByEmail`),
//! once, and asked by DM like everyone else; someone Slack does not know either gets only the
//! channel copy, and nothing fails.

use std::time::{Duration, Instant};

use docket_core::Actor;

use crate::support::Harness;

#[tokio::test]
async fn an_approver_without_a_slack_id_is_found_by_email() {
    let yaml = docket_testkit::fixture::DOCKET_YAML.replace("slack: U0CAROL, ", "").replace("slack: U0BOB, ", "");
    assert!(!yaml.contains("U0CAROL") && !yaml.contains("U0BOB"));
    let h = Harness::start_with(|b| b.config(&yaml)).await;
    h.fake.user("U0CAROL", "carol@example.com");
    let ticket = h.prod_deploy_waiting().await;

    let dm = h.fake.wait_for_message("Carol's DM", |m| m.channel == "D0CAROL").await;
    assert!(dm.text.contains("asks for approval of DKT-1"), "{}", dm.text);
    h.fake.wait_for_message("the channel copy", |m| m.channel == "C0APPROVALS").await;

    // A change later (another stage): Carol is not looked up again, Bob never is found.
    let digest = h.t.app.ticket(&ticket.id).await.unwrap().digest.unwrap();
    h.t.app.approve(&Actor::person("carol"), &ticket.id, digest, None).await.unwrap();
    // The next stage's delivery edits the copies (Carol's DM last) and then asks its approvers.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !h.fake.calls_to("chat.update").iter().any(|c| c.body["channel"] == "D0CAROL") {
        assert!(Instant::now() < deadline, "the next stage was never delivered: {:?}", h.fake.calls());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Time for the look-ups that follow, had they not been cached.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lookups: Vec<String> = h
        .fake
        .calls_to("users.lookupByEmail")
        .iter()
        .map(|c| c.body["email"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(lookups.iter().filter(|e| *e == "carol@example.com").count(), 1, "cached: {lookups:?}");
    assert_eq!(lookups.iter().filter(|e| *e == "bob@example.com").count(), 1, "\"nobody\" is cached too: {lookups:?}");
    assert!(h.fake.messages().iter().all(|m| m.channel != "D0BOB"));
    h.t.stop().await;
}
