//! Health, readiness, metrics, and the OpenAPI document checked against the router and
//! against real replies.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use docket_core::TicketState;
use docket_web::WebOptions;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::support::Api;

#[tokio::test]
async fn health_and_readiness_need_no_token() {
    let api = Api::start().await;
    let health = api.get("", "/healthz").await;
    assert_eq!((health.status, health.text.as_str()), (StatusCode::OK, "ok"));
    let ready = api.get("", "/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    api.kit.stop().await;
}

#[tokio::test]
async fn metrics_show_ticket_counts_for_every_state() {
    let api = Api::start().await;
    let view = api.open("alice", "staging").await;
    api.wait_for(view["id"].as_str().unwrap(), TicketState::Succeeded).await;
    api.open("alice", "prod").await;

    let reply = api.get("", "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    for state in TicketState::ALL {
        let name = format!("docket_tickets{{state=\"{}\"}}", state.as_str());
        assert!(reply.text.lines().any(|l| l.starts_with(&name)), "{name} missing:\n{}", reply.text);
    }
    assert!(reply.text.contains("docket_queue_depth"), "{}", reply.text);
    assert!(reply.text.contains("docket_outbox_lag_seconds"), "{}", reply.text);

    let off = docket_web::router(api.kit.app.clone(), WebOptions::default());
    let response = off.oneshot(axum::http::Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    api.kit.stop().await;
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    out
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_served() {
    let api = Api::start().await;
    let reply = api.get("", "/api/v1/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK, "no token needed: {}", reply.text);
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let table: BTreeSet<(String, String)> =
        docket_web::route_table().into_iter().map(|(method, path)| (method.to_owned(), path)).collect();
    assert_eq!(documented_routes(&doc), table);

    // And the router really serves each one: no route-level 404 or 405.
    for (method, path) in &table {
        let path = path.replace("{id}", if path.contains("workflows") { "deploy" } else { "DKT-1" });
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let request = api.request(method.clone(), "dave", &path).body(Body::empty()).unwrap();
        let reply = api.send(request).await;
        assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if reply.status == StatusCode::NOT_FOUND {
            assert!(!reply.message().starts_with("there is no API route"), "{method} {path}: {}", reply.text);
        }
    }
    api.kit.stop().await;
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap_or_else(|| panic!("not an object: {value}")).keys().cloned().collect()
}

fn schema_keys(doc: &Value, name: &str) -> BTreeSet<String> {
    keys(&doc["components"]["schemas"][name]["properties"])
}

/// The views the API sends have exactly the fields the document promises.
#[tokio::test]
async fn replies_have_the_documented_shapes() {
    let api = Api::start().await;
    let doc = api.get("", "/api/v1/openapi.json").await.json();

    let staging = api.open("alice", "staging").await;
    let id = staging["id"].as_str().unwrap().to_owned();
    api.wait_for(&id, TicketState::Succeeded).await;
    let ticket = api.get("alice", &format!("/api/v1/tickets/{id}")).await.json();
    assert_eq!(keys(&ticket), schema_keys(&doc, "Ticket"));
    assert_eq!(keys(&ticket["links"]), schema_keys(&doc, "TicketLinks"));
    assert_eq!(keys(&ticket["decision"]), schema_keys(&doc, "Decision"));
    assert_eq!(keys(&ticket["plan"]), schema_keys(&doc, "Plan"));
    assert_eq!(keys(&ticket["plan"]["steps"][0]), schema_keys(&doc, "StepPlan"));
    assert_eq!(keys(&ticket["runs"][0]), schema_keys(&doc, "Run"));
    assert_eq!(keys(&ticket["runs"][0]["steps"][0]), schema_keys(&doc, "StepRun"));
    assert_eq!(keys(&ticket["runs"][0]["outcome"]), schema_keys(&doc, "Outcome"));

    let prod = api.open("alice", "prod").await;
    let approved = api.approve("bob", &prod).await.json();
    assert_eq!(keys(&approved["decision"]["stages"][0]), schema_keys(&doc, "Stage"));
    assert_eq!(keys(&approved["reviews"][0]), schema_keys(&doc, "Review"));
    let prod_id = prod["id"].as_str().unwrap();
    let commented = api
        .post("bob", &format!("/api/v1/tickets/{prod_id}/comment"), serde_json::json!({ "text": "hi" }))
        .await
        .json();
    assert_eq!(keys(&commented["comments"][0]), schema_keys(&doc, "Comment"));

    let list = api.get("alice", "/api/v1/tickets").await.json();
    assert_eq!(keys(&list), schema_keys(&doc, "TicketList"));
    assert_eq!(keys(&list["tickets"][0]), schema_keys(&doc, "TicketSummary"));
    let workflows = api.get("alice", "/api/v1/workflows").await.json();
    assert_eq!(keys(&workflows), schema_keys(&doc, "WorkflowList"));
    assert_eq!(keys(&workflows["workflows"][0]), schema_keys(&doc, "WorkflowSummary"));
    let workflow = api.get("alice", "/api/v1/workflows/deploy").await.json();
    assert_eq!(keys(&workflow), schema_keys(&doc, "Workflow"));
    assert_eq!(keys(&workflow["params"][0]), schema_keys(&doc, "Param"));
    let logs = api.get("alice", &format!("/api/v1/tickets/{id}/logs")).await.json();
    assert_eq!(keys(&logs), schema_keys(&doc, "LogPage"));
    assert_eq!(keys(&logs["lines"][0]), schema_keys(&doc, "LogLine"));
    let me = api.get("alice", "/api/v1/me").await.json();
    assert_eq!(keys(&me), schema_keys(&doc, "Person"));
    let error = api.get("alice", "/api/v1/tickets/DKT-999").await.json();
    assert_eq!(keys(&error), schema_keys(&doc, "Error"));
    assert_eq!(
        keys(&error["error"]),
        keys(&doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"])
    );
    let audit = api.get("dave", "/api/v1/audit?limit=1").await;
    let record: Value = serde_json::from_str(audit.text.lines().next().unwrap()).unwrap();
    assert_eq!(keys(&record), schema_keys(&doc, "AuditRecord"));
    api.kit.stop().await;
}
