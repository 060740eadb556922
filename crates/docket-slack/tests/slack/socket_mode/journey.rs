//! The whole chain in Socket Mode: the same journey as HTTP mode, but every slash command,
//! submission and click arrives as an envelope on a Docket-opened WebSocket, and every answer
//! is the envelope's acknowledgement — `response_action: errors` included; a click acknowledged
//! just before a stop is still handled.

use std::sync::Arc;

use docket_core::{TicketId, TicketState};
use docket_slack::SocketMode;
use docket_testkit::slack::FakeSocketMode;
use docket_testkit::slack::socket::slash_command;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::quick_settings;
use crate::support::{Harness, block_text, button_value, deploy_values, has_buttons};

/// The HTTP harness (app, notifier, fake Web API) with Socket Mode on top: the fake Web API's
/// `apps.connections.open` hands out the fake Socket Mode server's URLs.
struct Rig {
    h: Harness,
    socket: FakeSocketMode,
    shutdown: CancellationToken,
    client: SocketMode,
}

async fn rig() -> Rig {
    rig_with(docket_testkit::fixture::DOCKET_YAML).await
}

/// The rig with `config` as the app's configuration.
async fn rig_with(config: &str) -> Rig {
    let h = Harness::start_with(|b| b.config(config)).await;
    let socket = FakeSocketMode::start().await;
    h.fake.with_socket(socket.clone());
    let shutdown = CancellationToken::new();
    let client = SocketMode::start(quick_settings(&h.fake.url()), Arc::new(h.slack.clone()), shutdown.clone());
    socket.wait_for_open(2).await;
    Rig { h, socket, shutdown, client }
}

impl Rig {
    /// A slash command envelope; returns its acknowledgement's payload.
    async fn command(&self, user: &str, channel: &str, text: &str, trigger: &str) -> Option<Value> {
        let mut payload = slash_command(user, channel, text);
        payload["trigger_id"] = json!(trigger);
        let id = self.socket.slash_command(payload);
        self.socket.wait_for_ack(&id).await.payload
    }

    /// A view submission envelope; returns the acknowledgement's payload.
    async fn submit(&self, user: &str, view: &Value, values: Value) -> (String, Option<Value>) {
        let payload = json!({
            "type": "view_submission",
            "team": { "id": "T0TEAM", "domain": "acme" },
            "user": { "id": user },
            "api_app_id": "A0DOCKET",
            "view": {
                "id": view["id"], "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
                "blocks": view["blocks"], "state": { "values": values },
            },
        });
        let id = self.socket.interactive(payload);
        let ack = self.socket.wait_for_ack(&id).await;
        (id, ack.payload)
    }

    /// A click on `action_id` of `message` by `user`, as an `interactive` envelope.
    async fn click(&self, user: &str, message: &docket_testkit::slack::Message, action_id: &str, trigger: &str) {
        let value =
            button_value(&message.blocks, action_id).unwrap_or_else(|| panic!("no {action_id} on {}", message.text));
        let payload = json!({
            "type": "block_actions",
            "user": { "id": user, "username": user },
            "api_app_id": "A0DOCKET",
            "trigger_id": trigger,
            "team": { "id": "T0TEAM", "domain": "acme" },
            "container": { "type": "message", "message_ts": message.ts, "channel_id": message.channel },
            "channel": { "id": message.channel },
            "message": { "ts": message.ts, "text": message.text },
            "actions": [{ "type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1" }],
        });
        let id = self.socket.interactive(payload);
        let ack = self.socket.wait_for_ack(&id).await;
        assert_eq!(ack.payload, None, "clicks are acknowledged without a payload");
    }
}

#[tokio::test]
async fn a_prod_deploy_over_socket_mode_from_slash_command_to_succeeded() {
    let r = rig().await;
    let h = &r.h;
    h.fake.user("U0STRANGER", "stranger@elsewhere.example");
    assert_eq!(h.fake.calls_to("apps.connections.open").len(), 2);
    assert!(
        h.fake
            .calls_to("apps.connections.open")
            .iter()
            .all(|c| c.token.as_deref().is_some_and(|t| t.starts_with("xapp-")))
    );

    // The command is acknowledged at once, without a payload; the form opens pre-filled.
    assert_eq!(r.command("U0ALICE", "C0DEV", "deploy api 1.4 to prod", "trig-1").await, None);
    let view = h.view_opened("trig-1").await;
    assert_eq!(view["callback_id"], "docket.request");

    // The version fails core's check: the ack carries the error under its field; no ticket.
    let (_, answer) = r.submit("U0ALICE", &view, deploy_values("api", "1.4", "prod")).await;
    let answer = answer.expect("a view_submission ack carries the answer");
    assert_eq!(answer["response_action"], "errors", "{answer}");
    assert!(answer["errors"]["version"].as_str().unwrap().contains(r"^\d+\.\d+\.\d+$"), "{answer}");
    assert_eq!(answer["errors"].as_object().unwrap().len(), 1, "only the version is wrong");
    assert!(h.t.app.tickets(&Default::default()).await.unwrap().tickets.is_empty());

    // Corrected: the ack clears the modal; the ticket waits for approval.
    let (submitted, answer) = r.submit("U0ALICE", &view, deploy_values("api", "1.4.2", "prod")).await;
    assert_eq!(answer, Some(json!({ "response_action": "clear" })));
    let id = TicketId::parse("DKT-1").unwrap();
    let ticket = h.t.wait_for_state(&id, TicketState::AwaitingApproval).await;
    assert_eq!((ticket.origin.surface.as_str(), ticket.origin.channel.as_deref()), ("slack", Some("C0DEV")));

    // Slack repeats the submission's envelope (on the other connection): acknowledged, not
    // handled again — still one ticket.
    let other =
        r.socket.open().into_iter().find(|c| Some(*c) != r.socket.acks_of(&submitted).first().map(|a| a.connection));
    r.socket.repeat(&submitted, other);
    assert_eq!(r.socket.wait_for_ack_n(&submitted, 2).await.payload, None);
    assert_eq!(h.t.app.tickets(&Default::default()).await.unwrap().tickets.len(), 1);
    // Its id was recorded with the ticket; Slack sending it again is no replay to audit.
    assert!(h.t.app.remember_first("slack.seen", &format!("envelope:{submitted}"), "").await.is_ok_and(|first| !first));
    let audit = h.t.app.audit_records(0, 1000).await.unwrap();
    assert!(!audit.iter().any(|r| r.entry.details.to_string().contains("replayed")), "{audit:#?}");

    // The ticket thread, the approvals channel copy, and the DMs (on call first).
    let thread = h.fake.wait_for_message("the ticket message", |m| m.channel == "C0DEV" && m.thread_ts.is_none()).await;
    assert!(block_text(&thread.blocks).contains("DKT-1 · Deploy a service"));
    let copy = h.fake.wait_for_message("the approvals channel copy", |m| m.channel == "C0APPROVALS").await;
    assert!(block_text(&copy.blocks).contains("Approval needed: DKT-1"));
    h.fake.wait_for_message("bob's DM", |m| m.channel == "D0BOB").await;
    let dms: Vec<String> =
        h.fake.messages().iter().filter(|m| m.channel.starts_with('D')).map(|m| m.channel.clone()).collect();
    assert_eq!(dms, ["D0CAROL", "D0BOB"]);

    // Refused clicks: the requester and a stranger get the reason; nothing changes.
    r.click("U0ALICE", &copy, "docket.approve", "trig-a").await;
    h.wait_ephemeral("U0ALICE", "you requested this ticket, so you cannot approve it").await;
    r.click("U0STRANGER", &copy, "docket.approve", "trig-s").await;
    h.wait_ephemeral("U0STRANGER", "not in Docket's people").await;
    assert!(h.t.app.ticket(&id).await.unwrap().reviews.is_empty());
    let audit = h.t.app.audit_records(0, 1000).await.unwrap();
    assert!(audit.iter().any(|r| r.entry.action == "slack.unknown_user" && r.entry.actor == "slack:U0STRANGER"));

    // Carol (lead, on call) approves from her DM, then Bob (security) from his.
    let carol_dm = h.fake.messages().into_iter().find(|m| m.channel == "D0CAROL").unwrap();
    r.click("U0CAROL", &carol_dm, "docket.approve", "trig-c").await;
    let bob_dm = h
        .fake
        .wait_for_message("bob's DM asking for security", |m| {
            m.channel == "D0BOB" && block_text(&m.blocks).contains("Waiting for approval (stage security)")
        })
        .await;
    r.click("U0BOB", &bob_dm, "docket.approve", "trig-b").await;

    // It runs; the thread tells each step; the ticket message ends as Succeeded.
    h.t.wait_for_state(&id, TicketState::Succeeded).await;
    for needle in ["Approved by Carol Diaz (stage lead)", "Run started", "Succeeded"] {
        h.fake
            .wait_for_message(&format!("a reply {needle:?}"), |m| {
                m.thread_ts.as_deref() == Some(thread.ts.as_str()) && m.text.contains(needle)
            })
            .await;
    }
    h.fake
        .wait_for_message("the ticket message edited to Succeeded", |m| {
            m.ts == thread.ts && block_text(&m.blocks).contains(":white_check_mark: *Succeeded*")
        })
        .await;
    for channel in ["C0APPROVALS", "D0CAROL", "D0BOB"] {
        let m = h
            .fake
            .wait_for_message(&format!("the {channel} copy decided"), |m| {
                m.channel == channel && !has_buttons(&m.blocks)
            })
            .await;
        assert!(block_text(&m.blocks).contains("Approved by Carol Diaz, Bob Ruiz"), "{channel}");
    }

    // Every envelope was acknowledged exactly once per delivery, and the connections held.
    assert!(r.socket.strange_frames().is_empty());
    assert_eq!(r.client.open_connections(), 2);
    r.shutdown.cancel();
    r.client.stopped().await;
    r.h.t.stop().await;
}

#[tokio::test]
async fn commands_answered_in_words_come_back_in_the_ack_and_mentions_arrive_as_events() {
    let r = rig().await;
    let help = r.command("U0ALICE", "C0DEV", "help", "t-help").await.expect("help is answered in the ack");
    assert_eq!(help["response_type"], "ephemeral");
    assert!(help["text"].as_str().unwrap().contains("deploy {service} {version} to {env}"), "{help}");
    let status = r.command("U0ALICE", "C0DEV", "status DKT-9", "t-status").await.unwrap();
    assert!(status["text"].as_str().unwrap().contains("There is no ticket DKT-9"), "{status}");

    // An @mention arrives as an events_api envelope (no payload in its ack) and is answered in
    // its thread; the same event in a second envelope (a retry) is answered once.
    let event = json!({
        "type": "event_callback", "team_id": "T0TEAM", "event_id": "Ev42", "event_time": 1,
        "event": { "type": "app_mention", "user": "U0ALICE", "text": "<@U0DOCKET> deploy api 1.4.2 to prod",
                   "channel": "C0DEV", "ts": "1700000100.000100", "thread_ts": "1700000050.000100" },
        "authorizations": [{ "user_id": "U0DOCKET", "is_bot": true }],
    });
    let first = r.socket.event(event.clone());
    let again = r.socket.event(event);
    assert_eq!(r.socket.wait_for_ack(&first).await.payload, None);
    r.socket.wait_for_ack(&again).await;
    r.h.fake
        .wait_for_message("the answer in the thread", |m| m.thread_ts.as_deref() == Some("1700000050.000100"))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(r.h.fake.calls_to("chat.postMessage").len(), 1, "one answer for one event_id");
    r.shutdown.cancel();
    r.client.stopped().await;
}

/// A click that came as an envelope is acknowledged at once and handled after; a clean stop
/// waits for that work, so the approval is recorded.
#[tokio::test]
async fn a_stop_waits_for_a_click_that_came_over_socket_mode() {
    // Carol has no Slack id in the directory: her click waits for `users.info`, held.
    let r = rig_with(&docket_testkit::fixture::DOCKET_YAML.replace("slack: U0CAROL, ", "")).await;
    r.h.fake.user("U0CAROL", "carol@example.com");
    let ticket = r.h.prod_deploy_waiting().await;
    let copy = r.h.fake.wait_for_message("the channel copy", |m| m.channel == "C0APPROVALS").await;

    r.h.fake.hold("users.info");
    r.click("U0CAROL", &copy, "docket.approve", "trig-socket-stop").await;
    let reviewed = |t: &docket_core::Ticket| t.reviews.iter().any(|rv| rv.person.as_str() == "carol");
    assert!(!reviewed(&r.h.t.app.ticket(&ticket.id).await.unwrap()), "acknowledged before it is handled");

    r.shutdown.cancel();
    r.client.stopped().await;
    r.h.stop_while_held("users.info").await;
    assert!(reviewed(&r.h.t.app.ticket(&ticket.id).await.unwrap()), "the approval was recorded before the stop");
}
