//! `/audit` for admins, and `/me`.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use crate::support::Api;

#[tokio::test]
async fn only_admins_read_the_audit_log() {
    let api = Api::start().await;
    for person in ["alice", "bob", "erin"] {
        let reply = api.get(person, "/api/v1/audit").await;
        reply.assert_error(StatusCode::FORBIDDEN, "admin_only");
        api.get(person, "/api/v1/audit/verify").await.assert_error(StatusCode::FORBIDDEN, "admin_only");
    }
    api.get("", "/api/v1/audit").await.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    api.kit.stop().await;
}

#[tokio::test]
async fn the_audit_log_exports_as_json_lines_and_verifies() {
    let api = Api::start().await;
    let view = api.open("alice", "prod").await;
    api.approve("alice", &view).await.assert_error(StatusCode::FORBIDDEN, "own_ticket");

    let reply = api.get("dave", "/api/v1/audit").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/x-ndjson");
    let records: Vec<Value> = reply.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(records.len() >= 5, "{records:#?}");
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record["seq"], i as u64 + 1);
        let keys: Vec<&str> = record.as_object().unwrap().keys().map(String::as_str).collect();
        for key in ["seq", "at", "actor", "action", "ticket", "details", "prev_hash", "hash"] {
            assert!(keys.contains(&key), "{key} missing from {record}");
        }
        if i > 0 {
            assert_eq!(record["prev_hash"], records[i - 1]["hash"]);
        }
    }
    assert!(records.iter().any(|r| r["action"] == "ticket.requested" && r["ticket"] == view["id"]));
    assert!(records.iter().any(|r| r["action"] == "ticket.refused" && r["details"]["code"] == "own_ticket"));

    let page = api.get("dave", "/api/v1/audit?after=2&limit=2").await;
    let seqs: Vec<u64> =
        page.text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [3, 4]);
    api.get("dave", "/api/v1/audit?limit=0").await.assert_error(StatusCode::BAD_REQUEST, "invalid_query");

    let reply = api.get("dave", "/api/v1/audit/verify").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let verdict = reply.json();
    assert_eq!(verdict["intact"], true);
    let total = api.kit.app.audit_records(0, 10_000).await.unwrap();
    assert_eq!(verdict["records"], total.len());
    assert_eq!(verdict["head"], total.last().unwrap().hash);
    api.kit.stop().await;
}

#[tokio::test]
async fn me_is_the_tokens_person() {
    let api = Api::start().await;
    let reply = api.get("bob", "/api/v1/me").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json(), json!({ "id": "bob", "name": "Bob Ruiz", "groups": ["sre"], "admin": false }));
    let dave = api.get("dave", "/api/v1/me").await.json();
    assert_eq!(dave["admin"], true);
    api.kit.stop().await;
}
