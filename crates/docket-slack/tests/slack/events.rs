//! The Events API: url_verification, mentions answered in their thread, retries de-duplicated
//! by event_id, the bot's own messages ignored; the message shortcut keeps its message as
//! context.

use serde_json::{Value, json};

use crate::support::Harness;

fn mention(event_id: &str, user: &str, text: &str, extra: Value) -> String {
    let mut event = json!({ "type": "app_mention", "user": user, "text": text, "channel": "C0DEV", "ts": "1700000100.000100", "thread_ts": "1700000050.000100" });
    if let Value::Object(more) = extra {
        for (k, v) in more {
            event[k] = v;
        }
    }
    json!({ "type": "event_callback", "team_id": "T0TEAM", "event_id": event_id, "event_time": 1, "event": event, "authorizations": [{ "user_id": "U0DOCKET", "is_bot": true }] }).to_string()
}

#[tokio::test]
async fn url_verification_answers_the_challenge() {
    let h = Harness::start().await;
    let body = json!({ "type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" }).to_string();
    let (status, answer) = h.post("/slack/events", "application/json", &body).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&answer).unwrap()["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
}

#[tokio::test]
async fn a_mention_in_a_thread_answers_there_once_and_its_button_opens_the_form() {
    let h = Harness::start().await;
    let body = mention("Ev1", "U0ALICE", "<@U0DOCKET> deploy api 1.4.2 to prod", json!({}));
    assert_eq!(h.post("/slack/events", "application/json", &body).await.0, 200);
    // Slack retries the same event (re-signed): handled once.
    let retry = h.post("/slack/events", "application/json", &format!("{body} ")).await;
    assert_eq!(retry.0, 200);
    // The bot's own message is ignored.
    let own = mention("Ev2", "U0DOCKET", "<@U0DOCKET> help", json!({ "bot_id": "B0DOCKET" }));
    assert_eq!(h.post("/slack/events", "application/json", &own).await.0, 200);

    let reply = h
        .fake
        .wait_for_message("the answer in the thread", |m| m.thread_ts.as_deref() == Some("1700000050.000100"))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(h.fake.calls_to("chat.postMessage").len(), 1, "one answer for one event");
    h.click("U0ALICE", &reply, "docket.open_form", "t-form").await;
    let form = h.view_opened("t-form").await;
    assert_eq!(form["callback_id"], "docket.request");
    let meta: Value = serde_json::from_str(form["private_metadata"].as_str().unwrap()).unwrap();
    assert_eq!(meta["t"], "1700000050.000100", "the ticket goes to the mention's thread");
}

#[tokio::test]
async fn the_message_shortcut_keeps_a_link_to_the_message() {
    let h = Harness::start().await;
    let payload = json!({
        "type": "message_action", "callback_id": "docket.open_from_message", "trigger_id": "t-short",
        "user": { "id": "U0ALICE" }, "team": { "id": "T0TEAM", "domain": "acme" }, "channel": { "id": "C0DEV" },
        "message": { "type": "message", "ts": "1700000200.000300", "text": "api is broken in prod" },
    });
    assert_eq!(h.interact(&payload).await.0, 200);
    let picker = h.view_opened("t-short").await;
    let meta: Value = serde_json::from_str(picker["private_metadata"].as_str().unwrap()).unwrap();
    assert_eq!(meta["x"], "https://acme.slack.com/archives/C0DEV/p1700000200000300");
    assert_eq!(meta["c"], "C0DEV");
}

#[tokio::test]
async fn help_list_and_status_answer_ephemerally() {
    let h = Harness::start().await;
    let (_, help) = h.command("U0ALICE", "C0DEV", "help", "t1").await;
    assert!(help.contains("ephemeral") && help.contains("deploy {service} {version} to {env}"), "{help}");
    let (_, list) = h.command("U0ALICE", "C0DEV", "list", "t2").await;
    assert!(list.contains("no open tickets"), "{list}");
    let (_, status) = h.command("U0ALICE", "C0DEV", "status DKT-9", "t3").await;
    assert!(status.contains("There is no ticket DKT-9"), "{status}");
    let (_, miss) = h.command("U0ALICE", "C0DEV", "make coffee", "t4").await;
    assert!(miss.contains("No workflow matches") || miss.is_empty(), "{miss}");
    // An unknown Slack user is told why and audited.
    let (_, stranger) = h.command("U0NOBODY", "C0DEV", "help", "t5").await;
    assert!(stranger.contains("not in Docket's people"), "{stranger}");
    let audit = h.t.app.audit_records(0, 100).await.unwrap();
    assert!(audit.iter().any(|r| r.entry.action == "slack.unknown_user"));
}
