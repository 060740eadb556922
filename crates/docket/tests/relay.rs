//! One person, two chats: when someone has blocked Docket's bot in Microsoft Teams, what Teams
//! cannot deliver reaches them in Slack instead — the requester's ticket message (edited as the
//! ticket moves, with a note saying why it came there) with its key events in the thread, and
//! an approver's request, once — and each block is one audit record naming where the message
//! went.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use docket_core::{Actor, TicketId, TicketState};
use docket_slack::{SlackClient, SlackNotifier, SlackSettings};
use docket_teams::{Pacing, RetryPolicy, Teams, TeamsSettings};
use docket_testkit::TestApp;
use docket_testkit::slack::{BOT_TOKEN, FakeSlack, Message};
use docket_testkit::teams::{APP_ID, APP_PASSWORD, FakeBotFramework, TENANT};
use serde_json::{Value, json};

const APPROVALS: &str = "19:approvals@thread.tacv2";
const NOTE: &str = "Docket could not reach you in Microsoft Teams";

struct Both {
    t: TestApp,
    teams: FakeBotFramework,
    slack: FakeSlack,
    url: String,
    http: reqwest::Client,
}

impl Both {
    /// The fixture app with the Teams notifier first and the Slack one second, each against
    /// its fake, and the Teams endpoint on loopback.
    async fn start() -> Self {
        let teams = FakeBotFramework::start().await;
        let slack = FakeSlack::start().await;
        let mut ts = TeamsSettings::new(APP_ID, APP_PASSWORD);
        ts.openid_metadata_url = teams.metadata_url();
        ts.token_url = teams.token_url();
        ts.tenant_id = Some(TENANT.to_owned());
        ts.retry = RetryPolicy { attempts: 3, base: Duration::from_millis(10), max: Duration::from_millis(50) };
        ts.pacing = Pacing { burst: 7, interval: Duration::from_millis(20) };
        let bot = Teams::new(ts).unwrap();
        let mut ss = SlackSettings::new("8f742231b10e8888abcd99yyyzzz85a5", BOT_TOKEN);
        ss.api_url = slack.url();
        ss.channel_interval = Duration::from_millis(20);
        let client = SlackClient::new(&ss).unwrap();
        let t = TestApp::builder()
            .notifier(bot.notifier())
            .notifier(Arc::new(SlackNotifier::new(ss, client)))
            .settings(|s| {
                s.public_url = Some("https://docket.example.com".to_owned());
                s.outbox_backoff = Duration::from_millis(20);
                s.outbox_max_backoff = Duration::from_millis(100);
            })
            .start()
            .await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/teams/messages", listener.local_addr().unwrap());
        let router = bot.router(t.app.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { t, teams, slack, url, http: reqwest::Client::new() }
    }

    async fn post(&self, activity: &Value) -> Value {
        let response = self.http.post(&self.url).bearer_auth(self.teams.token()).json(activity).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null)
    }

    fn activity(&self, kind: &str, from: &str, conversation: Value) -> Value {
        json!({
            "type": kind,
            "id": format!("act-{kind}-{from}-{}", conversation["id"].as_str().unwrap_or_default()),
            "timestamp": "2026-11-24T10:00:00.000Z",
            "serviceUrl": self.teams.service_url(),
            "channelId": "msteams",
            "from": account(from),
            "recipient": { "id": format!("28:{APP_ID}"), "name": "Docket" },
            "conversation": conversation,
            "channelData": { "tenant": { "id": TENANT } },
        })
    }

    /// The bot installed in each person's 1:1 chat and in the approvals channel.
    async fn install(&self, people: &[&str]) {
        for person in people {
            let mut a = self.activity("conversationUpdate", person, personal(person));
            a["membersAdded"] = json!([{ "id": format!("28:{APP_ID}") }, account(person)]);
            self.post(&a).await;
        }
        let channel = json!({ "id": APPROVALS, "conversationType": "channel", "tenantId": TENANT, "isGroup": true });
        let mut a = self.activity("conversationUpdate", "bob", channel);
        a["membersAdded"] = json!([{ "id": format!("28:{APP_ID}") }]);
        a["channelData"] =
            json!({ "tenant": { "id": TENANT }, "team": { "id": APPROVALS }, "channel": { "id": APPROVALS } });
        self.post(&a).await;
    }

    /// `person` submits the request form in their 1:1 chat.
    async fn submit(&self, person: &str, env: &str) -> Value {
        let mut a = self.activity("invoke", person, personal(person));
        a["name"] = json!("adaptiveCard/action");
        a["replyToId"] = json!("form-1");
        let data = json!({ "workflow": "deploy", "param.service": "api", "param.version": "1.2.3", "param.env": env });
        a["value"] = json!({ "action": { "type": "Action.Execute", "verb": "submit_request", "data": data }, "trigger": "manual" });
        self.post(&a).await
    }

    async fn audit_of(&self, actor: &str) -> docket_core::audit::AuditRecord {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let records = self.t.app.audit_records(0, 10_000).await.unwrap();
            let found = records.into_iter().find(|r| r.entry.action == "teams.bot_blocked" && r.entry.actor == actor);
            if let Some(record) = found {
                return record;
            }
            assert!(Instant::now() < deadline, "no block of {actor} was audited");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn account(person: &str) -> Value {
    json!({ "id": format!("29:{person}"), "name": person, "aadObjectId": format!("aad-{person}") })
}

fn chat(person: &str) -> String {
    format!("a:chat-{person}")
}

fn personal(person: &str) -> Value {
    json!({ "id": chat(person), "conversationType": "personal", "tenantId": TENANT })
}

fn text_of(message: &Message) -> String {
    let mut out = vec![message.text.clone()];
    collect(&message.blocks, &mut out);
    out.join("\n")
}

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn what_teams_cannot_deliver_reaches_the_person_in_slack() {
    let both = Both::start().await;
    both.install(&["alice", "bob", "carol"]).await;
    // Alice and Bob have blocked the bot in Teams; Carol has not.
    both.teams.block(&chat("alice"));
    both.teams.block(&chat("bob"));

    let answer = both.submit("alice", "prod").await;
    assert_eq!(answer["statusCode"], 200, "the invoke answer itself is not a message Teams can refuse");
    let id = TicketId::parse("DKT-1").unwrap();
    assert_eq!(both.t.app.ticket(&id).await.unwrap().state, TicketState::AwaitingApproval);

    // Alice's ticket message arrives as a Slack DM, saying why it is there.
    let dm = both
        .slack
        .wait_for_message("Alice's ticket by DM", |m| {
            m.channel == "D0ALICE" && m.thread_ts.is_none() && text_of(m).contains("DKT-1")
        })
        .await;
    assert!(text_of(&dm).contains(NOTE), "{}", text_of(&dm));
    assert!(text_of(&dm).contains("Waiting for approval"), "{}", text_of(&dm));

    // Bob's approval request arrives by DM (Slack asks every approver it knows, and the relay
    // of what Teams could not deliver finds that copy rather than posting a second one);
    // Carol's card goes to Teams as usual.
    let bob = both.slack.wait_for_message("Bob's approval request", |m| m.channel == "D0BOB").await;
    assert!(text_of(&bob).contains("asks for approval of DKT-1"), "{}", text_of(&bob));
    both.teams
        .wait_for("Carol's approval card", |r| r.iter().any(|x| x.conversation == chat("carol") && x.card().is_some()))
        .await;

    let alice = both.audit_of("alice").await;
    assert_eq!(alice.entry.ticket.as_deref(), Some("DKT-1"));
    assert_eq!(alice.entry.details["conversation"], chat("alice"));
    assert_eq!(alice.entry.details["reached_on"], "slack");
    let bob_record = both.audit_of("bob").await;
    assert_eq!(bob_record.entry.details["reached_on"], "slack");

    // Both stages approved (through the app, as any surface would): the run happens, and
    // Alice's DM follows the ticket to its end, with the key events in its thread.
    let approve = |who: &'static str| {
        let app = both.t.app.clone();
        let id = id.clone();
        async move {
            let digest = app.ticket(&id).await.unwrap().digest.unwrap();
            app.approve(&Actor::person(who), &id, digest, None).await.unwrap();
        }
    };
    approve("carol").await;
    approve("bob").await;
    both.t.wait_for_state(&id, TicketState::Succeeded).await;
    let done = both
        .slack
        .wait_for_message("Alice's DM edited to the outcome", |m| m.ts == dm.ts && text_of(m).contains("Succeeded"))
        .await;
    assert!(done.edits >= 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let replies: Vec<String> = both
            .slack
            .messages()
            .iter()
            .filter(|m| m.thread_ts.as_deref() == Some(dm.ts.as_str()))
            .map(text_of)
            .collect();
        if replies.iter().any(|r| r.contains("Approved by")) && replies.iter().any(|r| r.contains("Succeeded")) {
            break;
        }
        assert!(Instant::now() < deadline, "the key events never reached the DM's thread: {replies:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Once each: one ticket message and one approval request per person, one record per block.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages = both.slack.messages();
    let top = |channel: &str| messages.iter().filter(|m| m.channel == channel && m.thread_ts.is_none()).count();
    assert_eq!(top("D0ALICE"), 1, "{messages:#?}");
    assert_eq!(top("D0BOB"), 1, "{messages:#?}");
    let records = both.t.app.audit_records(0, 10_000).await.unwrap();
    assert_eq!(records.iter().filter(|r| r.entry.action == "teams.bot_blocked").count(), 2);
    assert!(
        both.teams.recorded().iter().all(|r| r.conversation != chat("alice") && r.conversation != chat("bob")),
        "nothing was written to the blocked chats"
    );
    both.t.stop().await;
}
