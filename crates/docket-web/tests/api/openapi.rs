//! The OpenAPI document against the API's real replies: every reply a scenario provokes, from
//! tickets through logs, events and the audit log to errors, must have a status its operation
//! documents and a body its schema accepts (with `additionalProperties: false` and every field
//! required, a field added to a view without its schema fails here). Every operation must have
//! had a success checked.

use std::collections::BTreeSet;
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use docket_core::StepResult;
use docket_core::TicketState;
use docket_testkit::{TestApp, base_plugins, results};
use serde_json::{Value, json};

use crate::support::{Api, Reply, deploy_params, take_events};

/// A workflow whose only step fails, for `retry`.
const FLAKY: &str = r#"
id: flaky
title: Flaky
description: Fails every time.
category: Tests
risk: low
params: []
steps:
  - name: fail
    exec: ["false"]
"#;

/// The served document, and which operations had a success checked.
struct Document {
    doc: Value,
    succeeded: Mutex<BTreeSet<(String, String)>>,
}

impl Document {
    async fn fetch(api: &Api) -> Self {
        let reply = api.get("", "/api/v1/openapi.json").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let document = Self { doc: reply.json(), succeeded: Mutex::default() };
        document.check("GET", "/api/v1/openapi.json", &reply);
        document
    }

    /// The documented path `uri` is an instance of (`/api/v1/tickets/DKT-1` → `…/{id}`).
    fn template(&self, uri: &str) -> String {
        let path = uri.split('?').next().unwrap();
        let segments: Vec<&str> = path.split('/').collect();
        let matches = |template: &str| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')))
        };
        let paths = self.doc["paths"].as_object().unwrap();
        // A literal path (`/audit/verify`) wins over a template that also matches.
        let mut found: Vec<&String> = paths.keys().filter(|t| matches(t)).collect();
        found.sort_by_key(|t| t.matches('{').count());
        found.first().map(|t| (*t).clone()).unwrap_or_else(|| panic!("{path} is not documented"))
    }

    /// A validator for `schema`, resolving `#/components/…` in this document.
    fn validator(&self, schema: &Value) -> jsonschema::Validator {
        let mut root = json!({ "components": self.doc["components"] });
        for (key, value) in schema.as_object().unwrap() {
            root[key] = value.clone();
        }
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema {schema}: {e}"))
    }

    fn validate(&self, schema: &Value, instance: &Value, what: &str) {
        let validator = self.validator(schema);
        let errors: Vec<String> =
            validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{what}: {instance}\ndoes not match {schema}:\n{}", errors.join("\n"));
    }

    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value["$ref"].as_str() {
            Some(target) => self.doc.pointer(&target[1..]).unwrap_or_else(|| panic!("{target}")),
            None => value,
        }
    }

    /// Checks `reply` to `method uri` against the operation's documented responses.
    fn check(&self, method: &str, uri: &str, reply: &Reply) {
        let template = self.template(uri);
        let what = format!("{method} {uri} → {}", reply.status);
        let operation = &self.doc["paths"][&template][method.to_ascii_lowercase()];
        assert!(operation.is_object(), "{what}: {method} {template} is not documented");
        let response = &operation["responses"][reply.status.as_str()];
        assert!(response.is_object(), "{what}: status not documented\n{}", reply.text);
        let response = self.resolve(response);
        let content_type = reply.headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap()).unwrap_or("");
        let essence = |media: &str| media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let content = response["content"].as_object().and_then(|c| {
            c.iter().find(|(media, _)| essence(media) == essence(content_type)).map(|(_, content)| content)
        });
        let content = content.unwrap_or_else(|| panic!("{what}: {content_type} is not documented: {response}"));
        let schema = &content["schema"];
        match essence(content_type).as_str() {
            "application/json" => self.validate(schema, &reply.json(), &what),
            "application/x-ndjson" => {
                for line in reply.text.lines() {
                    self.validate(schema, &serde_json::from_str(line).unwrap(), &what);
                }
            }
            "text/event-stream" => self.check_events(schema, &reply.text, &what),
            "text/plain" | "text/csv" => assert_eq!(schema["type"], "string", "{what}"),
            other => panic!("{what}: no check for {other}"),
        }
        if reply.status.is_success() {
            self.succeeded.lock().unwrap().insert((method.to_ascii_lowercase(), template));
        }
    }

    /// Each event as a reader sees it (`event`, `data`, the last `id`), then its data against
    /// the schema its name selects.
    fn check_events(&self, schema: &Value, text: &str, what: &str) {
        let variants = self.resolve(schema)["oneOf"].as_array().unwrap();
        let mut buffer = text.to_owned();
        let events = take_events(&mut buffer);
        assert!(!events.is_empty(), "{what}: no events");
        let mut last_id: Option<String> = None;
        for event in events {
            last_id = event.id.clone().or(last_id);
            let mut seen = json!({ "event": event.event, "data": event.data });
            if let Some(id) = &last_id {
                seen["id"] = json!(id);
            }
            self.validate(schema, &seen, what);
            let variant = variants
                .iter()
                .find(|v| v["properties"]["event"]["enum"][0] == event.event)
                .unwrap_or_else(|| panic!("{what}: event {} is not documented", event.event));
            let data = &variant["properties"]["data"];
            assert_eq!(data["contentMediaType"], "application/json", "{what}");
            self.validate(&data["contentSchema"], &event.json(), &format!("{what} event {}", event.event));
        }
    }
}

/// Sends `request` and checks the reply.
async fn sent(api: &Api, doc: &Document, request: axum::http::Request<Body>) -> Reply {
    let (method, uri) = (request.method().to_string(), request.uri().to_string());
    let reply = api.send(request).await;
    doc.check(&method, &uri, &reply);
    reply
}

async fn get(api: &Api, doc: &Document, who: &str, uri: &str) -> Reply {
    let reply = api.get(who, uri).await;
    doc.check("GET", uri, &reply);
    reply
}

async fn post(api: &Api, doc: &Document, who: &str, uri: &str, body: Value) -> Reply {
    let reply = api.post(who, uri, body).await;
    doc.check("POST", uri, &reply);
    reply
}

fn expect(reply: &Reply, status: StatusCode) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text);
    reply.json()
}

#[tokio::test]
async fn every_reply_matches_the_document() {
    let kit = TestApp::builder()
        .workflow("flaky.yaml", FLAKY)
        .plugins(base_plugins().with(results::plugins()))
        .runner(|_| results::runner(StepResult::table(results::sales(3, 3))))
        .workflow("report.yaml", crate::results::REPORT)
        .start()
        .await;
    let api = Api::start_with(kit).await;
    let doc = Document::fetch(&api).await;

    expect(&get(&api, &doc, "alice", "/api/v1/me").await, StatusCode::OK);
    expect(&get(&api, &doc, "alice", "/api/v1/workflows").await, StatusCode::OK);
    expect(&get(&api, &doc, "alice", "/api/v1/workflows/deploy").await, StatusCode::OK);
    expect(&get(&api, &doc, "alice", "/api/v1/workflows/nope").await, StatusCode::NOT_FOUND);
    // Words, read by the matcher every chat uses.
    let words = |text: &str| json!({ "text": text });
    let found = expect(
        &post(&api, &doc, "alice", "/api/v1/workflows/match", words("deploy api 1.2.3 to prod")).await,
        StatusCode::OK,
    );
    assert_eq!(found["workflow"], "deploy", "{found}");
    assert_eq!(found["params"], json!({ "service": "api", "version": "1.2.3", "env": "prod" }), "{found}");
    let unsure = expect(&post(&api, &doc, "alice", "/api/v1/workflows/match", words("to prod")).await, StatusCode::OK);
    assert_eq!(unsure["workflow"], serde_json::Value::Null, "{unsure}");
    assert_eq!(unsure["candidates"][0]["id"], "deploy", "{unsure}");
    assert_eq!(unsure["candidates"][0]["params"], json!({ "env": "prod" }), "{unsure}");
    post(&api, &doc, "alice", "/api/v1/workflows/match", words("  "))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_text");

    // A ticket that runs to the end: its view, logs, events, and lists.
    let staging = post(
        &api,
        &doc,
        "alice",
        "/api/v1/tickets",
        json!({ "workflow": "deploy", "params": deploy_params("staging") }),
    )
    .await;
    let id = expect(&staging, StatusCode::CREATED)["id"].as_str().unwrap().to_owned();
    assert_eq!(staging.headers[header::LOCATION], format!("/api/v1/tickets/{id}"));
    api.wait_for(&id, TicketState::Succeeded).await;
    let ticket = expect(&get(&api, &doc, "alice", &format!("/api/v1/tickets/{id}")).await, StatusCode::OK);
    assert!(!ticket["runs"][0]["steps"].as_array().unwrap().is_empty(), "{ticket}");
    let logs =
        expect(&get(&api, &doc, "alice", &format!("/api/v1/tickets/{id}/logs?after=0&limit=5")).await, StatusCode::OK);
    assert!(!logs["lines"].as_array().unwrap().is_empty(), "{logs}");
    let events = get(&api, &doc, "alice", &format!("/api/v1/tickets/{id}/events")).await;
    assert!(events.text.contains("event: log") && events.text.contains("event: end"), "{}", events.text);
    for query in ["", "?limit=1", "?state=succeeded,running&state=queued&workflow=deploy&requester=alice"] {
        expect(&get(&api, &doc, "alice", &format!("/api/v1/tickets{query}")).await, StatusCode::OK);
    }
    let page = expect(&get(&api, &doc, "alice", "/api/v1/tickets?limit=1").await, StatusCode::OK);
    let cursor = page["next_cursor"].as_str().unwrap();
    expect(&get(&api, &doc, "alice", &format!("/api/v1/tickets?limit=1&cursor={cursor}")).await, StatusCode::OK);

    // A report's result, as JSON and as CSV.
    let report = expect(
        &post(&api, &doc, "alice", "/api/v1/tickets", json!({ "workflow": "sales" })).await,
        StatusCode::CREATED,
    );
    let report_id = report["id"].as_str().unwrap().to_owned();
    api.wait_for(&report_id, TicketState::Succeeded).await;
    let kept = expect(&get(&api, &doc, "alice", &format!("/api/v1/tickets/{report_id}/results")).await, StatusCode::OK);
    assert_eq!(kept["results"][0]["row_count"], 3, "{kept}");
    let csv = get(&api, &doc, "alice", &format!("/api/v1/tickets/{report_id}/results.csv?step=1")).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    get(&api, &doc, "alice", &format!("/api/v1/tickets/{id}/results.csv"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    get(&api, &doc, "alice", &format!("/api/v1/tickets/{report_id}/results.csv?step=0"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query");

    // A production ticket through every decision.
    let prod = expect(
        &post(&api, &doc, "alice", "/api/v1/tickets", json!({ "workflow": "deploy", "params": deploy_params("prod") }))
            .await,
        StatusCode::CREATED,
    );
    let prod_id = prod["id"].as_str().unwrap().to_owned();
    let path = |action: &str| format!("/api/v1/tickets/{prod_id}/{action}");
    let digest = prod["digest"].as_str().unwrap();
    // It waits for bob's approval, not alice's (she asked for it).
    let waiting = expect(&get(&api, &doc, "bob", "/api/v1/me/waiting").await, StatusCode::OK);
    assert_eq!(waiting["tickets"][0]["id"], prod_id.as_str(), "{waiting}");
    assert_eq!(waiting["more"], false);
    let none = expect(&get(&api, &doc, "alice", "/api/v1/me/waiting").await, StatusCode::OK);
    assert_eq!(none["tickets"], json!([]), "{none}");
    let own = post(&api, &doc, "alice", &path("approve"), json!({ "digest": digest })).await;
    own.assert_error(StatusCode::FORBIDDEN, "own_ticket");
    let stale = post(&api, &doc, "bob", &path("approve"), json!({ "digest": "0".repeat(64) })).await;
    stale.assert_error(StatusCode::CONFLICT, "stale_digest");
    expect(
        &post(&api, &doc, "bob", &path("approve"), json!({ "digest": digest, "comment": "fine" })).await,
        StatusCode::OK,
    );
    expect(&post(&api, &doc, "bob", &path("comment"), json!({ "text": "looks right" })).await, StatusCode::OK);
    expect(
        &post(&api, &doc, "carol", &path("request-changes"), json!({ "reason": "use 1.2.4" })).await,
        StatusCode::OK,
    );
    let mut params = deploy_params("prod");
    params["version"] = json!("1.2.4");
    let bad = post(&api, &doc, "alice", &path("amend"), json!({ "params": { "version": "x" } })).await;
    bad.assert_error(StatusCode::BAD_REQUEST, "invalid_params");
    expect(&post(&api, &doc, "alice", &path("amend"), json!({ "params": params })).await, StatusCode::OK);
    let blank = post(&api, &doc, "carol", &path("reject"), json!({ "reason": " " })).await;
    blank.assert_error(StatusCode::BAD_REQUEST, "bad_text");
    expect(&post(&api, &doc, "carol", &path("reject"), json!({ "reason": "not this week" })).await, StatusCode::OK);
    post(&api, &doc, "carol", &path("reject"), json!({ "reason": "again" }))
        .await
        .assert_error(StatusCode::CONFLICT, "wrong_state");

    // Cancelled with an empty body and with `null`, which the document allows.
    for body in [Body::empty(), Body::from("null")] {
        let view = expect(
            &post(
                &api,
                &doc,
                "alice",
                "/api/v1/tickets",
                json!({ "workflow": "deploy", "params": deploy_params("prod") }),
            )
            .await,
            StatusCode::CREATED,
        );
        let uri = format!("/api/v1/tickets/{}/cancel", view["id"].as_str().unwrap());
        let request = api
            .request(Method::POST, "alice", &uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .unwrap();
        let cancelled = expect(&sent(&api, &doc, request).await, StatusCode::OK);
        assert_eq!(cancelled["state"], "cancelled");
    }

    // A failed ticket, retried.
    let flaky = expect(
        &post(&api, &doc, "alice", "/api/v1/tickets", json!({ "workflow": "flaky" })).await,
        StatusCode::CREATED,
    );
    let flaky_id = flaky["id"].as_str().unwrap().to_owned();
    api.wait_for(&flaky_id, TicketState::Failed).await;
    expect(&get(&api, &doc, "alice", &format!("/api/v1/tickets/{flaky_id}")).await, StatusCode::OK);
    let retry =
        api.request(Method::POST, "alice", &format!("/api/v1/tickets/{flaky_id}/retry")).body(Body::empty()).unwrap();
    expect(&sent(&api, &doc, retry).await, StatusCode::OK);

    // Tokens: one's own, made, listed and revoked; everyone's for an admin.
    let made = expect(
        &post(&api, &doc, "alice", "/api/v1/tokens", json!({ "name": "laptop", "expires": "30d" })).await,
        StatusCode::CREATED,
    );
    let token_id = made["token"]["id"].as_str().unwrap().to_owned();
    expect(&get(&api, &doc, "alice", "/api/v1/tokens").await, StatusCode::OK);
    expect(&get(&api, &doc, "dave", "/api/v1/tokens?person=alice").await, StatusCode::OK);
    post(&api, &doc, "alice", "/api/v1/tokens", json!({ "person": "bob", "name": "x" }))
        .await
        .assert_error(StatusCode::FORBIDDEN, "not_your_tokens");
    let revoke =
        api.request(Method::POST, "alice", &format!("/api/v1/tokens/{token_id}/revoke")).body(Body::empty()).unwrap();
    assert_eq!(expect(&sent(&api, &doc, revoke).await, StatusCode::OK)["status"], "revoked");

    // The audit log, for admins only.
    let audit = get(&api, &doc, "dave", "/api/v1/audit?limit=50").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    assert!(audit.text.lines().count() > 5, "{}", audit.text);
    expect(&get(&api, &doc, "dave", "/api/v1/audit/verify").await, StatusCode::OK);
    get(&api, &doc, "alice", "/api/v1/audit").await.assert_error(StatusCode::FORBIDDEN, "admin_only");

    // Errors, each in the documented shape with a documented status and code.
    get(&api, &doc, "", "/api/v1/me").await.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    get(&api, &doc, "alice", "/api/v1/tickets/hello").await.assert_error(StatusCode::BAD_REQUEST, "invalid_ticket_id");
    get(&api, &doc, "alice", "/api/v1/tickets/DKT-999").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    for query in ["after=", "after=-1", "after=%2B1", "limit=0", "colour=red"] {
        let reply = get(&api, &doc, "alice", &format!("/api/v1/tickets/{id}/logs?{query}")).await;
        reply.assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    }
    let unknown = post(&api, &doc, "alice", "/api/v1/tickets", json!({ "workflow": "nope" })).await;
    unknown.assert_error(StatusCode::NOT_FOUND, "unknown_workflow");
    let typo = post(&api, &doc, "alice", "/api/v1/tickets", json!({ "workflow": "deploy", "origin": {} })).await;
    typo.assert_error(StatusCode::BAD_REQUEST, "invalid_json");
    let text = api
        .request(Method::POST, "alice", "/api/v1/tickets")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("deploy"))
        .unwrap();
    sent(&api, &doc, text).await.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    // A reload of the unchanged files, by an admin; anyone else is refused.
    let reloaded = expect(&post(&api, &doc, "dave", "/api/v1/config/reload", json!({})).await, StatusCode::OK);
    assert_eq!(reloaded["changed"], json!([]), "{reloaded}");
    post(&api, &doc, "alice", "/api/v1/config/reload", json!({}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "admin_only");

    // The operational endpoints.
    for uri in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(get(&api, &doc, "", uri).await.status, StatusCode::OK, "{uri}");
    }

    let checked = doc.succeeded.lock().unwrap().clone();
    let served: BTreeSet<(String, String)> =
        docket_web::route_table().into_iter().map(|(m, p)| (m.to_ascii_lowercase(), p)).collect();
    let unchecked: Vec<_> = served.difference(&checked).collect();
    assert!(unchecked.is_empty(), "no success reply checked for {unchecked:?}");
    api.kit.stop().await;
}

/// A view that gained a field without its schema, or a reply with a status its operation does
/// not document, is caught: the checker is strict enough to fail.
#[tokio::test]
async fn the_checker_refuses_undocumented_fields_and_statuses() {
    let api = Api::start().await;
    let doc = Document::fetch(&api).await;
    let mut me = api.get("alice", "/api/v1/me").await;
    let mut body = me.json();
    body["nickname"] = json!("al");
    me.text = body.to_string();
    let extra = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.check("GET", "/api/v1/me", &me)));
    assert!(extra.is_err(), "an undocumented field passed");
    me.status = StatusCode::IM_A_TEAPOT;
    let status = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.check("GET", "/api/v1/me", &me)));
    assert!(status.is_err(), "an undocumented status passed");
    api.kit.stop().await;
}

/// `POST /tickets` is described with this server's catalog: what its schema accepts, the API
/// accepts, and what it refuses, the API refuses.
#[tokio::test]
async fn new_tickets_are_described_by_the_servers_catalog() {
    let kit = TestApp::builder()
        .workflow("flaky.yaml", FLAKY)
        .plugins(base_plugins().with(results::plugins()))
        .runner(|_| results::runner(StepResult::table(results::sales(3, 3))))
        .workflow("report.yaml", crate::results::REPORT)
        .start()
        .await;
    let api = Api::start_with(kit).await;
    let doc = Document::fetch(&api).await;
    let schema = json!({ "$ref": "#/components/schemas/NewTicket" });
    let validator = doc.validator(&schema);
    let mut blank_version = deploy_params("staging");
    blank_version["version"] = json!("  ");
    let mut extra = deploy_params("staging");
    extra["colour"] = json!("red");
    let cases = [
        (json!({ "workflow": "deploy", "params": deploy_params("staging") }), StatusCode::CREATED),
        (json!({ "workflow": "flaky" }), StatusCode::CREATED),
        (json!({ "workflow": "flaky", "params": {} }), StatusCode::CREATED),
        (json!({ "workflow": "deploy" }), StatusCode::BAD_REQUEST),
        (
            json!({ "workflow": "deploy", "params": { "service": "api", "version": "x", "env": "prod" } }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "workflow": "deploy", "params": { "service": "db", "version": "1.2.3", "env": "prod" } }),
            StatusCode::BAD_REQUEST,
        ),
        (json!({ "workflow": "deploy", "params": blank_version }), StatusCode::BAD_REQUEST),
        (json!({ "workflow": "deploy", "params": extra }), StatusCode::BAD_REQUEST),
        (json!({ "workflow": "flaky", "params": { "x": 1 } }), StatusCode::BAD_REQUEST),
        (json!({ "workflow": "nope" }), StatusCode::NOT_FOUND),
    ];
    for (body, status) in cases {
        assert_eq!(validator.is_valid(&body), status.is_success(), "the schema on {body}");
        let reply = post(&api, &doc, "alice", "/api/v1/tickets", body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
    }
    api.kit.stop().await;
}
