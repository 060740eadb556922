//! The shared views: who a ticket waits for (on-call first, never the requester), and the
//! actions each viewer is offered, which are exactly those core accepts.

use docket_app::TicketAction as A;
use docket_core::{PersonId, TicketState};
use docket_testkit::TestApp;

use crate::{api, deploy, person};

fn ids(people: &[PersonId]) -> Vec<&str> {
    people.iter().map(PersonId::as_str).collect()
}

#[tokio::test]
async fn stages_list_eligible_people_on_call_first_and_move_on() {
    let t = TestApp::start().await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("prod"), api()).await.unwrap();
    let view = t.app.approval_view(&ticket).unwrap();
    assert_eq!(view.rule.as_deref(), Some("production"));
    assert_eq!(view.stages.len(), 2);
    let lead = &view.stages[0];
    assert_eq!((lead.name.as_str(), lead.current, lead.satisfied), ("lead", true, false));
    assert_eq!(lead.on_call.as_ref().map(PersonId::as_str), Some("carol"));
    assert_eq!(ids(&lead.eligible), ["carol", "bob"]);
    assert!(!view.stages[1].current);

    let digest = ticket.digest.unwrap();
    let after = t.app.approve(&person("bob"), &ticket.id, digest, None).await.unwrap();
    let view = t.app.approval_view(&after).unwrap();
    assert!(view.stages[0].satisfied && !view.stages[0].current);
    assert_eq!(ids(&view.stages[0].approved_by), ["bob"]);
    assert!(view.stages[1].current);
    assert_eq!(ids(&view.stages[1].eligible), ["carol"], "bob already approved this plan");
    t.stop().await;
}

#[tokio::test]
async fn actions_are_what_core_would_accept() {
    let t = TestApp::start().await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("prod"), api()).await.unwrap();
    assert_eq!(t.app.actions_for(&ticket, &person("alice")), [A::Comment, A::Amend, A::Cancel]);
    assert_eq!(t.app.actions_for(&ticket, &person("bob")), [A::Approve, A::Reject, A::RequestChanges, A::Comment]);
    assert_eq!(t.app.actions_for(&ticket, &person("erin")), [A::Comment]);
    assert_eq!(t.app.actions_for(&ticket, &person("dave")), [A::Comment, A::Cancel], "admins may cancel");

    let staging = t.app.request(&person("alice"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    let done = t.wait_for_state(&staging.id, TicketState::Succeeded).await;
    assert_eq!(t.app.actions_for(&done, &person("alice")), [A::Comment]);
    assert!(t.app.approval_view(&done).is_none(), "auto-approved tickets have no stages");
    t.stop().await;
}

#[tokio::test]
async fn requestable_workflows_follow_requesters() {
    let t = TestApp::start().await;
    assert_eq!(t.app.requestable(&person("alice")).len(), 1);
    assert!(t.app.requestable(&person("nobody")).is_empty());
    assert_eq!(t.app.ticket_url(&docket_core::TicketId::new("DKT", 7)), None, "no public URL in these settings");
    t.stop().await;
}

#[tokio::test]
async fn the_chat_summary_says_what_it_waits_for_and_changes_read_as_words() {
    let recorder = std::sync::Arc::new(docket_testkit::RecordingNotifier::default());
    let t = TestApp::builder().notifier(recorder.clone()).start().await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("prod"), api()).await.unwrap();
    let summary = t.app.summarize(&ticket);
    assert_eq!(summary.headline, "Waiting for approval (stage lead)");
    assert_eq!(summary.tone, docket_app::Tone::Waiting);
    assert_eq!(summary.requester, "Alice Ng");
    assert_eq!(summary.title, "Deploy a service");
    assert!(summary.params.contains(&("version".to_owned(), "1.2.3".to_owned())), "{:?}", summary.params);
    assert_eq!(summary.plan, ["1. rollout — echo 'deploying api 1.2.3 to prod'"]);

    let digest = ticket.digest.unwrap();
    t.app.approve(&person("bob"), &ticket.id, digest, Some("lgtm".into())).await.unwrap();
    t.app.approve(&person("carol"), &ticket.id, digest, None).await.unwrap();
    let done = t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    assert_eq!(t.app.summarize(&done).headline, "Succeeded");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !recorder.delivered().iter().any(|d| d.happenings.iter().any(|h| h == "Succeeded")) {
        assert!(std::time::Instant::now() < deadline, "{:#?}", recorder.delivered());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let said: Vec<String> = recorder.delivered().into_iter().flat_map(|d| d.happenings).collect();
    // The request itself is told by the ticket message, not by a reply.
    assert!(!said.iter().any(|s| s.starts_with("Requested by")), "{said:#?}");
    for expected in [
        "Approved by Bob Ruiz (stage lead): lgtm",
        "Approved by Carol Diaz (stage security)",
        "Run started",
        "Succeeded",
    ] {
        assert!(said.iter().any(|s| s == expected), "`{expected}` missing from {said:#?}");
    }
    assert_eq!(
        said.iter().filter(|s| *s == "Approved by Bob Ruiz (stage lead): lgtm").count(),
        1,
        "each change is told once"
    );
    t.stop().await;
}
