//! A delivery that may already have posted (a replica died holding the claim, or an attempt got
//! no answer) looks for its message by the key it is tagged with before posting, and edits what
//! it finds: after a crash the worst case is an edit, never a second message.

use docket_app::{NewOutboxMessage, Notifier, OutboxMessage};
use docket_core::ticket::Origin;
use docket_core::{Actor, RawParams, Ticket, TicketState};
use docket_slack::{SlackClient, SlackNotifier, TAG_EVENT};
use docket_testkit::TestApp;
use docket_testkit::slack::FakeSlack;
use serde_json::{Value, json};

use crate::support::settings;

/// An app without the Slack notifier (nothing posts on its own), a ticket asked in `C0OPS`
/// waiting for approval, and a Slack notifier to call directly.
async fn setup() -> (TestApp, FakeSlack, SlackNotifier, SlackClient, Ticket) {
    let fake = FakeSlack::start().await;
    let settings = settings(&fake);
    let client = SlackClient::new(&settings).unwrap();
    let notifier = SlackNotifier::new(settings, client.clone());
    let t = TestApp::builder().start().await;
    let params: RawParams = [("service", "api"), ("version", "1.2.3"), ("env", "prod")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    let origin = Origin { surface: "slack".to_owned(), channel: Some("C0OPS".to_owned()), ..Origin::default() };
    let ticket = t.app.request(&Actor::person("alice"), &"deploy".into(), params, origin).await.unwrap();
    let ticket = t.wait_for_state(&ticket.id, TicketState::AwaitingApproval).await;
    (t, fake, notifier, client, ticket)
}

fn message(ticket: &Ticket, key: &str, attempts: u32, claims: u32) -> OutboxMessage {
    OutboxMessage {
        id: 1,
        message: NewOutboxMessage {
            notifier: "slack".to_owned(),
            ticket: ticket.id.clone(),
            key: key.to_owned(),
            payload: json!({ "version": 1 }),
        },
        attempts,
        claims,
        created_at: jiff::Timestamp::now(),
    }
}

#[tokio::test]
async fn a_taken_over_delivery_edits_the_message_its_first_claimant_posted() {
    let (t, fake, n, client, ticket) = setup().await;
    // The first claimant posted the ticket message and died before keeping where it went.
    let key = format!("copy:{}:thread", ticket.id);
    let (_, ts) = client.post_tagged("C0OPS", None, "an earlier copy", &json!([]), &key).await.unwrap();
    let noise = client.post_tagged("C0OPS", None, "another ticket", &json!([]), "copy:DKT-99:thread").await.unwrap();

    n.deliver(&t.app, &message(&ticket, "ticket", 0, 2), &ticket).await.unwrap();

    let messages = fake.messages();
    let ours: Vec<_> = messages.iter().filter(|m| m.ts != noise.1).collect();
    assert_eq!(ours.len(), 1, "found and edited, not posted again: {messages:#?}");
    assert_eq!(ours[0].ts, ts);
    assert_eq!(ours[0].edits, 1);
    assert!(ours[0].text.contains(&ticket.id.to_string()), "{}", ours[0].text);
    let lookups: Vec<_> = fake.calls().into_iter().filter(|c| c.method == "conversations.history").collect();
    assert_eq!(lookups.len(), 1);
    assert_eq!(lookups[0].body["include_all_metadata"], "true");
    assert_eq!(lookups[0].body["channel"], "C0OPS");

    // Kept where it is: the next change edits it without looking again.
    n.deliver(&t.app, &message(&ticket, "ticket", 0, 2), &ticket).await.unwrap();
    assert_eq!(fake.calls().iter().filter(|c| c.method == "conversations.history").count(), 1);
    t.stop().await;
}

#[tokio::test]
async fn a_first_delivery_posts_at_once_and_tags_what_it_posts() {
    let (t, fake, n, _, ticket) = setup().await;
    n.deliver(&t.app, &message(&ticket, "ticket", 0, 1), &ticket).await.unwrap();

    assert!(fake.calls().iter().all(|c| !c.method.starts_with("conversations.history")), "no lookup needed");
    let posted = fake.wait_for_message("the ticket message", |m| m.channel == "C0OPS").await;
    let metadata = posted.metadata.expect("tagged");
    assert_eq!(metadata["event_type"], TAG_EVENT);
    assert_eq!(metadata["event_payload"]["key"], format!("copy:{}:thread", ticket.id));
    t.stop().await;
}

#[tokio::test]
async fn a_retried_reply_finds_its_copy_in_the_thread_and_nothing_else() {
    let (t, fake, n, client, ticket) = setup().await;
    n.deliver(&t.app, &message(&ticket, "ticket", 0, 1), &ticket).await.unwrap();
    let thread = fake.wait_for_message("the ticket message", |m| m.channel == "C0OPS").await;
    let approved = t.app.approve(&Actor::person("carol"), &ticket.id, ticket.digest.unwrap(), None).await.unwrap();
    let version = t.app.history(&ticket.id).await.unwrap().len() as u64;
    let reply_key = format!("copy:{}:reply:{version}", ticket.id);
    // An attempt that got no answer had in fact posted the reply.
    client.post_tagged("C0OPS", Some(&thread.ts), "an earlier reply", &json!([]), &reply_key).await.unwrap();

    let mut retried = message(&approved, "reply", 1, 1);
    retried.message.payload = json!({ "version": version, "events": 1 });
    n.deliver(&t.app, &retried, &approved).await.unwrap();

    let replies: Vec<_> = fake.messages().into_iter().filter(|m| m.thread_ts.as_deref() == Some(&thread.ts)).collect();
    assert_eq!(replies.len(), 1, "{replies:#?}");
    assert_eq!(replies[0].edits, 1);
    let shown = format!("{}{}", replies[0].text, replies[0].blocks);
    assert!(shown.contains("Carol") && !shown.contains("an earlier reply"), "edited to the reply: {shown}");
    let lookup = fake.calls().into_iter().find(|c| c.method == "conversations.replies").expect("looked in the thread");
    assert_eq!(lookup.body["ts"], json!(thread.ts));
    t.stop().await;
}

#[tokio::test]
async fn a_channel_that_cannot_be_read_is_posted_to_with_a_warning() {
    let (t, fake, n, _, ticket) = setup().await;
    fake.fail("conversations.history", "not_in_channel");
    n.deliver(&t.app, &message(&ticket, "ticket", 3, 1), &ticket).await.unwrap();
    assert_eq!(fake.messages().iter().filter(|m| m.channel == "C0OPS").count(), 1);
    t.stop().await;
}
