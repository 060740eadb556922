//! The whole chain in HTTP mode: signed slash command → pre-filled modal → a submission with a
//! validation error → a corrected one → the ticket thread → approval messages and DMs → refused
//! clicks (requester, stranger) → approvals by eligible people → the run → thread replies → the
//! final edit of every approval copy.

use docket_core::{TicketId, TicketState};
use serde_json::{Value, json};

use crate::support::{Harness, block_text, deploy_values, has_buttons};

#[tokio::test]
async fn a_prod_deploy_from_slash_command_to_succeeded() {
    let h = Harness::start().await;
    h.fake.user("U0STRANGER", "stranger@elsewhere.example");

    // The command matches an example and answers at once; the form opens pre-filled.
    let (status, body) = h.command("U0ALICE", "C0DEV", "deploy api 1.4 to prod", "trig-1").await;
    assert_eq!((status, body.as_str()), (200, ""));
    let view = h.view_opened("trig-1").await;
    assert_eq!(view["callback_id"], "docket.request");
    let blocks = view["blocks"].as_array().unwrap();
    let field = |name: &str| blocks.iter().find(|b| b["block_id"] == name).unwrap().clone();
    assert_eq!(field("service")["element"]["initial_option"]["value"], "api");
    assert_eq!(field("env")["element"]["initial_option"]["value"], "prod");
    assert_eq!(field("version")["element"]["initial_value"], "1.4");
    assert!(field("version")["hint"]["text"].as_str().unwrap().contains(r"^\d+\.\d+\.\d+$"));

    // The version as typed fails core's check: the error lands under its field; no ticket.
    let answer = h.submit_view("U0ALICE", &view, deploy_values("api", "1.4", "prod")).await;
    assert_eq!(answer["response_action"], "errors", "{answer}");
    assert!(answer["errors"]["version"].as_str().unwrap().contains("does not match the pattern"), "{answer}");
    assert_eq!(answer["errors"].as_object().unwrap().len(), 1);
    assert!(h.t.app.tickets(&Default::default()).await.unwrap().tickets.is_empty());

    // Corrected: the modal closes and the ticket waits for approval.
    let answer = h.submit_view("U0ALICE", &view, deploy_values("api", "1.4.2", "prod")).await;
    assert_eq!(answer, json!({ "response_action": "clear" }));
    let id = TicketId::parse("DKT-1").unwrap();
    let ticket = h.t.wait_for_state(&id, TicketState::AwaitingApproval).await;
    assert_eq!(ticket.origin.channel.as_deref(), Some("C0DEV"));
    assert_eq!(ticket.origin.surface, "slack");

    // The ticket message in the channel where it was asked.
    let thread = h.fake.wait_for_message("the ticket message", |m| m.channel == "C0DEV" && m.thread_ts.is_none()).await;
    let text = block_text(&thread.blocks);
    for needle in [
        "DKT-1 · Deploy a service",
        "Waiting for approval (stage lead)",
        "Alice Ng",
        "1.4.2",
        "http://docket.test/tickets/DKT-1",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from {text}");
    }

    // The approval request in the policy's channel, and DMs: carol (on call) first, then bob.
    let copy = h.fake.wait_for_message("the approvals channel copy", |m| m.channel == "C0APPROVALS").await;
    let copy_text = block_text(&copy.blocks);
    for needle in [
        "Approval needed: DKT-1",
        "Alice Ng",
        "in <#C0DEV>",
        "Policy rule `production`",
        "Carol Diaz (on call)",
        "echo",
        "See the whole plan",
    ] {
        assert!(copy_text.contains(needle), "{needle:?} missing from {copy_text}");
    }
    h.fake.wait_for_message("bob's DM", |m| m.channel == "D0BOB").await;
    let dms: Vec<String> =
        h.fake.messages().iter().filter(|m| m.channel.starts_with('D')).map(|m| m.channel.clone()).collect();
    assert_eq!(dms, ["D0CAROL", "D0BOB"], "carol is on call, so she is asked first");
    assert!(h.fake.calls_to("conversations.open").iter().all(|c| c.body["users"].as_str().unwrap().starts_with("U0")));

    // The requester's click is refused with core's words; a stranger's too; nothing changes.
    h.click("U0ALICE", &copy, "docket.approve", "trig-a").await;
    h.wait_ephemeral("U0ALICE", "you requested this ticket, so you cannot approve it").await;
    h.click("U0STRANGER", &copy, "docket.approve", "trig-s").await;
    h.wait_ephemeral("U0STRANGER", "not in Docket's people").await;
    let audit = h.t.app.audit_records(0, 1000).await.unwrap();
    assert!(audit.iter().any(|r| r.entry.action == "slack.unknown_user" && r.entry.actor == "slack:U0STRANGER"));
    assert!(audit.iter().any(|r| r.entry.action == "ticket.refused" && r.entry.actor.contains("alice")), "{audit:#?}");
    assert!(h.t.app.ticket(&id).await.unwrap().reviews.is_empty());

    // Carol approves from her DM; the security stage opens and bob's DM is edited to ask him.
    let carol_dm = h.fake.messages().into_iter().find(|m| m.channel == "D0CAROL").unwrap();
    let (status, _) = h.click("U0CAROL", &carol_dm, "docket.approve", "trig-c").await;
    assert_eq!(status, 200);
    h.fake
        .wait_for_message("carol's approval in the thread", |m| {
            m.thread_ts.as_deref() == Some(thread.ts.as_str()) && m.text.contains("Approved by Carol Diaz (stage lead)")
        })
        .await;
    let bob_dm = h
        .fake
        .wait_for_message("bob's DM asking for security", |m| {
            m.channel == "D0BOB" && block_text(&m.blocks).contains("Waiting for approval (stage security)")
        })
        .await;
    let (status, _) = h.click("U0BOB", &bob_dm, "docket.approve", "trig-b").await;
    assert_eq!(status, 200);

    // It runs; the thread tells the run; the ticket message ends as Succeeded.
    h.t.wait_for_state(&id, TicketState::Succeeded).await;
    // Steps that start or succeed earn no reply (the same rule in every chat); the run does.
    for needle in ["Run started", "Succeeded"] {
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

    // Every approval copy shows the outcome, without buttons.
    for channel in ["C0APPROVALS", "D0CAROL", "D0BOB"] {
        let m = h
            .fake
            .wait_for_message(&format!("the {channel} copy decided"), |m| {
                m.channel == channel && !has_buttons(&m.blocks)
            })
            .await;
        let text = block_text(&m.blocks);
        assert!(text.contains("Approved by Carol Diaz, Bob Ruiz"), "{channel}: {text}");
    }
    // One ticket message, never posted twice.
    let posts = h.fake.calls_to("chat.postMessage");
    assert_eq!(posts.iter().filter(|c| c.body["channel"] == "C0DEV" && c.body.get("thread_ts").is_none()).count(), 1);
    assert_eq!(posts.iter().filter(|c| c.body["channel"] == "C0APPROVALS").count(), 1);
    h.t.stop().await;
}

#[tokio::test]
async fn the_picker_then_the_form_for_a_person_found_by_email() {
    let h = Harness::start().await;
    // erin has no Slack id in the directory: users.info gives her email.
    h.fake.user("U0ERIN", "erin@example.com");
    let (status, _) = h.command("U0ERIN", "C0DEV", "", "trig-p").await;
    assert_eq!(status, 200);
    let picker = h.view_opened("trig-p").await;
    assert_eq!(picker["callback_id"], "docket.pick");
    let picked =
        json!({ "workflow": { "value": { "type": "static_select", "selected_option": { "value": "deploy" } } } });
    let answer = h.submit_view("U0ERIN", &picker, picked).await;
    assert_eq!(answer["response_action"], "update");
    let form = answer["view"].clone();
    assert_eq!(form["callback_id"], "docket.request");
    let answer = h.submit_view("U0ERIN", &form, deploy_values("web", "2.0.0", "staging")).await;
    assert_eq!(answer, json!({ "response_action": "clear" }));
    let ticket = h.t.wait_for_state(&TicketId::parse("DKT-1").unwrap(), TicketState::Succeeded).await;
    assert_eq!(ticket.requester.as_str(), "erin");
    assert_eq!(h.fake.calls_to("users.info").len(), 1, "the email lookup is cached");
    h.t.stop().await;
}

#[tokio::test]
async fn unsure_words_open_the_picker_with_candidates_and_the_pick_is_filled_in() {
    let h = Harness::start().await;
    h.command("U0ALICE", "C0DEV", "to prod please", "trig-u").await;
    let picker = h.view_opened("trig-u").await;
    assert_eq!(picker["callback_id"], "docket.pick");
    let note = picker["blocks"][0]["text"]["text"].as_str().unwrap_or_default().to_owned();
    assert!(note.contains("Not sure which workflow") && note.contains("env prod"), "{picker:#}");
    let meta: Value = serde_json::from_str(picker["private_metadata"].as_str().unwrap()).unwrap();
    assert_eq!(meta["p"]["deploy"], json!({ "env": "prod" }));
    let picked =
        json!({ "workflow": { "value": { "type": "static_select", "selected_option": { "value": "deploy" } } } });
    let answer = h.submit_view("U0ALICE", &picker, picked).await;
    let form = &answer["view"];
    let env = form["blocks"].as_array().unwrap().iter().find(|b| b["block_id"] == "env").unwrap();
    assert_eq!(env["element"]["initial_option"]["value"], "prod", "{form:#}");
    let meta: Value = serde_json::from_str(form["private_metadata"].as_str().unwrap()).unwrap();
    assert!(meta.get("p").is_none(), "the form carries only its workflow: {meta}");
    h.t.stop().await;
}

#[tokio::test]
async fn request_changes_then_amend_asks_afresh() {
    let h = Harness::start().await;
    h.command("U0ALICE", "C0DEV", "deploy web 1.0.0 to prod", "t-open").await;
    h.submit("U0ALICE", "t-open", deploy_values("web", "1.0.0", "prod")).await;
    let id = TicketId::parse("DKT-1").unwrap();
    h.t.wait_for_state(&id, TicketState::AwaitingApproval).await;
    let copy = h.fake.wait_for_message("the approval copy", |m| m.channel == "C0APPROVALS").await;

    // Bob asks for changes through the reason form.
    h.click("U0BOB", &copy, "docket.request_changes", "t-rc").await;
    let form = h.view_opened("t-rc").await;
    assert_eq!(form["callback_id"], "docket.reason");
    let reason = json!({ "reason": { "value": { "type": "plain_text_input", "value": "use 1.0.1, it has the fix" } } });
    assert_eq!(h.submit_view("U0BOB", &form, reason).await, json!({ "response_action": "clear" }));
    h.t.wait_for_state(&id, TicketState::ChangesRequested).await;
    h.fake
        .wait_for_message("the copy closed with the reason", |m| {
            m.channel == "C0APPROVALS"
                && !has_buttons(&m.blocks)
                && block_text(&m.blocks).contains("Changes requested by Bob Ruiz: use 1.0.1")
        })
        .await;

    // The ticket message offers the requester a pre-filled amend form.
    let thread = h
        .fake
        .wait_for_message("the amend button", |m| {
            m.channel == "C0DEV" && crate::support::button_value(&m.blocks, "docket.amend").is_some()
        })
        .await;
    h.click("U0ALICE", &thread, "docket.amend", "t-amend").await;
    let amend = h.view_opened("t-amend").await;
    assert_eq!(amend["callback_id"], "docket.amend");
    let version = amend["blocks"].as_array().unwrap().iter().find(|b| b["block_id"] == "version").unwrap().clone();
    assert_eq!(version["element"]["initial_value"], "1.0.0");
    assert_eq!(
        h.submit_view("U0ALICE", &amend, deploy_values("web", "1.0.1", "prod")).await,
        json!({ "response_action": "clear" })
    );
    let ticket = h.t.wait_for_state(&id, TicketState::AwaitingApproval).await;
    assert_eq!(ticket.round, 2);

    // A fresh request is posted for round 2; a click on round 1's digest is stale.
    h.fake
        .wait_for_message("a second approval copy", |m| {
            m.channel == "C0APPROVALS" && m.ts != copy.ts && has_buttons(&m.blocks)
        })
        .await;
    h.click("U0CAROL", &copy, "docket.approve", "t-stale").await;
    let words = h.wait_ephemeral("U0CAROL", "plan").await;
    let digest = ticket.digest.unwrap().short();
    assert!(words.contains("changed") && words.contains(&digest), "{words}");
    assert!(h.t.app.ticket(&id).await.unwrap().reviews.iter().all(|r| r.round == 1));
    h.t.stop().await;
}
