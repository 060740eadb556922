//! Carrying what another surface could not deliver (a person blocked the bot in Teams): the
//! requester's ticket message and its key events by DM, an approver's request by DM, each with
//! a note saying why, once; `false` for someone Slack cannot reach.

use std::time::Duration;

use docket_app::{App, NewOutboxMessage, Notifier, OutboxMessage, Relay, RelayKind};
use docket_core::ticket::Origin;
use docket_core::{Actor, PersonId, RawParams, Ticket, TicketState};
use docket_slack::{SlackClient, SlackNotifier};
use docket_testkit::TestApp;
use docket_testkit::slack::{FakeSlack, Message};
use serde_json::Value;

use crate::support::settings;

const NOTE: &str = "Docket could not reach you in Microsoft Teams";

/// An app without the Slack notifier (so nothing posts on its own), a ticket asked in a Teams
/// chat waiting for approval, and a Slack notifier to call directly.
async fn setup() -> (TestApp, FakeSlack, SlackNotifier, Ticket) {
    let fake = FakeSlack::start().await;
    let settings = settings(&fake);
    let notifier = SlackNotifier::new(settings.clone(), SlackClient::new(&settings).unwrap());
    let t = TestApp::builder().start().await;
    let params: RawParams = [("service", "api"), ("version", "1.2.3"), ("env", "prod")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    let origin = Origin { surface: "teams".to_owned(), channel: Some("a:chat-alice".to_owned()), ..Origin::default() };
    let ticket = t.app.request(&Actor::person("alice"), &"deploy".into(), params, origin).await.unwrap();
    let ticket = t.wait_for_state(&ticket.id, TicketState::AwaitingApproval).await;
    (t, fake, notifier, ticket)
}

fn message(ticket: &Ticket, version: u64) -> OutboxMessage {
    OutboxMessage {
        id: 1,
        message: NewOutboxMessage {
            notifier: "teams".to_owned(),
            ticket: ticket.id.clone(),
            key: "card".to_owned(),
            payload: serde_json::json!({ "version": version, "events": 1 }),
        },
        attempts: 0,
        claims: 1,
        created_at: jiff::Timestamp::now(),
    }
}

async fn relay(n: &SlackNotifier, app: &App, ticket: &Ticket, person: &str, kind: RelayKind) -> bool {
    let person = PersonId::from(person);
    let message = message(ticket, 1);
    n.relay(app, &Relay { from: "teams", person: &person, kind: &kind, message: &message }, ticket).await.unwrap()
}

fn text_of(message: &Message) -> String {
    format!("{}\n{}", message.text, message.blocks)
}

#[tokio::test]
async fn an_approver_gets_the_request_by_dm_once_with_the_reason() {
    let (t, fake, n, ticket) = setup().await;
    let lead = RelayKind::Approval { round: 1, stage: "lead".to_owned() };

    assert!(relay(&n, &t.app, &ticket, "bob", lead.clone()).await);
    assert!(relay(&n, &t.app, &ticket, "bob", lead.clone()).await, "a retried relay is done, not repeated");

    let messages = fake.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let dm = &messages[0];
    assert_eq!(dm.channel, "D0BOB");
    assert!(text_of(dm).contains(NOTE), "{}", text_of(dm));
    assert!(text_of(dm).contains("docket.approve"), "the buttons come along: {}", text_of(dm));

    // Someone Slack does not know, and a stage no longer asked: nothing is posted.
    assert!(!relay(&n, &t.app, &ticket, "dave", lead).await, "dave has no Slack id");
    let later = RelayKind::Approval { round: 1, stage: "security".to_owned() };
    assert!(relay(&n, &t.app, &ticket, "carol", later).await, "a stage not being asked needs nothing");
    assert_eq!(fake.messages().len(), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    t.stop().await;
}

#[tokio::test]
async fn the_requester_gets_the_ticket_by_dm_and_its_key_events_under_it() {
    let (t, fake, n, ticket) = setup().await;

    assert!(!relay(&n, &t.app, &ticket, "bob", RelayKind::Ticket).await, "only the requester's ticket view");
    assert!(relay(&n, &t.app, &ticket, "alice", RelayKind::Ticket).await);
    let dm = fake.wait_for_message("the ticket by DM", |m| m.channel == "D0ALICE").await;
    assert!(dm.thread_ts.is_none());
    assert!(text_of(&dm).contains(NOTE) && text_of(&dm).contains("DKT-1"), "{}", text_of(&dm));
    assert!(fake.calls().iter().all(|c| c.body["channel"] != "a:chat-alice"), "never the Teams conversation id");

    // Approved: the DM is edited, and the change's key events go in its thread.
    let digest = ticket.digest.unwrap();
    let approved = t.app.approve(&Actor::person("carol"), &ticket.id, digest, None).await.unwrap();
    let version = t.app.history(&ticket.id).await.unwrap().len() as u64;
    assert!(relay(&n, &t.app, &approved, "alice", RelayKind::Ticket).await);
    let happenings = message(&approved, version);
    let alice = PersonId::from("alice");
    let relayed = Relay { from: "teams", person: &alice, kind: &RelayKind::Happenings, message: &happenings };
    assert!(n.relay(&t.app, &relayed, &approved).await.unwrap());

    let messages = fake.messages();
    let top: Vec<_> = messages.iter().filter(|m| m.channel == "D0ALICE" && m.thread_ts.is_none()).collect();
    assert_eq!(top.len(), 1, "edited, not posted again: {messages:#?}");
    assert!(top[0].edits >= 1);
    let replies: Vec<_> = messages.iter().filter(|m| m.thread_ts.as_deref() == Some(dm.ts.as_str())).collect();
    assert_eq!(replies.len(), 1, "{messages:#?}");
    assert!(text_of(replies[0]).contains("Carol Diaz"), "{}", text_of(replies[0]));
    t.stop().await;
}
