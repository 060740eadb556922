//! Test support: a fixture app behind the router with a token per fixture person, requests
//! in a line, and replies read as JSON.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use docket_core::{TicketId, TicketState};
use docket_testkit::TestApp;
use docket_web::WebOptions;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The fixture's people.
pub(crate) const PEOPLE: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

/// The process-wide Prometheus recorder (the app records through the global one, as it does in
/// the binary).
pub(crate) fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().expect("the recorder installs")).clone()
}

/// A fixture app behind the router.
pub(crate) struct Api {
    pub(crate) kit: TestApp,
    pub(crate) router: Router,
    tokens: HashMap<&'static str, String>,
}

impl Api {
    /// The fixture app with metrics on and the default body limit.
    pub(crate) async fn start() -> Self {
        Self::start_with(TestApp::start().await).await
    }

    /// `kit` behind the router.
    pub(crate) async fn start_with(kit: TestApp) -> Self {
        let mut tokens = HashMap::new();
        for person in PEOPLE {
            tokens.insert(person, kit.token(person).await);
        }
        let options = WebOptions { metrics: Some(metrics_handle()), ..WebOptions::default() };
        let router = docket_web::router(kit.app.clone(), options);
        Self { kit, router, tokens }
    }

    /// The token of fixture person `who`.
    pub(crate) fn token(&self, who: &str) -> &str {
        &self.tokens[who]
    }

    /// Sends `request` through the router.
    pub(crate) async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        Reply { status, headers, text: String::from_utf8(bytes.to_vec()).unwrap() }
    }

    /// `GET path` as `who` (no token if `who` is empty).
    pub(crate) async fn get(&self, who: &str, path: &str) -> Reply {
        self.send(self.request(Method::GET, who, path).body(Body::empty()).unwrap()).await
    }

    /// `POST path` with a JSON body as `who`.
    pub(crate) async fn post(&self, who: &str, path: &str, body: Value) -> Reply {
        let request = self
            .request(Method::POST, who, path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    /// A request builder with `who`'s token.
    pub(crate) fn request(&self, method: Method, who: &str, path: &str) -> axum::http::request::Builder {
        let builder = Request::builder().method(method).uri(path);
        if who.is_empty() {
            builder
        } else {
            builder.header(header::AUTHORIZATION, format!("Bearer {}", self.token(who)))
        }
    }

    /// Opens a deploy ticket as `who` and returns its view (asserting 201).
    pub(crate) async fn open(&self, who: &str, env: &str) -> Value {
        let reply =
            self.post(who, "/api/v1/tickets", json!({ "workflow": "deploy", "params": deploy_params(env) })).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json()
    }

    /// Waits for ticket `id` to reach `state`.
    pub(crate) async fn wait_for(&self, id: &str, state: TicketState) {
        self.kit.wait_for_state(&TicketId::parse(id).unwrap(), state).await;
    }

    /// Approves ticket `view` as `who` on its current digest.
    pub(crate) async fn approve(&self, who: &str, view: &Value) -> Reply {
        let id = view["id"].as_str().unwrap();
        let digest = view["digest"].as_str().unwrap();
        self.post(who, &format!("/api/v1/tickets/{id}/approve"), json!({ "digest": digest })).await
    }
}

/// Parameters of a valid deploy to `env`.
pub(crate) fn deploy_params(env: &str) -> Value {
    json!({ "service": "api", "version": "1.2.3", "env": env })
}

/// A reply, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
}

impl Reply {
    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The error code of an error body, asserting the error shape.
    pub(crate) fn code(&self) -> String {
        let body = self.json();
        let error = body["error"].as_object().unwrap_or_else(|| panic!("not an error body: {}", self.text));
        assert!(error.contains_key("message") && error.contains_key("details"), "{}", self.text);
        error["code"].as_str().unwrap().to_owned()
    }

    /// The error message.
    pub(crate) fn message(&self) -> String {
        self.json()["error"]["message"].as_str().unwrap().to_owned()
    }

    /// Asserts status and error code.
    #[track_caller]
    pub(crate) fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.code(), code, "{}", self.text);
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub(crate) event: String,
    pub(crate) id: Option<String>,
    pub(crate) data: String,
}

impl SseEvent {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// Splits complete events off the front of `buffer` (comments and keep-alives are skipped).
pub(crate) fn take_events(buffer: &mut String) -> Vec<SseEvent> {
    let mut out = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let mut event = SseEvent { event: "message".to_owned(), id: None, data: String::new() };
        let mut any = false;
        for line in block.lines() {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => event.event = value.to_owned(),
                "id" => event.id = Some(value.to_owned()),
                "data" => {
                    if any {
                        event.data.push('\n');
                    }
                    event.data.push_str(value);
                    any = true;
                }
                _ => {}
            }
        }
        if any {
            out.push(event);
        }
    }
    out
}
