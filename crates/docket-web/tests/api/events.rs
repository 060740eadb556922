//! Logs a page at a time, and a ticket followed live as server-sent events over a real socket.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use docket_core::TicketState;
use futures_util::StreamExt as _;
use serde_json::json;

use docket_testkit::TestApp;

use crate::support::{Api, SseEvent, take_events};

/// How long any one wait for an event may take.
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test]
async fn logs_are_read_a_page_at_a_time() {
    let api = Api::start().await;
    let view = api.open("alice", "staging").await;
    let id = view["id"].as_str().unwrap();
    api.wait_for(id, TicketState::Succeeded).await;

    let all = api.get("alice", &format!("/api/v1/tickets/{id}/logs")).await.json();
    let lines = all["lines"].as_array().unwrap().clone();
    assert!(lines.len() >= 2, "the echo line and Docket's own notes: {lines:?}");
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(all["next_after"], seqs.len());
    let echo = lines.iter().find(|l| l["stream"] == "stdout").unwrap();
    assert_eq!(echo["text"], "deploying api 1.2.3 to staging");
    assert_eq!(echo["run"], 1);
    assert_eq!(echo["step"], 0);
    assert!(echo["at"].is_string());

    let mut after = 0;
    let mut paged = Vec::new();
    loop {
        let page = api.get("alice", &format!("/api/v1/tickets/{id}/logs?after={after}&limit=1")).await.json();
        let got = page["lines"].as_array().unwrap();
        assert!(got.len() <= 1);
        if got.is_empty() {
            assert_eq!(page["next_after"], after);
            break;
        }
        paged.extend(got.iter().cloned());
        after = page["next_after"].as_u64().unwrap();
    }
    assert_eq!(paged, lines);

    api.get("alice", &format!("/api/v1/tickets/{id}/logs?limit=0"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    api.get("alice", "/api/v1/tickets/DKT-404/logs").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    api.kit.stop().await;
}

/// Reads events from `stream` into `buffer` until one named `name` arrives; returns every
/// event read up to and including it.
async fn read_until<S>(stream: &mut S, buffer: &mut String, name: &str) -> Vec<SseEvent>
where
    S: futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Unpin,
{
    let mut events = Vec::new();
    loop {
        let found = take_events(buffer);
        let done = found.iter().any(|e| e.event == name);
        events.extend(found);
        if done {
            return events;
        }
        let chunk = tokio::time::timeout(PATIENCE, stream.next())
            .await
            .unwrap_or_else(|_| panic!("no `{name}` event; so far: {events:#?}"))
            .unwrap_or_else(|| panic!("the stream closed before `{name}`; so far: {events:#?}"))
            .unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test]
async fn a_ticket_is_followed_live_over_a_socket_until_it_ends() {
    let api = Api::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, api.router.clone()).into_future());

    let view = api.open("alice", "prod").await;
    let id = view["id"].as_str().unwrap().to_owned();
    let client = reqwest::Client::new();
    let response = client
        .get(format!("http://{address}/api/v1/tickets/{id}/events"))
        .bearer_auth(api.token("erin"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/event-stream"));
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();

    let first = read_until(&mut stream, &mut buffer, "ticket").await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].json()["state"], "awaiting_approval");
    assert_eq!(first[0].json()["id"], id.as_str());

    assert_eq!(api.approve("bob", &view).await.status, StatusCode::OK);
    let after_bob = read_until(&mut stream, &mut buffer, "ticket").await;
    assert_eq!(after_bob.last().unwrap().json()["decision"]["stages"][0]["approvers"], json!(["bob"]));

    assert_eq!(api.approve("carol", &view).await.status, StatusCode::OK);
    let rest = read_until(&mut stream, &mut buffer, "end").await;
    let end = rest.last().unwrap();
    assert_eq!(end.json(), json!({ "state": "succeeded" }));

    let logs: Vec<&SseEvent> = rest.iter().filter(|e| e.event == "log").collect();
    let seqs: Vec<u64> = logs.iter().map(|e| e.id.as_deref().unwrap().parse().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "each line once, in order");
    for event in &logs {
        assert_eq!(event.json()["seq"].as_u64(), event.id.as_deref().and_then(|i| i.parse().ok()));
    }
    assert!(logs.iter().any(|e| e.json()["text"] == "deploying api 1.2.3 to prod"), "{logs:#?}");
    let states: Vec<String> =
        rest.iter().filter(|e| e.event == "ticket").map(|e| e.json()["state"].as_str().unwrap().to_owned()).collect();
    assert_eq!(states.last().map(String::as_str), Some("succeeded"), "{states:?}");
    let stored = api.get("alice", &format!("/api/v1/tickets/{id}/logs")).await.json();
    assert_eq!(stored["lines"].as_array().unwrap().len(), logs.len(), "every stored line was streamed");

    // After `end` the server closes the stream.
    let closed = tokio::time::timeout(PATIENCE, stream.next()).await.unwrap();
    assert!(closed.is_none(), "the stream should close after `end`: {closed:?}");

    server.abort();
    api.kit.stop().await;
}

#[tokio::test]
async fn a_finished_ticket_replays_from_last_event_id_and_ends() {
    let api = Api::start().await;
    let view = api.open("alice", "staging").await;
    let id = view["id"].as_str().unwrap();
    api.wait_for(id, TicketState::Succeeded).await;
    let total = api.get("alice", &format!("/api/v1/tickets/{id}/logs")).await.json()["next_after"].as_u64().unwrap();
    assert!(total >= 2);

    let events_after = |header: Option<&str>, query: &str| {
        let mut request = api.request(Method::GET, "bob", &format!("/api/v1/tickets/{id}/events{query}"));
        if let Some(last) = header {
            request = request.header("last-event-id", last);
        }
        request.body(Body::empty()).unwrap()
    };
    for (header, query, first_seq) in
        [(None, "", 1), (Some("1"), "", 2), (None, "?after=1", 2), (Some("1"), "?after=0", 2)]
    {
        let reply = api.send(events_after(header, query)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let mut text = reply.text.clone();
        let events = take_events(&mut text);
        let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(names.first(), Some(&"ticket"), "{names:?}");
        assert_eq!(names.last(), Some(&"end"), "{names:?}");
        let seqs: Vec<u64> = events.iter().filter_map(|e| e.id.as_deref()).map(|i| i.parse().unwrap()).collect();
        assert_eq!(seqs, (first_seq..=total).collect::<Vec<_>>(), "{header:?} {query}");
    }
    let reply = api.send(events_after(Some("abc"), "")).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_last_event_id");
    api.get("bob", "/api/v1/tickets/DKT-404/events").await.assert_error(StatusCode::NOT_FOUND, "not_found");
    api.get("", &format!("/api/v1/tickets/{id}/events"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    api.kit.stop().await;
}

const CHATTY: &str = r#"id: chatty
title: Prints a lot
description: Prints numbered lines.
category: Tests
risk: low
params:
  - { name: env, type: choice, choices: [prod] }
steps:
  - name: count
    exec: [seq, "1", "400"]
"#;

/// With a live buffer of two events the follower lags all the time; it reads the store again
/// and still sends every line once, in order.
#[tokio::test]
async fn a_lagging_reader_still_gets_every_line_once_in_order() {
    let kit = TestApp::builder().workflow("chatty.yaml", CHATTY).settings(|s| s.live_capacity = 2).start().await;
    let api = Api::start_with(kit).await;
    let reply =
        api.post("alice", "/api/v1/tickets", json!({ "workflow": "chatty", "params": { "env": "prod" } })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let view = reply.json();
    let id = view["id"].as_str().unwrap().to_owned();

    let request =
        api.request(Method::GET, "erin", &format!("/api/v1/tickets/{id}/events")).body(Body::empty()).unwrap();
    let router = api.router.clone();
    let reader = tokio::spawn(async move {
        let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
        axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap()
    });
    assert_eq!(api.approve("bob", &view).await.status, StatusCode::OK);
    assert_eq!(api.approve("carol", &view).await.status, StatusCode::OK);
    let body = tokio::time::timeout(PATIENCE, reader).await.expect("the stream ends").unwrap();
    let mut text = String::from_utf8(body.to_vec()).unwrap();
    let events = take_events(&mut text);
    assert_eq!(events.last().map(|e| e.event.as_str()), Some("end"));
    let seqs: Vec<u64> =
        events.iter().filter(|e| e.event == "log").map(|e| e.json()["seq"].as_u64().unwrap()).collect();
    let stored = api.get("alice", &format!("/api/v1/tickets/{id}/logs?limit=10000")).await.json();
    let total = stored["lines"].as_array().unwrap().len() as u64;
    assert!(total >= 400);
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    let numbers: Vec<String> = events
        .iter()
        .filter(|e| e.event == "log" && e.json()["stream"] == "stdout")
        .map(|e| e.json()["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers, (1..=400).map(|n| n.to_string()).collect::<Vec<_>>());
    api.kit.stop().await;
}
