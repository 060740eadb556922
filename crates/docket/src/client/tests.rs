//! The client commands against a fake Docket API on a local port: what each command sends,
//! what it prints and how it exits, including a dropped event stream resumed with
//! `Last-Event-ID`.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clap::Parser as _;
use serde_json::{Value, json};

use super::*;
use crate::cli::Cli;

const AWAITING: &str = include_str!("fixtures/awaiting.json");
const DIGEST: &str = "3f5a9c0e12ab77d41c0ffee0ddba11ad5eed5a1ef00dfacade0123456789abcd";

/// What the fake server was asked.
#[derive(Debug, Default)]
struct Seen {
    /// `METHOD path?query body`, in order.
    calls: Vec<String>,
    /// The `Last-Event-ID` of each events request.
    resumed_from: Vec<Option<String>>,
}

type Shared = Arc<Mutex<Seen>>;

fn record(seen: &Shared, call: String) {
    seen.lock().unwrap().calls.push(call);
}

fn error(status: StatusCode, code: &str, message: &str, details: Value) -> Response {
    (status, axum::Json(json!({ "error": { "code": code, "message": message, "details": details } }))).into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some("Bearer dkt_test")
}

/// The awaiting fixture with `patch`'s top-level fields replaced.
fn ticket(patch: Value) -> Value {
    let mut value: Value = serde_json::from_str(AWAITING).unwrap();
    for (key, field) in patch.as_object().unwrap() {
        value[key] = field.clone();
    }
    value
}

async fn workflow(Path(id): Path<String>) -> Response {
    if id != "deploy-service" {
        let message = format!("there is no workflow `{id}`");
        return error(StatusCode::NOT_FOUND, "unknown_workflow", &message, json!({ "workflow": id }));
    }
    axum::Json(json!({
        "id": "deploy-service",
        "title": "Deploy a service",
        "params": [
            {"name": "environment", "kind": "choice", "required": true},
            {"name": "version", "kind": "string", "required": true},
            {"name": "replicas", "kind": "integer", "required": false},
            {"name": "dry_run", "kind": "boolean", "required": false}
        ]
    }))
    .into_response()
}

/// The matcher, as far as the tests need it: one example of `deploy-service`.
async fn words(State(seen): State<Shared>, axum::Json(body): axum::Json<Value>) -> Response {
    record(&seen, format!("POST /workflows/match {body}"));
    let example = "deploy {version} to {environment}";
    let words: Vec<&str> = body["text"].as_str().unwrap_or_default().split_whitespace().collect();
    let found = |params: Value, problems: Value| json!({"workflow": "deploy-service", "example": example, "params": params, "problems": problems, "not_understood": [], "candidates": []});
    let answer = match words.as_slice() {
        ["deploy", version, "to", env] if env.starts_with("pro") && *env != "prod" => found(
            json!({"version": version, "environment": env}),
            json!([{"param": "environment", "message": "must be one of dev, staging, prod"}]),
        ),
        ["deploy", version, "to", env] => found(json!({"version": version, "environment": env}), json!([])),
        ["deploy-service", env] => {
            json!({"workflow": null, "example": null, "params": {}, "problems": [], "not_understood": [],
                    "candidates": [{"id": "deploy-service", "title": "Deploy a service", "example": example,
                                    "params": {"environment": env}, "problems": []}]})
        }
        _ => {
            json!({"workflow": null, "example": null, "params": {}, "problems": [], "not_understood": [], "candidates": []})
        }
    };
    axum::Json(answer).into_response()
}

async fn create(State(seen): State<Shared>, headers: HeaderMap, axum::Json(body): axum::Json<Value>) -> Response {
    record(&seen, format!("POST /tickets {body}"));
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "unauthenticated", "unknown or revoked token", Value::Null);
    }
    if body["params"]["version"] == "bad" {
        let fields = json!({ "fields": [
            {"param": "version", "message": "must match ^v?\\d+\\.\\d+\\.\\d+$"},
            {"param": "environment", "message": "must be one of dev, staging, prod"}
        ]});
        return error(StatusCode::BAD_REQUEST, "invalid_params", "the parameters are not valid", fields);
    }
    if body["params"]["environment"] == "dev" {
        let auto = json!({"rule": "everything-else", "outcome": "auto_approve", "explanation": "", "stages": []});
        return (StatusCode::CREATED, axum::Json(ticket(json!({"state": "queued", "decision": auto})))).into_response();
    }
    (StatusCode::CREATED, axum::Json(ticket(json!({})))).into_response()
}

async fn show(Path(id): Path<String>) -> Response {
    if id != "DKT-42" {
        return error(StatusCode::NOT_FOUND, "not_found", &format!("ticket {id} not found"), Value::Null);
    }
    axum::Json(ticket(json!({}))).into_response()
}

async fn approve(State(seen): State<Shared>, Path(id): Path<String>, axum::Json(body): axum::Json<Value>) -> Response {
    record(&seen, format!("POST /tickets/{id}/approve {body}"));
    if body["comment"] == "mine" {
        return error(StatusCode::FORBIDDEN, "own_ticket", "You cannot approve your own ticket.", Value::Null);
    }
    let stages = json!([
        {"name": "lead", "count": 1, "from": ["group:sre"], "approvers": ["bob"], "satisfied": true},
        {"name": "security", "count": 1, "from": ["group:security"], "approvers": [], "satisfied": false}
    ]);
    let mut view = ticket(json!({"reviews": [{"person": "bob", "verdict": "approve", "stage": "lead"}]}));
    view["decision"]["stages"] = stages;
    axum::Json(view).into_response()
}

async fn reject(State(seen): State<Shared>, Path(id): Path<String>, axum::Json(body): axum::Json<Value>) -> Response {
    record(&seen, format!("POST /tickets/{id}/reject {body}"));
    axum::Json(ticket(json!({"state": "rejected", "closing_reason": body["reason"]}))).into_response()
}

async fn list(State(seen): State<Shared>, RawQuery(query): RawQuery) -> Response {
    record(&seen, format!("GET /tickets?{}", query.unwrap_or_default()));
    axum::Json(json!({
        "tickets": [{"id": "DKT-42", "workflow": "deploy-service", "state": "awaiting_approval", "requester": "alice",
                     "created_at": "2026-01-05T10:42:30Z", "updated_at": "2026-01-05T10:42:30Z"}],
        "next_cursor": "41"
    }))
    .into_response()
}

fn log_line(seq: u64, step: usize, stream: &str, text: &str) -> String {
    let line = json!({"seq": seq, "run": 1, "step": step, "stream": stream, "text": text, "at": format!("2026-01-05T10:44:0{seq}Z")});
    format!("event: log\nid: {seq}\ndata: {line}\n\n")
}

fn ticket_event(state: &str, updated_at: &str) -> String {
    let view = ticket(json!({"state": state, "updated_at": updated_at}));
    format!("event: ticket\ndata: {view}\n\n")
}

/// The first connection is cut after two lines; the next resumes from `Last-Event-ID`.
async fn events(State(seen): State<Shared>, headers: HeaderMap) -> Response {
    let resumed = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    seen.lock().unwrap().resumed_from.push(resumed.clone());
    let body = match resumed.as_deref() {
        None => [
            ": keep-alive\n\n".to_owned(),
            "retry: 50\n\n".to_owned(),
            ticket_event("running", "2026-01-05T10:44:00Z"),
            log_line(1, 0, "stdout", "deployment.apps/api image updated"),
            log_line(2, 0, "stderr", "warning: slow"),
        ]
        .concat(),
        Some("2") => [
            ticket_event("running", "2026-01-05T10:44:00Z"),
            log_line(3, 1, "system", "waiting 2m"),
            ticket_event("succeeded", "2026-01-05T10:46:03Z"),
            "event: end\ndata: {\"state\": \"succeeded\"}\n\n".to_owned(),
        ]
        .concat(),
        Some(other) => format!("event: error\ndata: unexpected Last-Event-ID {other}\n\n"),
    };
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

async fn logs(RawQuery(query): RawQuery) -> Response {
    // What the stream below replays first: the lines stored so far.
    let lines = if query.as_deref().unwrap_or_default().contains("after=0") {
        json!([{"seq": 1, "run": 1, "step": 0, "stream": "stdout", "text": "deployment.apps/api image updated",
                "at": "2026-01-05T10:44:01Z"},
               {"seq": 2, "run": 1, "step": 0, "stream": "stderr", "text": "warning: slow", "at": "2026-01-05T10:44:02Z"}])
    } else {
        json!([])
    };
    axum::Json(json!({"lines": lines, "next_after": 2})).into_response()
}

/// Starts the fake API; returns its URL and what it sees.
async fn fake_server() -> (String, Shared) {
    let seen = Shared::default();
    let app = Router::new()
        .route("/api/v1/me", get(|| async { axum::Json(json!({"id": "alice", "name": "Alice Ng"})) }))
        .route(
            "/api/v1/workflows",
            get(|| async { axum::Json(json!({"workflows": [{"id": "deploy-service"}, {"id": "restart"}]})) }),
        )
        .route("/api/v1/workflows/match", post(words))
        .route("/api/v1/workflows/{id}", get(workflow))
        .route("/api/v1/tickets", post(create).get(list))
        .route("/api/v1/tickets/{id}", get(show))
        .route("/api/v1/tickets/{id}/approve", post(approve))
        .route("/api/v1/tickets/{id}/reject", post(reject))
        .route("/api/v1/tickets/{id}/events", get(events))
        .route("/api/v1/tickets/{id}/logs", get(logs))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// What running `docket ARGS…` printed, and how it ended.
struct Ran {
    out: String,
    status: String,
    result: anyhow::Result<Outcome>,
}

async fn docket(url: &str, args: &[&str]) -> Ran {
    let mut argv = vec!["docket"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--url", url, "--token", "dkt_test"]);
    let command = Cli::try_parse_from(argv).unwrap().command;
    let (mut out, mut status) = (Vec::new(), Vec::new());
    let result = execute(command, &mut out, &mut status, &Ui::plain("2026-01-05T10:47:30Z")).await;
    Ran { out: String::from_utf8(out).unwrap(), status: String::from_utf8(status).unwrap(), result }
}

fn calls(seen: &Shared) -> Vec<String> {
    seen.lock().unwrap().calls.clone()
}

#[tokio::test]
async fn request_types_params_by_the_workflow_and_shows_what_happens_next() {
    let (url, seen) = fake_server().await;
    let ran = docket(
        &url,
        &["request", "deploy-service", "environment=prod", "version=1.4.2", "replicas=3", "dry_run=no", "note=a=b"],
    )
    .await;
    assert_eq!(ran.result.unwrap(), Outcome::Success);
    let sent: Value = serde_json::from_str(calls(&seen)[0].strip_prefix("POST /tickets ").unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({"workflow": "deploy-service", "params":
            {"environment": "prod", "version": "1.4.2", "replicas": 3, "dry_run": false, "note": "a=b"}})
    );
    assert!(ran.out.starts_with("DKT-42 opened: Deploy a service (deploy-service)\n"), "{}", ran.out);
    assert!(ran.out.contains("plan       digest 3f5a9c0e12ab\n"), "{}", ran.out);
    assert!(ran.out.ends_with("next       waiting for approval: stage lead (1 of group:sre), then security\n"));
}

#[tokio::test]
async fn request_reports_every_invalid_param_and_unknown_workflows() {
    let (url, _) = fake_server().await;
    let ran = docket(&url, &["request", "deploy-service", "environment=moon", "version=bad"]).await;
    let error = ran.result.unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        "invalid parameters:\n  version: must match ^v?\\d+\\.\\d+\\.\\d+$\n  environment: must be one of dev, staging, prod"
    );
    let ran = docket(&url, &["request", "deploy-servce", "environment=prod"]).await;
    let error = format!("{:#}", ran.result.unwrap_err());
    assert_eq!(error, "there is no workflow `deploy-servce`; the workflows you can request: deploy-service, restart");
    // Words that are not name=value are a request in words, read by the server's matcher.
    let ran = docket(&url, &["request", "deploy-service", "prod"]).await;
    assert_eq!(
        ran.result.unwrap_err().to_string(),
        "not sure which workflow “deploy-service prod” asks for; the best candidates:\n  deploy-service (Deploy a \
         service) — say “deploy {version} to {environment}”\n    docket request deploy-service environment=prod\nsay \
         it again with more words, or run one of these with the missing parameters"
    );
    let ran = docket(&url, &["request", "make", "coffee"]).await;
    assert_eq!(
        ran.result.unwrap_err().to_string(),
        "no workflow matches “make coffee”; `docket workflows` lists the ones you can request"
    );
    let ran = docket(&url, &["request", "deploy 1.4.2 to produciton"]).await;
    assert_eq!(
        ran.result.unwrap_err().to_string(),
        "“deploy 1.4.2 to produciton” reads as deploy-service (“deploy {version} to {environment}”), but:\n  \
         environment: must be one of dev, staging, prod\nsay it again, or give the parameters: docket request \
         deploy-service environment=produciton version=1.4.2"
    );
}

#[tokio::test]
async fn a_request_in_words_opens_the_ticket_it_matched() {
    let (url, seen) = fake_server().await;
    let ran = docket(&url, &["request", "deploy", "1.4.2", "to", "prod"]).await;
    assert_eq!(ran.result.unwrap(), Outcome::Success);
    assert!(
        ran.out.starts_with(
            "“deploy {version} to {environment}”: docket request deploy-service environment=prod version=1.4.2\n\
             DKT-42 opened: "
        ),
        "{}",
        ran.out
    );
    let calls = seen.lock().unwrap().calls.clone();
    assert_eq!(
        calls,
        [
            r#"POST /workflows/match {"text":"deploy 1.4.2 to prod"}"#,
            r#"POST /tickets {"params":{"environment":"prod","version":"1.4.2"},"workflow":"deploy-service"}"#
        ]
    );
    let ran = docket(&url, &["request", "--json", "deploy 1.4.2 to prod"]).await;
    assert_eq!(ran.result.unwrap(), Outcome::Success);
    let view: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(view["id"], "DKT-42", "--json prints only the API's ticket: {}", ran.out);
}

#[tokio::test]
async fn request_wait_follows_the_run_across_a_dropped_connection() {
    let (url, seen) = fake_server().await;
    let ran = docket(&url, &["request", "deploy-service", "environment=dev", "version=1.4.2", "--wait"]).await;
    assert_eq!(ran.result.unwrap(), Outcome::Success);
    assert_eq!(seen.lock().unwrap().resumed_from, vec![None, Some("2".to_owned())]);
    let followed = ran.out.split_once("next       auto-approved; queued\n").unwrap().1;
    assert_eq!(
        followed,
        "10:44:00 ▸ running…
10:44:01 rollout │ deployment.apps/api image updated
10:44:02 rollout ! warning: slow
10:44:03 bake    │ waiting 2m
10:46:03 ▸ succeeded
"
    );
}

#[tokio::test]
async fn logs_follow_prints_each_line_once_and_status_apart() {
    let (url, seen) = fake_server().await;
    let ran = docket(&url, &["logs", "DKT-42", "--follow"]).await;
    assert_eq!(ran.result.unwrap(), Outcome::Success);
    // The stored lines are read first; the stream goes on after them.
    assert_eq!(seen.lock().unwrap().resumed_from, vec![Some("2".to_owned())]);
    assert_eq!(
        ran.out,
        "10:44:01 rollout │ deployment.apps/api image updated\n10:44:02 rollout ! warning: slow\n10:44:03 bake    │ waiting 2m\n"
    );
    assert_eq!(ran.status, "10:44:00 ▸ running…\n10:46:03 ▸ succeeded\n");
    let ran = docket(&url, &["logs", "DKT-42"]).await;
    assert_eq!(ran.result.unwrap(), Outcome::Success);
    assert_eq!(ran.out, "10:44:01 rollout │ deployment.apps/api image updated\n10:44:02 rollout ! warning: slow\n");
}

#[tokio::test]
async fn approve_shows_the_plan_and_sends_its_exact_digest() {
    let (url, seen) = fake_server().await;
    let ran = docket(&url, &["approve", "DKT-42", "--digest", "3F5A9C", "-c", "ok"]).await;
    assert_eq!(ran.result.unwrap(), Outcome::Success);
    assert_eq!(
        calls(&seen),
        vec![format!("POST /tickets/DKT-42/approve {{\"comment\":\"ok\",\"digest\":\"{DIGEST}\"}}")]
    );
    assert!(
        ran.out
            .starts_with("Approving DKT-42: Deploy a service (requested by alice)\nplan       digest 3f5a9c0e12ab\n")
    );
    assert!(
        ran.out.ends_with("approved stage lead; waiting for stage security (1 of group:security)\n"),
        "{}",
        ran.out
    );
}

#[tokio::test]
async fn approve_refuses_a_different_digest_and_shows_refusals_as_worded() {
    let (url, seen) = fake_server().await;
    let ran = docket(&url, &["approve", "DKT-42", "--digest", "3f5a9d"]).await;
    let error = ran.result.unwrap_err().to_string();
    assert_eq!(
        error,
        "not approved: the plan's digest is now 3f5a9c0e12ab, not 3f5a9d; look at it again with `docket show DKT-42`"
    );
    assert!(calls(&seen).is_empty());
    let ran = docket(&url, &["approve", "DKT-42", "--comment", "mine"]).await;
    assert_eq!(ran.result.unwrap_err().to_string(), "You cannot approve your own ticket.");
    let ran = docket(&url, &["approve", "DKT-7"]).await;
    assert_eq!(ran.result.unwrap_err().to_string(), "ticket DKT-7 not found");
}

#[tokio::test]
async fn show_reject_and_list() {
    let (url, seen) = fake_server().await;
    let ran = docket(&url, &["show", "DKT-42"]).await;
    assert!(ran.out.starts_with("DKT-42  Deploy a service (deploy-service@9c1d2e3f4a5b)\n"), "{}", ran.out);
    let ran = docket(&url, &["show", "DKT-42", "--json"]).await;
    let raw: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(raw["a_field_from_a_newer_server"], true);
    let ran = docket(&url, &["reject", "DKT-42", "--reason", "not this week"]).await;
    assert_eq!(ran.out, "DKT-42: rejected: not this week\n");
    let ran =
        docket(&url, &["list", "--mine", "--state", "awaiting_approval", "--state", "queued", "--limit", "1"]).await;
    assert_eq!(ran.result.unwrap(), Outcome::Success);
    assert_eq!(
        ran.out,
        "ID      STATE              WORKFLOW        REQUESTER  AGE\n\
         DKT-42  awaiting_approval  deploy-service  alice      5m\n\
         … more than 1; raise --limit to see them\n"
    );
    let calls = calls(&seen);
    assert_eq!(calls[0], r#"POST /tickets/DKT-42/reject {"reason":"not this week"}"#);
    assert_eq!(calls[1], "GET /tickets?state=awaiting_approval&state=queued&requester=alice&limit=1");
}

#[tokio::test]
async fn a_server_that_is_not_there_is_named() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let ran = docket(&url, &["show", "DKT-42"]).await;
    let error = ran.result.unwrap_err().to_string();
    assert!(error.starts_with(&format!("cannot reach the Docket server at {url}: ")), "{error}");
}

#[tokio::test]
async fn server_commands_are_not_the_client_s() {
    let command = Cli::try_parse_from(["docket", "check"]).unwrap().command;
    let result = execute(command, &mut Vec::new(), &mut Vec::new(), &Ui::plain("2026-01-05T10:47:30Z")).await;
    assert_eq!(result.unwrap_err().to_string(), "not a client command");
}
