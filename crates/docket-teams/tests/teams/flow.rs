//! The whole story in Teams: a request in a 1:1 chat, a form with a validation error, fixed,
//! the ticket card, approval cards in a channel and in 1:1 chats, a refused self-approval, two
//! approvals, the run, and the card following along.

use docket_core::{TicketId, TicketState};
use docket_testkit::teams::Recorded;
use serde_json::{Value, json};

use crate::support::*;

fn is_card_to(r: &Recorded, conversation: &str, title: &str) -> bool {
    r.conversation == conversation && r.card().is_some_and(|c| texts(c).contains(title))
}

#[tokio::test]
async fn a_request_in_a_chat_is_approved_in_channel_and_chats_and_runs() {
    let h = Harness::start().await;
    h.install(&["alice", "bob", "carol"]).await;

    // Words with a bad version: the form comes back pre-filled, the error under the field.
    let (status, _) = h.post(&message(&h.fake, "alice", "deploy api 1.2 to prod")).await;
    assert_eq!(status, 200);
    let form = h.wait_call("the request form", |r| is_card_to(r, &chat("alice"), "Request: Deploy a service")).await;
    let card = form.card().unwrap();
    docket_teams::cards::check::check(card).unwrap();
    assert_eq!(inputs(card), ["param.service", "param.version", "param.env"]);
    let body = card["body"].as_array().unwrap();
    let version = body.iter().position(|e| e["id"] == "param.version").unwrap();
    assert_eq!(body[version]["type"], "Input.Text");
    assert_eq!(body[version]["regex"], r"^\d+\.\d+\.\d+$");
    assert_eq!(body[version]["value"], "1.2");
    assert_eq!(body[version + 1]["color"], "Attention", "the matcher's problem sits under the field");
    let env = body.iter().find(|e| e["id"] == "param.env").unwrap();
    assert_eq!((env["type"].as_str(), env["value"].as_str()), (Some("Input.ChoiceSet"), Some("prod")));

    // Submitted as is: the server validates again and answers with the form and the error.
    let submit = |version: &str| json!({ "workflow": "deploy", "param.service": "api", "param.version": version, "param.env": "prod" });
    let click = invoke(&h.fake, "alice", &chat("alice"), &form.activity_id, "submit_request", submit("1.2"));
    let (status, answer) = h.post(&click).await;
    assert_eq!(status, 200);
    let refreshed = answered_card(&answer);
    assert!(texts(refreshed).contains("Some values need fixing"), "{refreshed:#}");
    let body = refreshed["body"].as_array().unwrap();
    let at = body.iter().position(|e| e["id"] == "param.version").unwrap();
    assert_eq!(body[at + 1]["color"], "Attention");
    assert!(h.t.app.tickets(&Default::default()).await.unwrap().tickets.is_empty(), "no ticket from bad input");

    // Fixed: the form becomes the ticket card.
    let click = invoke(&h.fake, "alice", &chat("alice"), &form.activity_id, "submit_request", submit("1.2.3"));
    let (_, answer) = h.post(&click).await;
    let ticket_card = answered_card(&answer);
    assert!(texts(ticket_card).contains("DKT-1 · Deploy a service"), "{ticket_card:#}");
    assert!(texts(ticket_card).contains("Waiting for approval (stage lead)"));
    let id = TicketId::parse("DKT-1").unwrap();
    let ticket = h.t.app.ticket(&id).await.unwrap();
    assert_eq!(ticket.state, TicketState::AwaitingApproval);
    assert_eq!(ticket.origin.surface, "teams");
    let digest = ticket.digest.unwrap().to_string();
    let (_, again) = h.post(&click).await;
    assert!(texts(answered_card(&again)).contains("DKT-1 · Deploy a service"), "the same form sent twice");
    assert_eq!(h.t.app.tickets(&Default::default()).await.unwrap().tickets.len(), 1, "opens one ticket");

    // The card in alice's chat is the form's message, replaced in place.
    h.wait_call("the ticket card replacing the form", |r| {
        r.kind == "update" && r.activity_id == form.activity_id && is_card_to(r, &chat("alice"), "DKT-1")
    })
    .await;

    // Approval cards for stage lead: the channel, then carol (on call) before bob.
    let channel = h
        .wait_call("the channel's approval card", |r| r.kind == "send" && is_card_to(r, APPROVALS, "Approval: DKT-1"))
        .await;
    let carol_card = h
        .wait_call("carol's approval card", |r| r.kind == "send" && is_card_to(r, &chat("carol"), "Approval: DKT-1"))
        .await;
    let bob_card = h
        .wait_call("bob's approval card", |r| r.kind == "send" && is_card_to(r, &chat("bob"), "Approval: DKT-1"))
        .await;
    let order: Vec<String> = h
        .fake
        .recorded()
        .iter()
        .filter(|r| {
            r.kind == "send"
                && r.conversation.starts_with("a:chat-")
                && r.card().is_some_and(|c| texts(c).contains("Approval: DKT-1"))
        })
        .map(|r| r.conversation.clone())
        .collect();
    assert_eq!(order, [chat("carol"), chat("bob")], "the on-call approver is asked first");
    let shared = channel.card().unwrap();
    docket_teams::cards::check::check(shared).unwrap();
    assert!(!action_titles(shared).contains(&"Approve".to_owned()), "the channel copy has no buttons");
    assert_eq!(shared["refresh"]["userIds"], json!(["29:carol", "29:bob"]));
    assert!(texts(shared).contains("Rule `production`"));
    assert!(texts(shared).contains("deploying api 1.2.3 to prod"), "the plan is on the card");
    assert_eq!(action_titles(carol_card.card().unwrap()), ["Approve", "Reject", "Request changes", "Open in Docket"]);

    // Each approver's client refreshes the channel copy to their own; the requester sees none.
    let data = json!({ "ticket": "DKT-1", "round": 1, "stage": "lead" });
    let refresh =
        |user: &str| invoke_with(&h.fake, user, APPROVALS, &channel.activity_id, "refresh", data.clone(), "automatic");
    let (_, answer) = h.post(&refresh("bob")).await;
    assert!(action_titles(answered_card(&answer)).contains(&"Approve".to_owned()));
    let (_, answer) = h.post(&refresh("alice")).await;
    assert!(!action_titles(answered_card(&answer)).contains(&"Approve".to_owned()));

    // The requester clicks Approve anyway: refused in core's words, nothing changes.
    let approve = |user: &str, digest: &str| {
        json!({ "ticket": "DKT-1", "digest": digest, "round": 1, "stage": "lead", "action": "approve", "comment": "" })
            .as_object()
            .cloned()
            .map(|d| invoke(&h.fake, user, APPROVALS, &channel.activity_id, "approve", Value::Object(d)))
            .unwrap()
    };
    let (_, answer) = h.post(&approve("alice", &digest)).await;
    let refused = answered_card(&answer);
    assert!(texts(refused).contains("you requested this ticket, so you cannot approve it"), "{refused:#}");
    let unchanged = h.t.app.ticket(&id).await.unwrap();
    assert!(unchanged.reviews.is_empty());
    assert_eq!(unchanged.state, TicketState::AwaitingApproval);

    // Carol approves on her 1:1 card: her card answers at once.
    let data = json!({ "ticket": "DKT-1", "digest": digest, "round": 1, "stage": "lead", "comment": "looks right" });
    let click = invoke(&h.fake, "carol", &chat("carol"), &carol_card.activity_id, "approve", data);
    let (_, answer) = h.post(&click).await;
    let approved = answered_card(&answer);
    assert!(texts(approved).contains("You approved stage lead."), "{approved:#}");
    assert!(texts(approved).contains("Stage lead approved by Carol Diaz"));

    // Every other copy of stage lead is replaced; stage security goes to bob (not carol).
    for copy in [&channel, &bob_card] {
        h.wait_call("the lead copies updated", |r| {
            r.kind == "update"
                && r.activity_id == copy.activity_id
                && r.card().is_some_and(|c| texts(c).contains("Stage lead approved by Carol Diaz"))
        })
        .await;
    }
    let security = h
        .wait_call("bob's security card", |r| {
            r.kind == "send"
                && r.conversation == chat("bob")
                && r.card().is_some_and(|c| texts(c).contains("Waiting for 1 approval for stage security"))
        })
        .await;
    let security_sends =
        h.fake.recorded().into_iter().filter(|r| r.kind == "send" && r.conversation == chat("carol")).count();
    assert_eq!(security_sends, 1, "carol approved stage lead, so she is not asked for stage security");

    let data = json!({ "ticket": "DKT-1", "digest": digest, "round": 1, "stage": "security", "comment": "" });
    let (_, answer) = h.post(&invoke(&h.fake, "bob", &chat("bob"), &security.activity_id, "approve", data)).await;
    assert!(texts(answered_card(&answer)).contains("You approved stage security."));

    // The run: alice's card ends as Succeeded, with replies for the key events under it.
    h.t.wait_for_state(&id, TicketState::Succeeded).await;
    h.wait_call("the card showing success", |r| {
        r.kind == "update"
            && r.activity_id == form.activity_id
            && r.card().is_some_and(|c| texts(c).contains("Succeeded"))
    })
    .await;
    let replies = h
        .fake
        .wait_for("replies for approvals and the run", |r| {
            let text: Vec<&str> = r
                .iter()
                .filter(|x| x.kind == "reply" && x.reply_to.as_deref() == Some(&form.activity_id))
                .filter_map(|x| x.body["text"].as_str())
                .collect();
            text.iter().any(|t| t.contains("Approved by Carol Diaz (stage lead): looks right"))
                && text.iter().any(|t| t.contains("Succeeded"))
        })
        .await;
    // No edit repeats the card already shown.
    let all = h.fake.recorded();
    for (i, update) in all.iter().enumerate().filter(|(_, r)| r.kind == "update") {
        let before = all[..i].iter().rev().find(|r| r.activity_id == update.activity_id).unwrap();
        assert_ne!(before.card(), update.card(), "an edit that changes nothing: {update:#?}");
    }
    // Every card Docket sent on the way is one Teams accepts.
    let cards: Vec<&Value> = replies.iter().filter_map(Recorded::card).collect();
    assert!(cards.len() >= 10, "{} cards", cards.len());
    for card in cards {
        docket_teams::cards::check::check(card).unwrap_or_else(|p| panic!("{p:#?}"));
    }
    h.t.stop().await;
}

#[tokio::test]
async fn a_stale_digest_and_an_unknown_person_are_refused_on_the_card() {
    let h = Harness::start().await;
    h.install(&["alice", "bob", "carol"]).await;
    let form = {
        h.post(&message(&h.fake, "alice", "deploy web 2.0.0 to prod")).await;
        h.wait_call("the form", |r| is_card_to(r, &chat("alice"), "Request: Deploy a service")).await
    };
    let data = json!({ "workflow": "deploy", "param.service": "web", "param.version": "2.0.0", "param.env": "prod" });
    h.post(&invoke(&h.fake, "alice", &chat("alice"), &form.activity_id, "submit_request", data)).await;
    let id = TicketId::parse("DKT-1").unwrap();
    let ticket = h.t.app.ticket(&id).await.unwrap();
    let old = "0".repeat(64);
    let data = json!({ "ticket": "DKT-1", "digest": old, "round": 1, "stage": "lead" });
    let (_, answer) = h.post(&invoke(&h.fake, "carol", &chat("carol"), "x", "approve", data.clone())).await;
    let card = answered_card(&answer);
    assert!(texts(card).contains("the plan changed since you looked at it"), "{card:#}");
    assert!(texts(card).contains("deploying web 2.0.0 to prod"), "the current plan is shown");

    let records = h.t.app.audit_records(0, 10_000).await.unwrap().len();
    let mut stranger = invoke(&h.fake, "mallory", &chat("mallory"), "x", "approve", data);
    stranger["from"]["aadObjectId"] = json!("aad-unknown");
    let (_, answer) = h.post(&stranger).await;
    assert!(texts(answered_card(&answer)).contains("Docket does not know you yet"));
    let audit = h.t.app.audit_records(0, 10_000).await.unwrap();
    assert_eq!(audit.len(), records + 1);
    assert_eq!(audit.last().unwrap().entry.action, "teams.unknown_user");
    assert_eq!(audit.last().unwrap().entry.details["user"], "aad-unknown");
    assert_eq!(h.t.app.ticket(&id).await.unwrap(), ticket, "refusals change nothing");
    h.t.stop().await;
}

#[tokio::test]
async fn someone_who_may_not_approve_is_refused_on_the_card() {
    let fake = docket_testkit::teams::FakeBotFramework::start().await;
    let frank = "  - { id: frank, name: Frank Ode, teams: aad-frank, groups: [dev] }\n";
    let erin = "  - { id: erin, name: Erin Cole, email: erin@example.com, groups: [dev] }\n";
    let config = docket_testkit::fixture::DOCKET_YAML.replace(erin, &format!("{erin}{frank}"));
    assert_ne!(config, docket_testkit::fixture::DOCKET_YAML);
    let h = Harness::with_config(fake, &config).await;
    h.install(&["alice", "frank"]).await;
    let data = json!({ "workflow": "deploy", "param.service": "api", "param.version": "1.0.0", "param.env": "prod" });
    h.post(&invoke(&h.fake, "alice", &chat("alice"), "form", "submit_request", data)).await;
    let id = TicketId::parse("DKT-1").unwrap();
    let ticket = h.t.app.ticket(&id).await.unwrap();
    let digest = ticket.digest.unwrap().to_string();
    let data = json!({ "ticket": "DKT-1", "digest": digest, "round": 1, "stage": "lead" });
    let (_, answer) = h.post(&invoke(&h.fake, "frank", &chat("frank"), "x", "approve", data.clone())).await;
    let card = answered_card(&answer);
    assert!(texts(card).contains("frank is not an approver for stage `lead`"), "{card:#}");
    assert!(!action_titles(card).contains(&"Approve".to_owned()));
    let (_, answer) = h.post(&invoke(&h.fake, "frank", &chat("frank"), "x", "reject", data.clone())).await;
    let card = answered_card(&answer);
    assert!(texts(card).contains("Refused: frank is not an approver"), "{card:#}");
    h.install(&["bob"]).await;
    let (_, answer) = h.post(&invoke(&h.fake, "bob", &chat("bob"), "x", "reject", data)).await;
    assert!(texts(answered_card(&answer)).contains("Write a reason"), "an empty reason is asked for");
    assert_eq!(h.t.app.ticket(&id).await.unwrap(), ticket, "refusals change nothing");
    h.t.stop().await;
}

#[tokio::test]
async fn an_approver_met_only_in_a_team_gets_a_new_one_to_one_chat() {
    let h = Harness::start().await;
    // alice installed the app herself; bob only added it to the team (no 1:1 chat yet); carol
    // never met the bot, so she cannot be messaged.
    h.install(&["alice"]).await;
    let data = json!({ "workflow": "deploy", "param.service": "api", "param.version": "1.0.0", "param.env": "prod" });
    h.post(&invoke(&h.fake, "alice", &chat("alice"), "form", "submit_request", data)).await;
    let created = h.wait_call("a 1:1 chat started with bob", |r| r.kind == "create_conversation").await;
    assert_eq!(created.body["members"], json!([{ "id": "29:bob" }]));
    assert_eq!(created.body["tenantId"], "tenant-1");
    h.wait_call("bob's approval card in it", |r| {
        r.kind == "send" && r.conversation == created.conversation && r.card().is_some()
    })
    .await;
    let kept: Value = serde_json::from_str(&h.t.app.recall("teams", "person:bob").await.unwrap().unwrap()).unwrap();
    assert_eq!(kept["conversation_id"], created.conversation.as_str(), "the chat is kept for next time");
    assert_eq!(h.fake.recorded().iter().filter(|r| r.kind == "create_conversation").count(), 1);
    h.t.stop().await;
}

/// A form sent twice at the same moment (a double click, a retried invoke) opens one ticket.
#[tokio::test]
async fn a_form_sent_twice_at_once_opens_one_ticket() {
    let h = Harness::start().await;
    h.install(&["alice"]).await;
    let (status, _) = h.post(&message(&h.fake, "alice", "deploy api 1.2.3 to prod")).await;
    assert_eq!(status, 200);
    let form = h.wait_call("the request form", |r| is_card_to(r, &chat("alice"), "Request: Deploy a service")).await;
    let submit = json!({ "workflow": "deploy", "param.service": "api", "param.version": "1.2.3", "param.env": "prod" });
    let click = invoke(&h.fake, "alice", &chat("alice"), &form.activity_id, "submit_request", submit);
    let ((first, one), (second, other)) = tokio::join!(h.post(&click), h.post(&click));
    assert_eq!((first, second), (200, 200));
    assert_eq!(h.t.app.tickets(&Default::default()).await.unwrap().tickets.len(), 1, "one ticket");
    for answer in [&one, &other] {
        let said = texts(answered_card(answer));
        assert!(said.contains("DKT-1 · Deploy a service") || said.contains("This form was sent already"), "{said}");
    }
}

/// A form replied in a channel can be sent by anyone there: each person's submission opens a
/// ticket of their own, and each person's second click still opens nothing more. The form's
/// key is recorded in a scope of its own (kept a day), never beside the conversation records.
#[tokio::test]
async fn a_channel_form_sent_by_two_people_opens_a_ticket_for_each() {
    let h = Harness::start().await;
    h.install(&["alice", "bob"]).await;
    let card = "1700000000000";
    let submit =
        json!({ "workflow": "deploy", "param.service": "api", "param.version": "1.2.3", "param.env": "staging" });
    let click = |user: &str| invoke(&h.fake, user, APPROVALS, card, "submit_request", submit.clone());
    let (status, alices) = h.post(&click("alice")).await;
    assert_eq!(status, 200);
    assert!(texts(answered_card(&alices)).contains("DKT-1 · Deploy a service"));
    let (status, bobs) = h.post(&click("bob")).await;
    assert_eq!(status, 200);
    assert!(texts(answered_card(&bobs)).contains("DKT-2 · Deploy a service"), "bob's own ticket");
    let (_, again) = h.post(&click("bob")).await;
    assert!(texts(answered_card(&again)).contains("DKT-2 · Deploy a service"), "bob's click again");
    let tickets = h.t.app.tickets(&Default::default()).await.unwrap().tickets;
    let mut requesters: Vec<String> = tickets.iter().map(|t| t.requester.to_string()).collect();
    requesters.sort();
    assert_eq!(requesters, ["alice", "bob"]);
    let keys = h.t.app.recall_all("teams.forms", "form:").await.unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(h.t.app.recall_all("teams", "form:").await.unwrap().is_empty());
}
