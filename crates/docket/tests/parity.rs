//! Slack and Teams say the same things at the same moments: the same journey — a production
//! deploy asked in the chat, two approvals, the run — is driven through each chat against its
//! fake, and what each shows is read back into plain words and compared: the answers to the
//! chat commands, the replies under the ticket message, who was asked for approval and how
//! every approval message ended, and how the ticket message ended. The rules live in the app;
//! this keeps the two layouts from drifting apart again.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use docket_core::ticket::Origin;
use docket_core::{Actor, Ticket, TicketId, TicketState};
use docket_slack::{CommandForm, Inbound, Slack, SlackClient, SlackNotifier, SlackSettings};
use docket_teams::{Pacing, RetryPolicy, Teams, TeamsSettings};
use docket_testkit::TestApp;
use docket_testkit::slack::{BOT_TOKEN, FakeSlack};
use docket_testkit::teams::{APP_ID, APP_PASSWORD, FakeBotFramework, TENANT};
use serde_json::{Value, json};

const APPROVALS: &str = "19:approvals@thread.tacv2";

/// One chat under test, with its app.
enum Chat {
    Slack { t: TestApp, fake: FakeSlack, slack: Slack },
    Teams { t: TestApp, fake: FakeBotFramework, url: String, http: reqwest::Client },
}

impl Chat {
    async fn slack() -> Self {
        let fake = FakeSlack::start().await;
        let mut settings = SlackSettings::new("8f742231b10e8888abcd99yyyzzz85a5", BOT_TOKEN);
        settings.api_url = fake.url();
        settings.channel_interval = Duration::from_millis(10);
        let client = SlackClient::new(&settings).unwrap();
        let t = quick(TestApp::builder().notifier(Arc::new(SlackNotifier::new(settings.clone(), client.clone()))))
            .start()
            .await;
        let slack = Slack::new(t.app.clone(), settings, client);
        Chat::Slack { t, fake, slack }
    }

    async fn teams() -> Self {
        let fake = FakeBotFramework::start().await;
        let mut settings = TeamsSettings::new(APP_ID, APP_PASSWORD);
        settings.openid_metadata_url = fake.metadata_url();
        settings.token_url = fake.token_url();
        settings.tenant_id = Some(TENANT.to_owned());
        settings.retry = RetryPolicy { attempts: 3, base: Duration::from_millis(10), max: Duration::from_millis(50) };
        settings.pacing = Pacing { burst: 7, interval: Duration::from_millis(10) };
        let bot = Teams::new(settings).unwrap();
        let t = quick(TestApp::builder().notifier(bot.notifier())).start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/teams/messages", listener.local_addr().unwrap());
        let router = bot.router(t.app.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let chat = Chat::Teams { t, fake, url, http: reqwest::Client::new() };
        chat.install().await;
        chat
    }

    fn app(&self) -> &TestApp {
        match self {
            Chat::Slack { t, .. } | Chat::Teams { t, .. } => t,
        }
    }

    /// Where alice asks: a Slack channel, or her 1:1 chat with the bot.
    fn origin(&self) -> Origin {
        match self {
            Chat::Slack { .. } => {
                Origin { surface: "slack".into(), channel: Some("C0DEV".into()), thread: None, context: None }
            }
            Chat::Teams { .. } => {
                Origin { surface: "teams".into(), channel: Some(chat("alice")), thread: None, context: None }
            }
        }
    }

    /// `who` types `words` to the bot; the answer's title and the tickets it names.
    async fn ask(&self, who: &str, words: &str) -> (String, Vec<String>) {
        let text = match self {
            Chat::Slack { slack, .. } => {
                let form = CommandForm {
                    command: "/docket".into(),
                    text: words.into(),
                    user_id: format!("U0{}", who.to_uppercase()),
                    channel_id: "C0DEV".into(),
                    ..CommandForm::default()
                };
                let ack = slack.dispatch(Inbound::Command(form)).await.unwrap();
                ack.0.and_then(|v| v["text"].as_str().map(str::to_owned)).unwrap_or_default()
            }
            Chat::Teams { fake, .. } => {
                let before = fake.recorded().len();
                let mut message = self.activity("message", who, personal(who));
                message["text"] = json!(words);
                message["id"] = json!(format!("msg-{who}-{words}"));
                self.post(&message).await;
                // The answer, not an approval card that went to the same chat meanwhile.
                let answer = |r: &docket_testkit::teams::Recorded| r.body["summary"] == "Docket";
                let all = fake.wait_for(words, |r| r.iter().skip(before).any(answer)).await;
                let mut texts = Vec::new();
                collect(all.iter().skip(before).find(|r| answer(r)).unwrap().card().unwrap(), &mut texts);
                texts.join("\n")
            }
        };
        // What the answer says there is (or that there is none): the same words in every chat.
        let title = [
            "There are no open tickets",
            "You have no tickets",
            "Nothing waits for your approval",
            "Open tickets",
            "Your tickets",
            "Waiting for your approval",
        ]
        .into_iter()
        .find(|t| text.contains(t))
        .unwrap_or("")
        .to_owned();
        (title, ids(&text))
    }

    /// The key events each reply under the ticket message tells, in order.
    fn replies(&self, ticket: &Ticket) -> Vec<String> {
        match self {
            Chat::Slack { fake, .. } => {
                let messages = fake.messages();
                let parent = messages.iter().find(|m| m.channel == "C0DEV" && m.thread_ts.is_none()).unwrap();
                messages
                    .iter()
                    .filter(|m| m.thread_ts.as_deref() == Some(parent.ts.as_str()))
                    .flat_map(|m| m.text.lines().map(str::to_owned).collect::<Vec<_>>())
                    .collect()
            }
            Chat::Teams { fake, .. } => {
                let prefix = format!("**{}** ", ticket.id);
                fake.recorded()
                    .iter()
                    .filter(|r| r.kind == "reply" && r.conversation == chat("alice"))
                    .flat_map(|r| {
                        let text = r.body["text"].as_str().unwrap_or_default().to_owned();
                        text.split("\n\n").filter_map(|l| l.strip_prefix(&prefix).map(unescape)).collect::<Vec<_>>()
                    })
                    .collect()
            }
        }
    }

    /// Who got an approval request (`channel` for the approvals channel), and the final words
    /// of every copy.
    fn approvals(&self) -> (BTreeSet<String>, Vec<String>) {
        match self {
            Chat::Slack { fake, .. } => {
                let copies: Vec<_> = fake.messages().into_iter().filter(|m| m.channel != "C0DEV").collect();
                let who =
                    copies
                        .iter()
                        .map(|m| {
                            if m.channel == "C0APPROVALS" {
                                "channel".to_owned()
                            } else {
                                m.channel[2..].to_lowercase()
                            }
                        })
                        .collect();
                (who, copies.iter().map(|m| m.text.clone()).collect())
            }
            Chat::Teams { fake, .. } => {
                let recorded = fake.recorded();
                let posted: Vec<_> = recorded
                    .iter()
                    .filter(|r| {
                        r.kind == "send" && r.body["summary"].as_str().is_some_and(|s| s.starts_with("Approval needed"))
                    })
                    .collect();
                let who = posted
                    .iter()
                    .map(|r| {
                        if r.conversation == APPROVALS {
                            "channel".to_owned()
                        } else {
                            r.conversation.replace("a:chat-", "")
                        }
                    })
                    .collect();
                // Each copy as it was last sent or replaced.
                let finals = posted
                    .iter()
                    .map(|p| {
                        let last = recorded
                            .iter()
                            .rev()
                            .find(|r| r.card().is_some() && r.activity_id == p.activity_id)
                            .unwrap_or(p);
                        let mut texts = Vec::new();
                        collect(last.card().unwrap(), &mut texts);
                        texts.join("\n")
                    })
                    .collect();
                (who, finals)
            }
        }
    }

    /// What the ticket message says now.
    fn ticket_message(&self) -> String {
        match self {
            Chat::Slack { fake, .. } => {
                fake.messages().into_iter().find(|m| m.channel == "C0DEV" && m.thread_ts.is_none()).unwrap().text
            }
            Chat::Teams { fake, .. } => {
                let last = fake
                    .recorded()
                    .into_iter()
                    .rev()
                    .find(|r| r.conversation == chat("alice") && r.kind != "reply" && r.card().is_some())
                    .unwrap();
                let mut texts = Vec::new();
                collect(last.card().unwrap(), &mut texts);
                texts.join("\n")
            }
        }
    }

    fn activity(&self, kind: &str, from: &str, conversation: Value) -> Value {
        let Chat::Teams { fake, .. } = self else { unreachable!("Teams only") };
        json!({
            "type": kind,
            "id": format!("act-{kind}-{from}"),
            "timestamp": "2026-11-24T10:00:00.000Z",
            "serviceUrl": fake.service_url(),
            "channelId": "msteams",
            "from": account(from),
            "recipient": { "id": format!("28:{APP_ID}"), "name": "Docket" },
            "conversation": conversation,
            "channelData": { "tenant": { "id": TENANT } },
        })
    }

    async fn post(&self, activity: &Value) {
        let Chat::Teams { fake, url, http, .. } = self else { unreachable!("Teams only") };
        let response = http.post(url).bearer_auth(fake.token()).json(activity).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }

    /// The bot installed in each person's 1:1 chat and in the approvals channel.
    async fn install(&self) {
        for person in ["alice", "bob", "carol"] {
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
}

fn quick(builder: docket_testkit::TestAppBuilder) -> docket_testkit::TestAppBuilder {
    builder.settings(|s| {
        s.public_url = Some("https://docket.example.com".to_owned());
        s.outbox_backoff = Duration::from_millis(20);
        s.outbox_max_backoff = Duration::from_millis(100);
    })
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

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// Teams' Markdown escapes taken out.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// The ticket ids a text names, each once, in order.
fn ids(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if word.starts_with("DKT-") && TicketId::parse(word).is_ok() && !out.iter().any(|w| w == word) {
            out.push(word.to_owned());
        }
    }
    out
}

/// Everything one chat showed during the journey.
#[derive(Debug, PartialEq)]
struct Seen {
    answers: Vec<(String, (String, Vec<String>))>,
    replies: Vec<String>,
    asked: BTreeSet<String>,
}

async fn journey(chat: Chat) -> Seen {
    let app = &chat.app().app;
    let mut answers = Vec::new();
    answers.push(("bob: waiting".to_owned(), chat.ask("bob", "waiting").await));
    answers.push(("alice: list".to_owned(), chat.ask("alice", "list").await));

    let alice = Actor::Person { id: "alice".into() };
    let params = [("service", json!("api")), ("version", json!("1.4.2")), ("env", json!("prod"))]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let ticket = app.request(&alice, &"deploy".into(), params, chat.origin()).await.unwrap();
    assert_eq!(ticket.state, TicketState::AwaitingApproval);
    for (who, words) in
        [("bob", "waiting"), ("alice", "list"), ("alice", "mine"), ("alice", "waiting"), ("alice", "status DKT-1")]
    {
        answers.push((format!("{who}: {words}"), chat.ask(who, words).await));
    }

    // Approvers act once they have been asked.
    drained(chat.app()).await;
    let digest = ticket.digest.unwrap();
    app.approve(&Actor::Person { id: "bob".into() }, &ticket.id, digest, Some("lgtm".into())).await.unwrap();
    drained(chat.app()).await;
    app.approve(&Actor::Person { id: "carol".into() }, &ticket.id, digest, None).await.unwrap();
    let ticket = chat.app().wait_for_state(&ticket.id, TicketState::Succeeded).await;
    drained(chat.app()).await;
    for (who, words) in [("bob", "waiting"), ("alice", "list"), ("alice", "mine")] {
        answers.push((format!("{who}: {words}"), chat.ask(who, words).await));
    }

    let replies = chat.replies(&ticket);
    let (asked, finals) = chat.approvals();
    for copy in &finals {
        assert!(copy.contains("Approved by") && copy.contains("Bob Ruiz") && copy.contains("Carol Diaz"), "{copy}");
    }
    assert!(chat.ticket_message().contains("Succeeded"), "{}", chat.ticket_message());
    Seen { answers, replies, asked }
}

async fn drained(t: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if t.app.stats().await.unwrap().oldest_undelivered.is_none() {
            return;
        }
        assert!(Instant::now() < deadline, "the outbox never drained");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn slack_and_teams_show_the_same_journey() {
    let slack = journey(Chat::slack().await).await;
    let teams = journey(Chat::teams().await).await;
    assert_eq!(slack.answers, teams.answers, "the command answers differ");
    assert_eq!(slack.replies, teams.replies, "the replies differ");
    assert_eq!(slack.asked, teams.asked, "different people were asked");
    // And what they say is what a person expects.
    assert_eq!(
        slack.replies,
        [
            "Approved by Bob Ruiz (stage lead): lgtm",
            "Approved by Carol Diaz (stage security)",
            "Approved: every stage has its approvals",
            "Run started",
            "Succeeded",
        ]
    );
    assert_eq!(slack.asked, BTreeSet::from(["channel".to_owned(), "bob".to_owned(), "carol".to_owned()]));
    let answer = |key: &str| slack.answers.iter().find(|(k, _)| k == key).map(|(_, a)| a.clone()).unwrap();
    assert_eq!(answer("alice: mine"), ("Your tickets".to_owned(), vec!["DKT-1".to_owned()]));
    assert_eq!(answer("bob: waiting"), ("Nothing waits for your approval".to_owned(), Vec::new()));
}
