//! `/tickets`: opening, reading and listing tickets.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use docket_core::TicketState;
use serde_json::json;

use crate::support::{Api, Reply, deploy_params};

#[tokio::test]
async fn a_staging_ticket_is_created_auto_approved_and_runs() {
    let api = Api::start().await;
    let reply =
        api.post("alice", "/api/v1/tickets", json!({ "workflow": "deploy", "params": deploy_params("staging") })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let view = reply.json();
    let id = view["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("DKT-"));
    assert_eq!(reply.headers[header::LOCATION], format!("/api/v1/tickets/{id}"));
    assert_eq!(view["workflow"], "deploy");
    assert_eq!(view["title"], "Deploy a service");
    assert_eq!(view["requester"], "alice");
    assert_eq!(view["requested_by"], json!({ "kind": "person", "id": "alice" }));
    assert_eq!(view["params"], deploy_params("staging"));
    assert_eq!(view["decision"]["outcome"], "auto_approve");
    assert_eq!(view["decision"]["rule"], "staging");
    assert_eq!(view["decision"]["stages"], json!([]));
    assert_eq!(view["plan"]["steps"][0]["name"], "rollout");
    assert_eq!(view["plan"]["steps"][0]["action"]["argv"], json!(["echo", "deploying api 1.2.3 to staging"]));
    assert_eq!(view["digest"].as_str().unwrap().len(), 64);
    assert_eq!(view["links"]["self"], format!("/api/v1/tickets/{id}"));
    assert_eq!(view["links"]["events"], format!("/api/v1/tickets/{id}/events"));
    assert_eq!(view["links"]["logs"], format!("/api/v1/tickets/{id}/logs"));

    api.wait_for(&id, TicketState::Succeeded).await;
    let reply = api.get("bob", &format!("/api/v1/tickets/{id}")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let view = reply.json();
    assert_eq!(view["state"], "succeeded");
    let run = &view["runs"][0];
    assert_eq!(run["number"], 1);
    assert_eq!(run["outcome"]["status"], "succeeded");
    assert_eq!(run["steps"][0]["name"], "rollout");
    assert_eq!(run["steps"][0]["outcome"]["status"], "succeeded");
    api.kit.stop().await;
}

#[tokio::test]
async fn every_invalid_parameter_is_reported_at_once() {
    let api = Api::start().await;
    let params = json!({ "service": "db", "version": "one", "env": "dev", "colour": "red" });
    let reply = api.post("alice", "/api/v1/tickets", json!({ "workflow": "deploy", "params": params })).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_params");
    let fields = reply.json()["error"]["details"]["fields"].as_array().unwrap().clone();
    let named: BTreeSet<&str> = fields.iter().map(|f| f["param"].as_str().unwrap()).collect();
    assert_eq!(named, BTreeSet::from(["colour", "env", "service", "version"]), "{fields:?}");
    let version = fields.iter().find(|f| f["param"] == "version").unwrap();
    assert!(version["message"].as_str().unwrap().contains("does not match the pattern"), "{version}");
    // Nothing was created.
    let list = api.get("alice", "/api/v1/tickets").await.json();
    assert_eq!(list["tickets"], json!([]));

    let reply = api.post("alice", "/api/v1/tickets", json!({ "workflow": "deploy", "params": {} })).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_params");
    assert_eq!(reply.json()["error"]["details"]["fields"].as_array().unwrap().len(), 3);
    api.kit.stop().await;
}

#[tokio::test]
async fn an_unknown_workflow_creates_nothing() {
    let api = Api::start().await;
    let reply = api.post("alice", "/api/v1/tickets", json!({ "workflow": "launch-rocket", "params": {} })).await;
    reply.assert_error(StatusCode::NOT_FOUND, "unknown_workflow");
    assert!(reply.message().contains("launch-rocket"), "{}", reply.text);
    api.kit.stop().await;
}

#[tokio::test]
async fn clients_cannot_claim_an_origin() {
    let api = Api::start().await;
    let body = json!({ "workflow": "deploy", "params": deploy_params("staging"), "origin": { "surface": "slack" } });
    let reply = api.post("alice", "/api/v1/tickets", body).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_json");
    assert!(reply.message().contains("unknown field `origin`"), "{}", reply.text);
    api.kit.stop().await;
}

#[tokio::test]
async fn tickets_are_found_by_id_and_bad_ids_are_explained() {
    let api = Api::start().await;
    let view = api.open("alice", "prod").await;
    let id = view["id"].as_str().unwrap();
    let lower = id.to_ascii_lowercase();
    let reply = api.get("erin", &format!("/api/v1/tickets/{lower}")).await;
    assert_eq!(reply.status, StatusCode::OK, "ids are read case-insensitively: {}", reply.text);
    assert_eq!(reply.json()["id"], id);

    let reply = api.get("alice", "/api/v1/tickets/DKT-999").await;
    reply.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(reply.message().contains("DKT-999"));

    let reply = api.get("alice", "/api/v1/tickets/DKT-x").await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_ticket_id");
    assert!(reply.message().contains("is not a ticket id (expected something like DKT-42)"), "{}", reply.text);
    api.kit.stop().await;
}

#[tokio::test]
async fn the_list_filters_and_pages_with_a_cursor() {
    let api = Api::start().await;
    let mut prod = Vec::new();
    let mut staging = Vec::new();
    for _ in 0..2 {
        prod.push(api.open("alice", "prod").await["id"].as_str().unwrap().to_owned());
    }
    for _ in 0..5 {
        staging.push(api.open("bob", "staging").await["id"].as_str().unwrap().to_owned());
    }

    // Every ticket, two at a time, newest first, each once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/tickets?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let reply = api.get("erin", &path).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let page = reply.json();
        let tickets = page["tickets"].as_array().unwrap();
        assert!(tickets.len() <= 2);
        for t in tickets {
            let keys: BTreeSet<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, BTreeSet::from(["created_at", "id", "requester", "state", "updated_at", "workflow"]));
            seen.push(t["id"].as_str().unwrap().to_owned());
        }
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/tickets?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 10, "the cursor never ends");
    }
    let mut expected: Vec<String> = prod.iter().chain(&staging).cloned().collect();
    expected.reverse();
    assert_eq!(seen, expected);
    assert!(pages >= 4);

    let waiting =
        api.get("erin", "/api/v1/tickets?state=awaiting_approval&workflow=deploy&requester=alice").await.json();
    let ids: Vec<&str> = waiting["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [prod[1].as_str(), prod[0].as_str()]);

    let both = api.get("erin", "/api/v1/tickets?state=awaiting_approval&state=succeeded,running,queued,approved").await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.text);
    let by_bob = api.get("erin", "/api/v1/tickets?requester=bob").await.json();
    assert_eq!(by_bob["tickets"].as_array().unwrap().len(), 5);
    let none = api.get("erin", "/api/v1/tickets?workflow=other").await.json();
    assert_eq!(none, json!({ "tickets": [], "next_cursor": null }));
    api.kit.stop().await;
}

#[tokio::test]
async fn bad_list_queries_are_400_with_the_valid_choices() {
    let api = Api::start().await;
    let reply = api.get("alice", "/api/v1/tickets?state=waiting").await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    assert!(reply.message().contains("unknown state `waiting`"), "{}", reply.text);
    assert!(reply.message().contains("awaiting_approval"), "{}", reply.text);
    assert_eq!(reply.json()["error"]["details"]["valid"].as_array().unwrap().len(), 15);

    for query in ["limit=0", "limit=501", "limit=ten", "cursor=abc", "colour=red"] {
        let reply = api.get("alice", &format!("/api/v1/tickets?{query}")).await;
        reply.assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    }
    api.kit.stop().await;
}

/// `POST /tickets` as `who` with an `Idempotency-Key`.
async fn post_keyed(api: &Api, who: &str, key: &str, body: &serde_json::Value) -> Reply {
    let request = api
        .request(Method::POST, who, "/api/v1/tickets")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .unwrap();
    api.send(request).await
}

#[tokio::test]
async fn a_request_sent_again_with_its_idempotency_key_opens_one_ticket() {
    let api = Api::start().await;
    let body = json!({ "workflow": "deploy", "params": deploy_params("staging") });
    // Two copies at the same moment (a retry racing the original): one ticket.
    let (one, two) =
        tokio::join!(post_keyed(&api, "alice", "run-42", &body), post_keyed(&api, "alice", "run-42", &body));
    let mut statuses = [one.status, two.status];
    statuses.sort();
    assert!(
        statuses == [StatusCode::CREATED, StatusCode::CONFLICT] || statuses == [StatusCode::OK, StatusCode::CREATED],
        "{statuses:?}: {} / {}",
        one.text,
        two.text
    );
    let first = if one.status == StatusCode::CREATED { one } else { two };
    let id = first.json()["id"].as_str().unwrap().to_owned();
    // Later, the same again: the same ticket, 200, however often.
    for _ in 0..2 {
        let again = post_keyed(&api, "alice", "\"run-42\"", &body).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(again.json()["id"], id.as_str());
        assert_eq!(again.headers[header::LOCATION], format!("/api/v1/tickets/{id}"));
    }
    // The key is alice's: bob's request with the same key is his own.
    let bobs = post_keyed(&api, "bob", "run-42", &body).await;
    assert_eq!(bobs.status, StatusCode::CREATED, "{}", bobs.text);
    assert_ne!(bobs.json()["id"], id.as_str());
    // The same key with another request is refused, and opens nothing.
    let other = json!({ "workflow": "deploy", "params": deploy_params("prod") });
    post_keyed(&api, "alice", "run-42", &other)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused");
    // A key that is not one.
    post_keyed(&api, "alice", "has space", &body)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_idempotency_key");
    let all = api.kit.app.tickets(&Default::default()).await.unwrap().tickets;
    assert_eq!(all.len(), 2, "alice's one ticket and bob's");
    api.kit.stop().await;
}

#[tokio::test]
async fn a_refused_keyed_request_is_decided_again_when_sent_again() {
    let api = Api::start().await;
    let bad = json!({ "workflow": "deploy", "params": { "service": "db", "version": "one", "env": "dev" } });
    post_keyed(&api, "alice", "k-1", &bad).await.assert_error(StatusCode::BAD_REQUEST, "invalid_params");
    post_keyed(&api, "alice", "k-1", &bad).await.assert_error(StatusCode::BAD_REQUEST, "invalid_params");
    let good = json!({ "workflow": "deploy", "params": deploy_params("staging") });
    assert_eq!(post_keyed(&api, "alice", "k-1", &good).await.status, StatusCode::CREATED);
    api.kit.stop().await;
}
