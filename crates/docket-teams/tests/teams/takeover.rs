//! A delivery that may already have posted (a replica died holding the claim before keeping the
//! activity id) looks for its message through Graph before posting, and edits what it finds:
//! after a crash the worst case is an edit, never a second message. Without the app's consent
//! to read the conversation it posts, and says so.

use std::sync::Arc;

use docket_app::{NewOutboxMessage, Notifier, OutboxMessage};
use docket_core::ticket::Origin;
use docket_core::{Actor, RawParams, Ticket, TicketState};
use docket_teams::activity::{card_message, text_message};
use docket_teams::cards::ticket::happenings_text;
use docket_teams::conversations::{ConversationRef, Conversations};
use docket_teams::{Connector, Teams, TeamsNotifier};
use docket_testkit::teams::{FakeBotFramework, Recorded, TENANT};
use docket_testkit::{CapturedLogs, TestApp};
use serde_json::{Value, json};

use crate::support::{settings, texts};

/// The channel the ticket was asked in, and its team's Graph id.
const OPS: &str = "19:ops@thread.tacv2";
const GROUP: &str = "0f0e0d0c-team-group";

struct Setup {
    t: TestApp,
    fake: FakeBotFramework,
    notifier: Arc<TeamsNotifier>,
    connector: Arc<Connector>,
    ticket: Ticket,
}

/// An app without the Teams notifier (nothing posts on its own), a ticket asked in channel
/// [`OPS`] waiting for approval, and a Teams notifier to call directly.
async fn setup() -> Setup {
    let fake = FakeBotFramework::start().await;
    let settings = settings(&fake);
    let connector = Connector::new(&settings, reqwest::Client::new());
    let notifier = Teams::new(settings).unwrap().notifier();
    let t = TestApp::builder().start().await;
    let reference = ConversationRef {
        service_url: fake.service_url(),
        conversation_id: OPS.to_owned(),
        tenant_id: Some(TENANT.to_owned()),
        conversation_type: Some("channel".to_owned()),
        team_id: Some(GROUP.to_owned()),
        blocked: false,
    };
    Conversations::new(t.app.clone()).put_conversation(&reference).await.unwrap();
    let params: RawParams = [("service", "api"), ("version", "1.2.3"), ("env", "prod")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    let origin = Origin { surface: "teams".to_owned(), channel: Some(OPS.to_owned()), ..Origin::default() };
    let ticket = t.app.request(&Actor::person("alice"), &"deploy".into(), params, origin).await.unwrap();
    let ticket = t.wait_for_state(&ticket.id, TicketState::AwaitingApproval).await;
    Setup { t, fake, notifier, connector, ticket }
}

fn message(ticket: &Ticket, key: &str, claims: u32) -> OutboxMessage {
    OutboxMessage {
        id: 1,
        message: NewOutboxMessage {
            notifier: "teams".to_owned(),
            ticket: ticket.id.clone(),
            key: key.to_owned(),
            payload: json!({ "version": 1 }),
        },
        attempts: 0,
        claims,
        created_at: jiff::Timestamp::now(),
    }
}

/// A card tagged the way Docket tags the card it keeps under `key`.
fn tagged(key: &str, text: &str) -> Value {
    let card = json!({ "type": "AdaptiveCard", "version": "1.5",
        "body": [{ "type": "TextBlock", "id": format!("docket:{key}"), "text": text }] });
    card_message(card, text)
}

fn posts_to(recorded: &[Recorded], conversation: &str) -> usize {
    recorded.iter().filter(|r| matches!(r.kind, "send" | "reply") && r.conversation == conversation).count()
}

#[tokio::test]
async fn a_taken_over_card_is_found_through_graph_and_edited() {
    let s = setup().await;
    let service = s.fake.service_url();
    // The first claimant posted the card and died before keeping its activity id.
    let key = format!("card:{}", s.ticket.id);
    let earlier = s.connector.send(&service, OPS, &tagged(&key, "an earlier copy")).await.unwrap();
    s.connector.send(&service, OPS, &tagged("card:DKT-99", "another ticket")).await.unwrap();

    s.notifier.deliver(&s.t.app, &message(&s.ticket, "ticket", 2), &s.ticket).await.unwrap();

    let recorded = s.fake.recorded();
    assert_eq!(posts_to(&recorded, OPS), 2, "found and edited, not posted again: {recorded:#?}");
    let edit = recorded.iter().find(|r| r.kind == "update").expect("an edit");
    assert_eq!(edit.activity_id, earlier);
    let card = edit.card().unwrap();
    assert!(card.to_string().contains(&s.ticket.id.to_string()), "{card:#}");
    assert_eq!(card["body"][0]["id"], format!("docket:{key}"), "the card Docket posts is tagged");
    docket_teams::cards::check::check(card).unwrap();
    assert_eq!(s.fake.graph_requests(), [format!("/graph/v1.0/teams/{GROUP}/channels/{OPS}/messages")]);

    // Kept where it is: the next change edits it without looking again.
    s.notifier.deliver(&s.t.app, &message(&s.ticket, "ticket", 2), &s.ticket).await.unwrap();
    assert_eq!(s.fake.graph_requests().len(), 1);
    assert_eq!(posts_to(&s.fake.recorded(), OPS), 2);
    s.t.stop().await;
}

#[tokio::test]
async fn a_taken_over_reply_is_found_in_the_thread_by_its_text_and_edited() {
    let s = setup().await;
    s.notifier.deliver(&s.t.app, &message(&s.ticket, "ticket", 1), &s.ticket).await.unwrap();
    let card = s.fake.recorded().into_iter().find(|r| r.kind == "send").expect("the ticket card");
    let digest = s.ticket.digest.unwrap();
    let approved = s.t.app.approve(&Actor::person("carol"), &s.ticket.id, digest, None).await.unwrap();
    let version = s.t.app.history(&s.ticket.id).await.unwrap().len() as u64;
    let mut reply = message(&approved, "reply", 3);
    reply.message.payload = json!({ "version": version, "events": 1 });
    // The first claimant posted the reply and died before keeping it.
    let happenings = s.t.app.happenings(&reply, &approved).await.unwrap();
    let text = happenings_text(&approved.id.to_string(), &happenings);
    assert!(text.contains("Carol"), "{text}");
    let service = s.fake.service_url();
    let earlier = s.connector.reply(&service, OPS, &card.activity_id, &text_message(&text)).await.unwrap();
    s.connector.reply(&service, OPS, &card.activity_id, &text_message("something else")).await.unwrap();

    s.notifier.deliver(&s.t.app, &reply, &approved).await.unwrap();

    let recorded = s.fake.recorded();
    let replies: Vec<_> = recorded.iter().filter(|r| r.kind == "reply").collect();
    assert_eq!(replies.len(), 2, "edited, not posted again: {recorded:#?}");
    let edit = recorded.iter().find(|r| r.kind == "update").expect("an edit");
    assert_eq!(edit.activity_id, earlier);
    let thread = format!("/graph/v1.0/teams/{GROUP}/channels/{OPS}/messages/{}/replies", card.activity_id);
    assert_eq!(s.fake.graph_requests(), [thread]);

    // Kept: delivered again, nothing is looked up or posted.
    s.notifier.deliver(&s.t.app, &reply, &approved).await.unwrap();
    assert_eq!(s.fake.graph_requests().len(), 1);
    assert_eq!(s.fake.recorded().len(), recorded.len());
    s.t.stop().await;
}

#[tokio::test]
async fn a_taken_over_approval_card_in_the_approvals_channel_is_edited() {
    let s = setup().await;
    let channel = crate::support::APPROVALS;
    let reference = ConversationRef {
        service_url: s.fake.service_url(),
        conversation_id: channel.to_owned(),
        tenant_id: Some(TENANT.to_owned()),
        conversation_type: Some("channel".to_owned()),
        team_id: Some(GROUP.to_owned()),
        blocked: false,
    };
    Conversations::new(s.t.app.clone()).put_conversation(&reference).await.unwrap();
    let key = format!("approval:{}:1:lead:{channel}", s.ticket.id);
    let earlier = s.connector.send(&s.fake.service_url(), channel, &tagged(&key, "an earlier copy")).await.unwrap();

    s.notifier.deliver(&s.t.app, &message(&s.ticket, "approvals:1:lead", 2), &s.ticket).await.unwrap();

    let recorded = s.fake.recorded();
    assert_eq!(posts_to(&recorded, channel), 1, "edited, not posted again: {recorded:#?}");
    let edit = recorded.iter().find(|r| r.kind == "update").expect("an edit");
    assert_eq!(edit.activity_id, earlier);
    assert!(texts(edit.card().unwrap()).contains("Approval"), "{:#}", edit.body);
    assert_eq!(s.fake.graph_requests(), [format!("/graph/v1.0/teams/{GROUP}/channels/{channel}/messages")]);
    s.t.stop().await;
}

#[tokio::test]
async fn without_consent_to_read_the_channel_it_posts_again_with_a_warning() {
    let s = setup().await;
    let (logs, _guard) = CapturedLogs::start();
    s.fake.refuse_graph(403);
    let key = format!("card:{}", s.ticket.id);
    s.connector.send(&s.fake.service_url(), OPS, &tagged(&key, "an earlier copy")).await.unwrap();

    s.notifier.deliver(&s.t.app, &message(&s.ticket, "ticket", 2), &s.ticket).await.unwrap();

    let recorded = s.fake.recorded();
    assert_eq!(posts_to(&recorded, OPS), 2, "posted once more: {recorded:#?}");
    assert!(recorded.iter().all(|r| r.kind != "update"));
    assert_eq!(s.fake.graph_requests().len(), 1);
    let warned = logs.lines_containing("cannot look for an earlier copy through Graph");
    assert_eq!(warned.len(), 1, "{}", logs.text());
    assert!(warned[0].contains("403"), "{}", warned[0]);
    s.t.stop().await;
}

#[tokio::test]
async fn a_first_delivery_posts_without_asking_graph() {
    let s = setup().await;
    s.notifier.deliver(&s.t.app, &message(&s.ticket, "ticket", 1), &s.ticket).await.unwrap();
    let recorded = s.fake.recorded();
    assert_eq!(posts_to(&recorded, OPS), 1);
    assert!(s.fake.graph_requests().is_empty(), "no look-up for a fresh message");
    s.t.stop().await;
}
