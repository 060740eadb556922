//! Errors at the edge: authentication, bodies that are not what they should be, routes that
//! do not exist, and input meant to break things.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use docket_testkit::TestApp;
use docket_web::WebOptions;
use serde_json::json;

use crate::support::{Api, Reply, deploy_params};

async fn audit_actions(api: &Api) -> Vec<String> {
    api.kit.app.audit_records(0, 10_000).await.unwrap().into_iter().map(|r| r.entry.action).collect()
}

#[tokio::test]
async fn no_token_is_401_with_a_challenge_and_no_audit_record() {
    let api = Api::start().await;
    let before = audit_actions(&api).await;
    let reply = api.get("", "/api/v1/tickets").await;
    reply.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert!(reply.message().contains("Authorization: Bearer"), "{}", reply.text);

    let basic = Request::get("/api/v1/me").header(header::AUTHORIZATION, "Basic YWxpY2U6c2VjcmV0").body(Body::empty());
    let reply = api.send(basic.unwrap()).await;
    reply.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(audit_actions(&api).await, before, "a missing or non-bearer header is not an attempt");
    api.kit.stop().await;
}

#[tokio::test]
async fn an_unknown_token_is_401_and_audited() {
    let api = Api::start().await;
    for token in ["dkt_0123456789abcdef", "not-even-ours"] {
        let request = Request::post("/api/v1/tickets")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "workflow": "deploy", "params": deploy_params("staging") }).to_string()));
        let reply = api.send(request.unwrap()).await;
        reply.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
    }
    api.kit.app.flush_rejections().await;
    let records = api.kit.app.audit_records(0, 10_000).await.unwrap();
    let failures: Vec<_> = records.iter().filter(|r| r.entry.action == "api.authentication_failed").collect();
    let counted: u64 = failures.iter().map(|r| r.entry.details["repeated"].as_u64().unwrap_or(1)).sum();
    assert_eq!(counted, 2, "{records:#?}");
    assert_eq!(failures[0].entry.actor, "api:unauthenticated");
    let detail = failures[0].entry.details["detail"].as_str().unwrap();
    assert!(detail.contains("POST /api/v1/tickets"), "{detail}");
    assert!(!detail.contains("0123456789abcdef"), "the token itself is never recorded: {detail}");
    // And nothing was created.
    let list = api.get("alice", "/api/v1/tickets").await.json();
    assert_eq!(list["tickets"], json!([]));
    api.kit.stop().await;
}

#[tokio::test]
async fn malformed_json_unknown_fields_and_wrong_content_types() {
    let api = Api::start().await;
    let post = |content_type: Option<&str>, body: &str| {
        let mut request = api.request(Method::POST, "alice", "/api/v1/tickets");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        request.body(Body::from(body.to_owned())).unwrap()
    };
    let reply = api.send(post(Some("application/json"), r#"{"workflow": "deploy", "params": {"#)).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_json");
    assert!(reply.message().starts_with("the request body is not valid JSON: EOF"), "{}", reply.text);
    assert_eq!(reply.json()["error"]["details"]["line"], 1);

    let reply = api.send(post(Some("application/json"), r#"{"workflow": "deploy", "parms": {}}"#)).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_json");
    assert!(reply.message().contains("unknown field `parms`, expected `workflow` or `params`"), "{}", reply.text);

    let reply = api.send(post(Some("application/json"), r#"{"workflow": 7}"#)).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_json");
    assert!(reply.message().contains("invalid type: integer `7`, expected a string"), "{}", reply.text);

    let reply = api.send(post(Some("application/json"), "")).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_json");

    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let reply = api.send(post(content_type, r#"{"workflow": "deploy", "params": {}}"#)).await;
        reply.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }

    let reply = api.send(post(Some("application/json; charset=utf-8"), r#"{"workflow": "deploy"}"#)).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_params");
    api.kit.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let api = Api::start().await;
    let huge = "x".repeat(300 * 1024);
    let body = json!({ "workflow": "deploy", "params": { "version": huge } });
    let reply = api.post("alice", "/api/v1/tickets", body).await;
    reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");

    // The limit is the caller's to choose.
    let small = docket_web::router(api.kit.app.clone(), WebOptions { max_body_bytes: 64, ..WebOptions::default() });
    let request = api
        .request(Method::POST, "alice", "/api/v1/tickets")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "workflow": "deploy", "params": deploy_params("staging") }).to_string()))
        .unwrap();
    let response = tower::ServiceExt::oneshot(small, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    api.kit.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let api = Api::start().await;
    let reply = api.get("alice", "/api/v1/nothing/here").await;
    reply.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(reply.message().contains("GET /api/v1/nothing/here"), "{}", reply.text);
    for path in ["/api/v1/tickets/DKT-1/approve/extra", "/api/v1", "/api/v1/", "/api/v1/tickets/"] {
        api.get("", path).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    }

    let delete = api.request(Method::DELETE, "alice", "/api/v1/tickets/DKT-1").body(Body::empty()).unwrap();
    let reply = api.send(delete).await;
    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let reply = api.get("alice", "/api/v1/tickets/DKT-1/approve").await;
    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    api.kit.stop().await;
}

/// Whatever arrives, the answer is a well-formed reply below 500.
#[tokio::test]
async fn hostile_input_never_breaks_the_server() {
    let api = Api::start_with(TestApp::start().await).await;
    let ids = [
        "DKT-99999999999999999999",
        "DKT-18446744073709551615",
        "DKT--1",
        "%00",
        "DKT-1%0A",
        "%F0%9F%92%A3",
        "..%2F..%2Fetc%2Fpasswd",
        "x",
    ];
    let long = "A".repeat(5000);
    let mut paths: Vec<String> = ids.iter().map(|id| format!("/api/v1/tickets/{id}")).collect();
    paths.push(format!("/api/v1/tickets/{long}"));
    paths.push(format!("/api/v1/workflows/{long}"));
    paths.extend(ids.iter().map(|id| format!("/api/v1/tickets/{id}/logs?after=-1&limit=99999999999999999999")));
    paths.push("/api/v1/tickets?state=%FF&cursor=-5".to_owned());
    paths.push("/api/v1/tickets?limit=%00".to_owned());
    for path in &paths {
        let reply = api.get("alice", path).await;
        assert!(reply.status.is_client_error(), "{path}: {} {}", reply.status, reply.text);
        reply.code();
    }
    let bodies = [
        json!(null),
        json!([]),
        json!("deploy"),
        json!({ "workflow": "deploy", "params": [] }),
        json!({ "workflow": "deploy", "params": { "version": { "nested": [1, 2, 3] }, "env": 1e308 } }),
        json!({ "workflow": "deploy", "params": { "service": "api\u{0000}", "version": "1.2.3\n", "env": "prod" } }),
        json!({ "workflow": "../../etc", "params": {} }),
    ];
    for body in bodies {
        let reply = api.post("alice", "/api/v1/tickets", body.clone()).await;
        assert!(reply.status.is_client_error(), "{body}: {} {}", reply.status, reply.text);
        reply.code();
    }
    let reply: Reply = api.post("bob", "/api/v1/tickets/DKT-1/approve", json!({ "digest": "é".repeat(32) })).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_digest");
    api.kit.stop().await;
}
