//! The connector client against the fake: one token for many calls, retries of 429, 412, 502
//! and 504 with backoff, giving up in time, MessageWritesBlocked as its own error, pacing per
//! conversation — and a blocked chat and channel thread seen from the notifier.

use std::time::{Duration, Instant};

use docket_teams::{ClientError, Connector, Pacing, RetryPolicy};
use docket_testkit::teams::FakeBotFramework;
use serde_json::json;

use crate::support::*;

async fn connector(
    fake: &FakeBotFramework,
    change: impl FnOnce(&mut docket_teams::TeamsSettings),
) -> std::sync::Arc<Connector> {
    let mut s = settings(fake);
    change(&mut s);
    Connector::new(&s, reqwest::Client::new())
}

#[tokio::test]
async fn retries_what_teams_asks_to_retry_and_caches_the_token() {
    let fake = FakeBotFramework::start().await;
    let c = connector(&fake, |_| {}).await;
    let hello = json!({ "type": "message", "text": "hello" });
    fake.script(&[429, 412, 502, 504]);
    let id = c.send(&fake.service_url(), "a:chat", &hello).await.unwrap();
    assert_eq!(fake.failed_answers(), 4);
    let recorded = fake.recorded();
    assert_eq!((recorded.len(), recorded[0].activity_id.as_str()), (1, id.as_str()));
    c.update(&fake.service_url(), "a:chat", &id, &json!({ "type": "message", "text": "edited" })).await.unwrap();
    c.reply(&fake.service_url(), "a:chat", &id, &hello).await.unwrap();
    assert_eq!(fake.token_requests(), 1, "one token for every call");
    let updated = &fake.recorded()[1];
    assert_eq!((updated.kind, updated.body["id"].as_str()), ("update", Some(id.as_str())));

    // A refusal that is not worth retrying is not retried.
    let missing = c.update(&fake.service_url(), "a:chat", "no-such-activity", &hello).await.unwrap_err();
    assert!(matches!(missing, ClientError::Refused { status: 404, .. }), "{missing}");
    assert!(!missing.is_transient());
}

#[tokio::test]
async fn gives_up_after_the_configured_attempts() {
    let fake = FakeBotFramework::start().await;
    let c = connector(&fake, |s| {
        s.retry = RetryPolicy { attempts: 3, base: Duration::from_millis(5), max: Duration::from_millis(20) }
    })
    .await;
    fake.script(&[502, 502, 502, 502]);
    let error = c.send(&fake.service_url(), "a:chat", &json!({ "type": "message" })).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert_eq!(fake.failed_answers(), 3);
    assert!(fake.recorded().is_empty());
}

#[tokio::test]
async fn blocked_writes_and_bad_credentials_are_their_own_errors() {
    let fake = FakeBotFramework::start().await;
    let c = connector(&fake, |_| {}).await;
    fake.block("a:chat-blocked");
    let error = c.send(&fake.service_url(), "a:chat-blocked", &json!({ "type": "message" })).await.unwrap_err();
    assert!(matches!(error, ClientError::Blocked));
    fake.block("29:gone");
    let error = c.create_conversation(&fake.service_url(), "29:gone", Some("tenant-1")).await.unwrap_err();
    assert!(matches!(error, ClientError::Blocked));

    let c = connector(&fake, |s| s.app_password = "wrong".into()).await;
    let error = c.send(&fake.service_url(), "a:chat", &json!({ "type": "message" })).await.unwrap_err();
    assert!(matches!(error, ClientError::Token(_)), "{error}");
    assert!(!error.to_string().contains("wrong"), "the secret is never in an error");
}

#[tokio::test]
async fn writes_to_one_conversation_are_paced() {
    let fake = FakeBotFramework::start().await;
    let c = connector(&fake, |s| s.pacing = Pacing { burst: 2, interval: Duration::from_millis(400) }).await;
    let m = json!({ "type": "message" });
    c.send(&fake.service_url(), "warm-up", &m).await.unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        c.send(&fake.service_url(), "a:busy", &m).await.unwrap();
    }
    let busy = started.elapsed();
    assert!(busy >= Duration::from_millis(390), "two in a burst, then one per 400 ms: {busy:?}");
    // The busy conversation's next turn is 400 ms away: a send held up behind it would take
    // that long, one loopback round trip far less, even on a slow machine.
    let started = Instant::now();
    c.send(&fake.service_url(), "a:quiet", &m).await.unwrap();
    let quiet = started.elapsed();
    assert!(quiet < Duration::from_millis(300), "another conversation is not held up: {quiet:?}");
}

#[tokio::test]
async fn writes_of_the_whole_bot_are_paced_too() {
    let fake = FakeBotFramework::start().await;
    let c = connector(&fake, |s| {
        s.pacing = Pacing { burst: 7, interval: Duration::from_millis(1) };
        s.app_pacing = Pacing { burst: 2, interval: Duration::from_millis(100) };
    })
    .await;
    let m = json!({ "type": "message" });
    let started = Instant::now();
    for n in 0..4 {
        c.send(&fake.service_url(), &format!("a:chat-{n}"), &m).await.unwrap();
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(190), "two at once, then one per 100 ms, across conversations: {took:?}");
    assert_eq!(fake.recorded().len(), 4);
}

#[tokio::test]
async fn a_chat_that_blocks_the_bot_is_marked_and_the_card_is_given_up() {
    let h = Harness::start().await;
    h.install(&["alice", "bob", "carol"]).await;
    h.post(&message(&h.fake, "alice", "deploy api 1.2.3 to staging")).await;
    let form = h.wait_call("the form", |r| r.conversation == chat("alice") && r.card().is_some()).await;
    h.fake.block(&chat("alice"));
    let data =
        json!({ "workflow": "deploy", "param.service": "api", "param.version": "1.2.3", "param.env": "staging" });
    let (_, answer) =
        h.post(&invoke(&h.fake, "alice", &chat("alice"), &form.activity_id, "submit_request", data)).await;
    assert!(texts(answered_card(&answer)).contains("DKT-1"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let kept = h.t.app.recall("teams", &format!("conv:{}", chat("alice"))).await.unwrap().unwrap();
        if serde_json::from_str::<serde_json::Value>(&kept).unwrap()["blocked"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "the chat was never marked blocked");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let updates = h.fake.recorded().into_iter().filter(|r| r.kind == "update").count();
    assert_eq!(updates, 0, "nothing reached the blocked chat");
    // With no other surface, the block is audited once and the message is given up.
    let record = wait_audit(&h, "teams.bot_blocked").await;
    assert_eq!(record.entry.actor, "alice");
    assert_eq!(record.entry.ticket.as_deref(), Some("DKT-1"));
    assert_eq!(record.entry.details["conversation"], chat("alice"));
    assert_eq!(record.entry.details["reached_on"], serde_json::Value::Null);
    h.t.stop().await;
}

#[tokio::test]
async fn an_approver_who_blocked_the_bot_is_audited_once_and_the_others_are_asked() {
    let h = Harness::start().await;
    h.install(&["alice", "bob", "carol"]).await;
    h.fake.block(&chat("bob"));
    let data = json!({ "workflow": "deploy", "param.service": "api", "param.version": "1.2.3", "param.env": "prod" });
    h.post(&invoke(&h.fake, "alice", &chat("alice"), "form", "submit_request", data)).await;
    h.wait_call("carol's approval card", |r| r.conversation == chat("carol") && r.card().is_some()).await;
    h.wait_call("the channel's approval card", |r| r.conversation == APPROVALS && r.card().is_some()).await;
    let record = wait_audit(&h, "teams.bot_blocked").await;
    assert_eq!((record.entry.actor.as_str(), record.entry.ticket.as_deref()), ("bob", Some("DKT-1")));
    assert_eq!(record.entry.details["reached_on"], serde_json::Value::Null);
    let kept = h.t.app.recall("teams", "person:bob").await.unwrap().unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&kept).unwrap()["blocked"], true);

    // Carol approves stage one; the next change skips bob without another record.
    let ticket = h.t.app.ticket(&docket_core::TicketId::parse("DKT-1").unwrap()).await.unwrap();
    let digest = ticket.digest.unwrap();
    h.t.app.approve(&docket_core::Actor::person("carol"), &ticket.id, digest, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let records = h.t.app.audit_records(0, 10_000).await.unwrap();
    assert_eq!(records.iter().filter(|r| r.entry.action == "teams.bot_blocked").count(), 1, "audited once");
    assert!(h.fake.recorded().iter().all(|r| r.conversation != chat("bob")), "nothing reached bob's chat");
    h.t.stop().await;
}

async fn wait_audit(h: &Harness, action: &str) -> docket_core::audit::AuditRecord {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let records = h.t.app.audit_records(0, 10_000).await.unwrap();
        if let Some(record) = records.into_iter().find(|r| r.entry.action == action) {
            return record;
        }
        assert!(Instant::now() < deadline, "no `{action}` audit record");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
