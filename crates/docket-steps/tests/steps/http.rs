//! `http` against a real server on loopback: what is sent, how statuses are judged, and how
//! refused connections, timeouts and cancellations end.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use docket_app::Mode;
use docket_core::ticket::StepOutcome;
use docket_core::{Action, JsonTemplate};
use docket_steps::HttpAction;
use docket_steps::HttpRunner;
use serde_json::json;

use crate::support::{Case, failure, tpl};

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// A server on a free loopback port. `/status/N` answers N; `/slow` answers after 10 s; `/big`
/// answers 10 KiB; anything else answers 201 with two lines of body.
async fn server() -> (String, Log) {
    async fn handle(
        State(seen): State<Log>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, String) {
        seen.lock().unwrap().push(Seen { method, uri: uri.clone(), headers, body });
        let path = uri.path();
        if let Some(code) = path.strip_prefix("/status/") {
            return (StatusCode::from_u16(code.parse().unwrap()).unwrap(), format!("status {code}"));
        }
        match path {
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                (StatusCode::OK, "late".to_owned())
            }
            "/big" => (StatusCode::OK, "0123456789abcdef\n".repeat(640)),
            _ => (StatusCode::CREATED, "{\"ok\":true}\r\nsecond line\n".to_owned()),
        }
    }
    let seen = Log::default();
    let app = Router::new().fallback(handle).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

fn http(method: &str, url: &str) -> HttpAction {
    HttpAction {
        method: method.to_owned(),
        url: tpl(url),
        headers: BTreeMap::new(),
        body: None,
        expect: Vec::new(),
        timeout: None,
    }
}

fn runner() -> HttpRunner {
    HttpRunner::new().unwrap()
}

#[tokio::test]
async fn method_url_headers_and_body_are_rendered() {
    let (base, seen) = server().await;
    let mut action = http("post", &format!("{base}/deploy/{{{{service}}}}?version={{{{version}}}}"));
    action.headers = [("X-Service", "{{service}}"), ("Authorization", "Bearer {{token}}")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), tpl(v)))
        .collect();
    action.body = Some(JsonTemplate::Object(vec![
        ("service".to_owned(), JsonTemplate::Text(tpl("{{service}}"))),
        ("replicas".to_owned(), JsonTemplate::Text(tpl("{{replicas}}"))),
        ("note".to_owned(), JsonTemplate::Text(tpl("release {{version}}"))),
        ("canary".to_owned(), JsonTemplate::Plain(json!(true))),
    ]));
    let case = Case::new(Action::new(action)).params(json!({
        "service": "api", "version": "1.2", "replicas": 3, "token": "t0k"
    }));

    let (outcome, log) = case.run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());

    let seen = seen.lock().unwrap()[0].clone();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.uri.to_string(), "/deploy/api?version=1.2");
    assert_eq!(seen.headers["x-service"], "api");
    assert_eq!(seen.headers["authorization"], "Bearer t0k");
    assert_eq!(seen.headers["idempotency-key"], "DKT-42-run1-step0");
    assert_eq!(seen.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(body, json!({"service": "api", "replicas": 3, "note": "release 1.2", "canary": true}));

    let status_line = &log.system()[0];
    assert!(status_line.starts_with(&format!("POST {base}/deploy/api?version=1.2 → 201 Created (")), "{status_line}");
    assert!(status_line.ends_with(" ms)"), "{status_line}");
    assert_eq!(log.stdout(), ["{\"ok\":true}", "second line"]);
}

#[tokio::test]
async fn an_idempotency_key_set_by_the_workflow_wins() {
    let (base, seen) = server().await;
    let mut action = http("PUT", &format!("{base}/x"));
    action.headers.insert("Idempotency-Key".to_owned(), tpl("mine-{{n}}"));
    let (outcome, _) = Case::new(Action::new(action)).params(json!({"n": 7})).run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded);
    let seen = seen.lock().unwrap()[0].clone();
    let keys: Vec<_> = seen.headers.get_all("idempotency-key").iter().collect();
    assert_eq!(keys, ["mine-7"]);
}

#[tokio::test]
async fn statuses_are_judged_against_expect_or_2xx() {
    let (base, _) = server().await;
    let cases: &[(&str, &[u16], Option<&str>)] = &[
        ("202", &[202], None),
        ("204", &[], None),
        ("302", &[302], None),
        ("200", &[202], Some("answered 200 OK, expected 202")),
        ("500", &[], Some("answered 500 Internal Server Error, expected a 2xx status")),
        ("404", &[200, 201], Some("answered 404 Not Found, expected 200 or 201")),
        ("302", &[], Some("answered 302 Found, expected a 2xx status")),
    ];
    for (status, expect, failing) in cases {
        let mut action = http("GET", &format!("{base}/status/{status}"));
        action.expect = expect.to_vec();
        let (outcome, log) = Case::new(Action::new(action)).run(&runner()).await;
        match failing {
            None => assert_eq!(outcome, StepOutcome::Succeeded, "{status}: {}", log.dump()),
            Some(message) => {
                let (code, got) = failure(&outcome);
                assert_eq!(code, None);
                assert_eq!(got, format!("GET {base}/status/{status} {message}"));
            }
        }
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_failed_outcome() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (outcome, log) = Case::new(Action::new(http("GET", &format!("http://{addr}/")))).run(&runner()).await;
    let message = failure(&outcome).1;
    assert!(message.starts_with(&format!("GET http://{addr}/ failed: ")), "{message}");
    assert!(message.to_lowercase().contains("connection refused"), "{message}");
    assert!(!message.contains('\n'));
    assert_eq!(log.system().last().unwrap(), message);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let (base, _) = server().await;
    let mut action = http("GET", &format!("{base}/slow"));
    action.timeout = Some(docket_core::Duration::from_millis(300));
    let start = Instant::now();
    let (outcome, _) = Case::new(Action::new(action)).run(&runner()).await;
    assert_eq!(failure(&outcome).1, format!("GET {base}/slow timed out after 300ms"));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn cancelling_aborts_the_request() {
    let (base, _) = server().await;
    let case = Case::new(Action::new(http("GET", &format!("{base}/slow"))));
    let pause = tokio::time::sleep(Duration::from_millis(200));
    let (outcome, _, after_cancel, ()) = case.run_cancelled_after(&runner(), pause).await;
    assert_eq!(failure(&outcome).1, format!("cancelled; GET {base}/slow aborted"));
    assert!(after_cancel < Duration::from_secs(2), "took {after_cancel:?}");
}

#[tokio::test]
async fn only_http_and_https_urls_are_sent() {
    for (url, message) in [
        ("file:///etc/passwd", "only http and https URLs are allowed, not file: URLs"),
        ("ftp://example.com/x", "only http and https URLs are allowed, not ftp: URLs"),
        ("not a url", "the URL \"not a url\" is not valid: relative URL without a base"),
    ] {
        let (outcome, _) = Case::new(Action::new(http("GET", url))).run(&runner()).await;
        assert_eq!(failure(&outcome).1, message);
    }
}

#[tokio::test]
async fn bad_methods_and_header_values_are_failed_outcomes_that_hide_the_value() {
    let (base, seen) = server().await;
    let (outcome, _) = Case::new(Action::new(http("NOT A METHOD", &base))).run(&runner()).await;
    assert_eq!(failure(&outcome).1, "\"NOT A METHOD\" is not an HTTP method");

    let mut action = http("GET", &base);
    action.headers.insert("X-Token".to_owned(), tpl("{{token}}"));
    let case = Case::new(Action::new(action)).params(json!({"token": "secret\r\nX-Injected: yes"}));
    let (outcome, log) = case.run(&runner()).await;
    let message = failure(&outcome).1;
    assert!(message.contains("X-Token") && !message.contains("secret"), "{message}");
    assert!(!log.dump().contains("secret"));
    assert!(seen.lock().unwrap().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn the_log_gets_only_an_excerpt_of_a_big_body() {
    let (base, _) = server().await;
    let (outcome, log) = Case::new(Action::new(http("GET", &format!("{base}/big")))).run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded);
    let excerpt: usize = log.stdout().iter().map(|l| l.len() + 1).sum();
    assert!((2000..=2049).contains(&excerpt), "{excerpt} bytes of excerpt");
    assert_eq!(log.system().last().unwrap(), "response body cut after 2048 of 10880 bytes");
}

#[tokio::test]
async fn a_plan_step_is_sent_like_a_run_step() {
    let (base, seen) = server().await;
    let case = Case::new(Action::new(http("GET", &format!("{base}/status/200")))).mode(Mode::Plan);
    let (outcome, _) = case.run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn credentials_in_the_url_are_not_shown() {
    let (base, seen) = server().await;
    let url = base.replace("http://", "http://deployer:hunter2@");
    let (outcome, log) = Case::new(Action::new(http("GET", &format!("{url}/status/200")))).run(&runner()).await;
    assert_eq!(outcome, StepOutcome::Succeeded);
    assert!(!log.dump().contains("hunter2"), "{}", log.dump());
    assert!(seen.lock().unwrap()[0].headers.contains_key("authorization"), "credentials are still sent");
}
