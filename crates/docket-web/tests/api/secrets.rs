//! Regression: `${VAR}` values written into an `http` step (its URL's userinfo, path and query,
//! a header, the body) used to appear in plain text in the ticket's plan — in the API's answers,
//! the live `ticket` event, the web page and the database. Every place a plan is shown or stored
//! is checked here for each secret, as itself and in the encodings it travels in (percent-encoded
//! in a URL, base64 inside an echoed `Authorization: Basic` header).

use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine as _;
use docket_core::TicketState;
use docket_testkit::TestApp;
use docket_web::WebOptions;
use futures_util::StreamExt as _;
use serde_json::json;

use crate::browser::Browser;
use crate::support::{Api, take_events};

const TOKEN: &str = "tok_5f3a9c1e7b2d8046";
const PASSWORD: &str = "Zq9xK2mP7wLr";
const SIGNING: &str = "k3y with space&more";

/// Every form of every secret that must never be shown or stored.
fn forbidden() -> Vec<String> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("deployer:{PASSWORD}"));
    vec![
        TOKEN.to_owned(),
        PASSWORD.to_owned(),
        SIGNING.to_owned(),
        "k3y%20with%20space%26more".to_owned(),
        "k3y+with+space%26more".to_owned(),
        // The part of `deployer:PASSWORD` in base64 that depends on the password alone.
        basic[12..].to_owned(),
    ]
}

#[track_caller]
fn assert_clean(place: &str, text: &str) {
    for secret in forbidden() {
        assert!(!text.contains(&secret), "{place} shows `{secret}`:\n{text}");
    }
}

/// A server that answers every request with what it received: method, target, the
/// `Authorization` and `X-Api-Key` headers, and the body.
async fn echo_server() -> String {
    async fn echo(method: axum::http::Method, uri: Uri, headers: HeaderMap, body: String) -> String {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        format!(
            "{method} {uri}\nauthorization: {}\nx-api-key: {}\nbody: {body}\n",
            header("authorization"),
            header("x-api-key")
        )
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, axum::Router::new().fallback(echo)).into_future());
    format!("127.0.0.1:{}", address.port())
}

fn workflow(host: &str) -> String {
    format!(
        r#"id: hook
title: Call the release hook
params:
  - {{ name: env, type: choice, choices: [staging, prod] }}
steps:
  - name: call
    plan:
      http:
        method: GET
        url: "http://deployer:${{API_PASSWORD}}@{host}/check/${{API_TOKEN}}?env={{{{env}}}}&sig=${{SIGNING_KEY}}"
        headers: {{ X-Api-Key: "${{API_TOKEN}}" }}
    http:
      method: POST
      url: "http://deployer:${{API_PASSWORD}}@{host}/hooks/${{API_TOKEN}}?key=${{API_TOKEN}}&env={{{{env}}}}"
      headers: {{ Authorization: "Bearer ${{API_TOKEN}}" }}
      body: '{{"signing": "${{SIGNING_KEY}}", "env": "{{{{env}}}}"}}'
"#
    )
}

#[tokio::test]
async fn secrets_in_an_http_step_never_reach_the_plan_wherever_it_is_shown_or_stored() {
    let host = echo_server().await;
    let kit = TestApp::builder()
        .config(&docket_testkit::fixture::DOCKET_YAML.replace("params.env == \"staging\"", "false"))
        .workflows(&[("hook.yaml", &workflow(&host))])
        .env("API_TOKEN", TOKEN)
        .env("API_PASSWORD", PASSWORD)
        .env("SIGNING_KEY", SIGNING)
        .start()
        .await;
    let dir = kit.dir().to_path_buf();
    let api = Api::start_with(kit).await;

    // The answer to the request, and the ticket read back.
    let created = api.post("alice", "/api/v1/tickets", json!({"workflow": "hook", "params": {"env": "prod"}})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_clean("POST /api/v1/tickets", &created.text);
    let view = created.json();
    assert_eq!(view["state"], "awaiting_approval", "{view:#}");
    let output = view["plan"]["steps"][0]["output"].as_str().unwrap();
    assert!(output.contains("authorization: Basic "), "the dry run ran against the echo server: {output}");
    assert!(output.contains("[redacted]"), "{output}");
    let id = view["id"].as_str().unwrap().to_owned();
    assert_clean("GET /api/v1/tickets/{id}", &api.get("bob", &format!("/api/v1/tickets/{id}")).await.text);
    assert_clean("GET /api/v1/tickets", &api.get("bob", "/api/v1/tickets").await.text);

    // The live `ticket` event.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, api.router.clone()).into_future());
    let response = reqwest::Client::new()
        .get(format!("http://{address}/api/v1/tickets/{id}/events"))
        .bearer_auth(api.token("erin"))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let first = loop {
        if let Some(event) = take_events(&mut buffer).into_iter().find(|e| e.event == "ticket") {
            break event;
        }
        let chunk = stream.next().await.unwrap().unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    };
    assert!(first.data.contains("/hooks/"), "{}", first.data);
    assert_clean("the SSE `ticket` event", &first.data);
    server.abort();

    // The web ticket page.
    let mut browser =
        Browser::new(docket_web::router(api.kit.app.clone(), WebOptions { demo: true, ..Default::default() }));
    browser.act_as("bob").await;
    let page = browser.visit(&format!("/tickets/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("/hooks/"), "the page shows the plan");
    assert_clean("the web ticket page", &page.body);

    // The run uses the real values and its log shows none of them, not even echoed back.
    assert_eq!(api.approve("bob", &view).await.status, StatusCode::OK);
    assert_eq!(api.approve("carol", &view).await.status, StatusCode::OK);
    api.wait_for(&id, TicketState::Succeeded).await;
    let logs = api.get("alice", &format!("/api/v1/tickets/{id}/logs")).await.text;
    assert!(logs.contains("authorization: Bearer [redacted]"), "the step sent its header: {logs}");
    assert_clean("the run log", &logs);
    assert_clean("the audit", &api.get("dave", "/api/v1/audit").await.text);

    // Nothing stored holds a secret: every table of the database, and its write-ahead log.
    for file in ["docket.db", "docket.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.join(file)) else { continue };
        assert_clean(file, &String::from_utf8_lossy(&bytes));
    }
    api.kit.stop().await;
}
