//! Commands on a ticket: the production flow through two stages, and every refusal the API
//! turns into a status.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use std::sync::Arc;

use docket_app::ManualClock;
use docket_core::TicketState;
use docket_testkit::{TestApp, fixture};
use serde_json::json;

use crate::support::{Api, deploy_params};

#[tokio::test]
async fn prod_needs_lead_then_security_and_then_runs() {
    let api = Api::start().await;
    let view = api.open("alice", "prod").await;
    let id = view["id"].as_str().unwrap().to_owned();
    assert_eq!(view["state"], "awaiting_approval");
    assert!(view["respond_by"].is_string());
    let decision = &view["decision"];
    assert_eq!(decision["outcome"], "approvals");
    assert_eq!(decision["rule"], "production");
    assert_eq!(
        decision["stages"],
        json!([
            { "name": "lead", "count": 1, "from": ["oncall:sre-primary", "group:sre"], "approvers": [], "satisfied": false },
            { "name": "security", "count": 1, "from": ["group:sre"], "approvers": [], "satisfied": false },
        ])
    );

    let reply = api.approve("bob", &view).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let after_bob = reply.json();
    assert_eq!(after_bob["state"], "awaiting_approval");
    assert_eq!(after_bob["decision"]["stages"][0]["approvers"], json!(["bob"]));
    assert_eq!(after_bob["decision"]["stages"][0]["satisfied"], true);
    assert_eq!(after_bob["reviews"][0]["person"], "bob");
    assert_eq!(after_bob["reviews"][0]["verdict"], "approve");
    assert_eq!(after_bob["reviews"][0]["stage"], "lead");
    assert_eq!(after_bob["reviews"][0]["digest"], view["digest"]);

    let reply = api
        .post("carol", &format!("/api/v1/tickets/{id}/approve"), json!({ "digest": view["digest"], "comment": "lgtm" }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let after_carol = reply.json();
    assert_eq!(after_carol["decision"]["stages"][1]["approvers"], json!(["carol"]));
    assert_eq!(after_carol["reviews"][1]["comment"], "lgtm");
    assert!(["approved", "queued", "running", "succeeded"].contains(&after_carol["state"].as_str().unwrap()));

    api.wait_for(&id, TicketState::Succeeded).await;
    let logs = api.get("alice", &format!("/api/v1/tickets/{id}/logs")).await;
    assert_eq!(logs.status, StatusCode::OK, "{}", logs.text);
    let lines = logs.json()["lines"].as_array().unwrap().clone();
    assert!(lines.iter().any(|l| l["text"] == "deploying api 1.2.3 to prod" && l["stream"] == "stdout"), "{lines:?}");
    api.kit.stop().await;
}

#[tokio::test]
async fn requesters_cannot_approve_their_own_tickets() {
    let api = Api::start().await;
    let view = api.open("alice", "prod").await;
    let reply = api.approve("alice", &view).await;
    reply.assert_error(StatusCode::FORBIDDEN, "own_ticket");
    assert_eq!(reply.message(), "you requested this ticket, so you cannot approve it — someone else must");
    assert_eq!(reply.json()["error"]["details"]["action"], "approve");
    api.kit.stop().await;
}

#[tokio::test]
async fn people_outside_the_stage_cannot_approve() {
    let api = Api::start().await;
    let view = api.open("alice", "prod").await;
    let reply = api.approve("erin", &view).await;
    reply.assert_error(StatusCode::FORBIDDEN, "not_eligible");
    assert!(reply.message().contains("erin is not an approver for stage `lead`"), "{}", reply.text);
    let details = reply.json()["error"]["details"].clone();
    assert_eq!(details["stage"], "lead");
    assert_eq!(details["approvers"], "oncall:sre-primary, group:sre");
    api.kit.stop().await;
}

#[tokio::test]
async fn an_approval_of_an_old_plan_is_a_conflict_that_names_the_current_digest() {
    let api = Api::start().await;
    let view = api.open("alice", "prod").await;
    let id = view["id"].as_str().unwrap();
    let stale = "0".repeat(64);
    let reply = api.post("bob", &format!("/api/v1/tickets/{id}/approve"), json!({ "digest": stale })).await;
    reply.assert_error(StatusCode::CONFLICT, "stale_digest");
    assert_eq!(reply.json()["error"]["details"]["current_digest"], view["digest"]);

    let reply = api.post("bob", &format!("/api/v1/tickets/{id}/approve"), json!({ "digest": "abc" })).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_digest");
    let reply = api.post("bob", &format!("/api/v1/tickets/{id}/approve"), json!({})).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_json");
    assert!(reply.message().contains("missing field `digest`"), "{}", reply.text);
    api.kit.stop().await;
}

#[tokio::test]
async fn one_person_counts_once() {
    let api = Api::start().await;
    let view = api.open("alice", "prod").await;
    assert_eq!(api.approve("bob", &view).await.status, StatusCode::OK);
    let reply = api.approve("bob", &view).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert!(["approved_another_stage", "already_approved"].contains(&reply.code().as_str()), "{}", reply.text);
    assert_eq!(reply.json()["error"]["details"]["stage"], "lead");
    api.kit.stop().await;
}

#[tokio::test]
async fn changes_requested_amended_commented_and_rejected() {
    let api = Api::start().await;
    let view = api.open("alice", "prod").await;
    let id = view["id"].as_str().unwrap().to_owned();
    let path = |command: &str| format!("/api/v1/tickets/{id}/{command}");

    let reply = api.post("bob", &path("request-changes"), json!({ "reason": "use 1.2.4" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["state"], "changes_requested");

    let reply = api.post("bob", &path("amend"), json!({ "params": deploy_params("prod") })).await;
    reply.assert_error(StatusCode::FORBIDDEN, "not_requester");
    let mut params = deploy_params("prod");
    params["version"] = json!("1.2.4");
    let reply = api.post("alice", &path("amend"), json!({ "params": params })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let amended = reply.json();
    assert_eq!(amended["state"], "awaiting_approval");
    assert_eq!(amended["params"]["version"], "1.2.4");
    assert_ne!(amended["digest"], view["digest"]);
    let reply = api.post("alice", &path("amend"), json!({ "params": { "version": "x" } })).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_params");

    let reply = api.post("carol", &path("comment"), json!({ "text": "looks better" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let comment = &reply.json()["comments"][0];
    assert_eq!(comment["author"], json!({ "kind": "person", "id": "carol" }));
    assert_eq!(comment["text"], "looks better");
    let reply = api.post("carol", &path("comment"), json!({ "text": "" })).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "bad_text");

    let reply = api.post("carol", &path("reject"), json!({ "reason": "not this week" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let rejected = reply.json();
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(rejected["closing_reason"], "not this week");
    let reply = api.post("bob", &path("reject"), json!({ "reason": "again" })).await;
    reply.assert_error(StatusCode::CONFLICT, "wrong_state");
    assert_eq!(reply.json()["error"]["details"]["state"], "rejected");
    api.kit.stop().await;
}

#[tokio::test]
async fn cancel_takes_an_empty_body_and_only_the_requester_or_an_admin() {
    let api = Api::start().await;
    let first = api.open("alice", "prod").await;
    let second = api.open("alice", "prod").await;
    let cancel = |view: &serde_json::Value| format!("/api/v1/tickets/{}/cancel", view["id"].as_str().unwrap());

    let reply = api.post("erin", &cancel(&first), json!({ "reason": "mine now" })).await;
    reply.assert_error(StatusCode::FORBIDDEN, "not_requester");
    assert_eq!(reply.message(), "only the requester or an admin can cancel this ticket");

    let request = api.request(Method::POST, "alice", &cancel(&first)).body(Body::empty()).unwrap();
    let reply = api.send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["state"], "cancelled");

    let reply = api.post("dave", &cancel(&second), json!({ "reason": "freeze" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["state"], "cancelled");
    api.kit.stop().await;
}

const FLAKY: &str = r#"id: flaky
title: A step that fails
description: Fails every time.
category: Tests
risk: low
params: []
steps:
  - name: fail
    exec: ["false"]
"#;

#[tokio::test]
async fn a_failed_ticket_can_be_retried_and_a_succeeded_one_cannot() {
    let api = Api::start_with(TestApp::builder().workflow("flaky.yaml", FLAKY).start().await).await;
    let reply = api.post("alice", "/api/v1/tickets", json!({ "workflow": "flaky" })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    api.wait_for(&id, TicketState::Failed).await;
    let failed = api.get("alice", &format!("/api/v1/tickets/{id}")).await.json();
    assert_eq!(failed["runs"][0]["outcome"]["status"], "failed");
    assert_eq!(failed["runs"][0]["outcome"]["step"], 0);
    assert_eq!(failed["runs"][0]["steps"][0]["outcome"]["status"], "failed");
    assert_eq!(failed["runs"][0]["steps"][0]["outcome"]["exit_code"], 1);

    let retry = api.request(Method::POST, "alice", &format!("/api/v1/tickets/{id}/retry")).body(Body::empty()).unwrap();
    let reply = api.send(retry).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let view = api.get("alice", &format!("/api/v1/tickets/{id}")).await.json();
        if view["runs"].as_array().unwrap().len() == 2 && view["state"] == "failed" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no second run: {view}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let ok = api.open("alice", "staging").await;
    let ok_id = ok["id"].as_str().unwrap();
    api.wait_for(ok_id, TicketState::Succeeded).await;
    let retry = api
        .request(Method::POST, "alice", &format!("/api/v1/tickets/{ok_id}/retry"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap();
    api.send(retry).await.assert_error(StatusCode::CONFLICT, "wrong_state");
    api.kit.stop().await;
}

#[tokio::test]
async fn an_unanswered_request_expires() {
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    let kit = TestApp::builder().clock(clock.clone()).without_engine().start().await;
    let api = Api::start_with(kit).await;
    let view = api.open("alice", "prod").await;
    clock.advance(jiff::SignedDuration::from_hours(25));
    let reply = api.approve("bob", &view).await;
    reply.assert_error(StatusCode::CONFLICT, "request_expired");
    assert_eq!(reply.message(), "the request has expired; open a new ticket");
    api.kit.stop().await;
}

#[tokio::test]
async fn a_workflow_changed_under_an_open_ticket_must_be_amended_first() {
    let dir = tempfile::tempdir().unwrap();
    let before = Api::start_with(TestApp::builder().in_dir(dir.path()).without_engine().start().await).await;
    let view = before.open("alice", "prod").await;
    before.kit.stop().await;

    let changed = fixture::DEPLOY_YAML.replace("Roll out a version of a service.", "Roll out a service, carefully.");
    let kit =
        TestApp::builder().in_dir(dir.path()).workflows(&[("deploy.yaml", &changed)]).without_engine().start().await;
    let after = Api::start_with(kit).await;
    let reply = after.approve("bob", &view).await;
    reply.assert_error(StatusCode::CONFLICT, "workflow_changed");
    assert_eq!(reply.json()["error"]["details"]["workflow"], "deploy");
    let id = view["id"].as_str().unwrap();
    let reply =
        after.post("alice", &format!("/api/v1/tickets/{id}/amend"), json!({ "params": deploy_params("prod") })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_ne!(reply.json()["version"], view["version"]);
    after.kit.stop().await;
}

const SRE_ONLY: &str = r#"id: restart
title: Restart a service
description: Restarts it.
category: Operations
risk: low
requesters: [group:sre]
params: []
steps:
  - name: restart
    exec: [echo, restarted]
"#;

#[tokio::test]
async fn only_the_workflows_requesters_may_open_tickets() {
    let api = Api::start_with(TestApp::builder().workflow("restart.yaml", SRE_ONLY).start().await).await;
    let reply = api.post("alice", "/api/v1/tickets", json!({ "workflow": "restart" })).await;
    reply.assert_error(StatusCode::FORBIDDEN, "not_a_requester");
    assert!(reply.message().contains("alice may not request `restart`"), "{}", reply.text);
    let reply = api.post("bob", "/api/v1/tickets", json!({ "workflow": "restart" })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    api.kit.stop().await;
}
