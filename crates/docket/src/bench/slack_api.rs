//! A stand-in for Slack's Web API while `docket bench --target slack` runs: answers every
//! method `ok: true` with the fields Docket reads (`ts`, `channel`, `view.id`, …), counts the
//! calls, and keeps the modals Docket opened by trigger id, so the bench can check that each
//! slash command's modal was opened and submit it back as Slack would.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

#[derive(Default)]
struct Calls {
    by_method: HashMap<String, u64>,
    views: HashMap<String, Value>,
    next: u64,
}

/// The running stand-in.
pub(crate) struct FakeWebApi {
    addr: SocketAddr,
    calls: Arc<Mutex<Calls>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWebApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeWebApi {
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let calls = Arc::new(Mutex::new(Calls::default()));
        let router = axum::Router::new().route("/api/{method}", axum::routing::any(answer)).with_state(calls.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { addr, calls, task })
    }

    /// The base URL for `slack.api_url`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// How many times `method` was called.
    pub(crate) fn count(&self, method: &str) -> u64 {
        self.lock().by_method.get(method).copied().unwrap_or(0)
    }

    /// The modal opened with `trigger_id`, if any.
    pub(crate) fn view(&self, trigger_id: &str) -> Option<Value> {
        self.lock().views.get(trigger_id).cloned()
    }

    /// How many of `trigger_ids` opened a modal.
    pub(crate) fn opened(&self, trigger_ids: impl Iterator<Item = String>) -> usize {
        let calls = self.lock();
        trigger_ids.filter(|t| calls.views.contains_key(t)).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn answer(
    State(calls): State<Arc<Mutex<Calls>>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    let json_body =
        headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    let body: Value = if json_body { serde_json::from_slice(&body).unwrap_or(Value::Null) } else { Value::Null };
    let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut calls = calls.lock().unwrap_or_else(PoisonError::into_inner);
    *calls.by_method.entry(method.clone()).or_default() += 1;
    calls.next += 1;
    let n = calls.next;
    let ts = format!("1700000000.{n:06}");
    axum::Json(match method.as_str() {
        "views.open" | "views.update" | "views.push" => {
            let view = body.get("view").cloned().unwrap_or(Value::Null);
            if method == "views.open" {
                calls.views.insert(field("trigger_id"), view.clone());
            }
            json!({"ok": true, "view": {"id": format!("V{n}"), "callback_id": view.get("callback_id")}})
        }
        "chat.postMessage" => json!({"ok": true, "channel": field("channel"), "ts": ts, "message": {"ts": ts}}),
        "chat.update" => json!({"ok": true, "channel": field("channel"), "ts": field("ts")}),
        "chat.postEphemeral" => json!({"ok": true, "message_ts": ts}),
        "conversations.open" => json!({"ok": true, "channel": {"id": format!("D{n}")}}),
        "users.info" => json!({"ok": true, "user": {"id": "U0", "profile": {"email": "nobody@example.com"}}}),
        "auth.test" => json!({"ok": true, "user_id": "U0DOCKETBOT", "bot_id": "B0DOCKET"}),
        _ => json!({"ok": true}),
    })
}
