//! The Slack Web API client: bearer token, JSON bodies (form bodies for read methods),
//! per-method budgets and per-channel pacing ([`budget`]), 429s retried with the outbound
//! toolkit's backoff and never before `Retry-After` (seconds or an HTTP-date), and concurrent
//! edits of one message coalesced so only the latest content is sent ([`coalesce`]). A
//! `views.open` whose [`Trigger`] would expire before its budget or a `Retry-After` lets it go
//! is dropped, not queued. `ok: false` answers are logged and counted in
//! `docket_slack_api_errors_total{method,error}`.

mod budget;
mod coalesce;
mod error;
mod tagged;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use docket_app::outbound::{Backoff, RetryPolicy, retry_after};
use serde_json::{Value, json};
use tokio::time::Instant;

pub use error::ApiError;
pub use tagged::TAG_EVENT;

use crate::settings::SlackSettings;
use budget::Budgets;
use coalesce::Coalescer;
use docket_http::warn_throttled;

/// Longest a single HTTP call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Waits between answers of 429: a second, doubling, at most a minute, and never sooner than
/// `Retry-After`. A longer `Retry-After` is left to the outbox's backoff.
const RATE_LIMITED: Backoff = Backoff { base: Duration::from_secs(1), max: Duration::from_secs(60) };
/// How long a `trigger_id` opens a modal after Slack sent it.
const TRIGGER_LIFE: Duration = Duration::from_secs(3);

/// A `trigger_id` and when it stops working: 3 s after Slack sent it, counted from when Docket
/// received it.
#[derive(Clone, Debug)]
pub(crate) struct Trigger {
    id: String,
    expires: Instant,
}

impl Trigger {
    /// A trigger id that arrived just now.
    pub(crate) fn received(id: impl Into<String>) -> Self {
        Self { id: id.into(), expires: Instant::now() + TRIGGER_LIFE }
    }
}

const VIEWS_OPEN: &str = "views.open";

/// A modal not opened because its trigger would expire first (counted).
pub(crate) fn view_dropped() -> ApiError {
    metrics::counter!("docket_slack_views_dropped_total").increment(1);
    ApiError::TriggerExpired { method: VIEWS_OPEN.to_owned() }
}

/// The Web API client. Cheap to clone; clones share budgets.
#[derive(Clone)]
pub struct SlackClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    token: String,
    rate_limited: RetryPolicy,
    budgets: Budgets,
    coalescer: Coalescer,
}

impl std::fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackClient").field("base", &self.inner.base).finish_non_exhaustive()
    }
}

/// A file to share in a channel or thread.
#[derive(Debug)]
pub struct Upload<'a> {
    /// The channel to share it in.
    pub channel: &'a str,
    /// The thread, if any.
    pub thread_ts: Option<&'a str>,
    /// Its file name (`DKT-7-step1.csv`).
    pub filename: &'a str,
    /// Its title in Slack.
    pub title: &'a str,
    /// A message posted with it (may be empty).
    pub comment: &'a str,
    /// Its bytes.
    pub content: &'a [u8],
}

/// How a body is sent.
enum Body<'a> {
    Json(&'a Value),
    Form(&'a [(&'a str, &'a str)]),
}

impl SlackClient {
    /// A client for the Web API at `settings.api_url`, with the bot token.
    pub fn new(settings: &SlackSettings) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Network { method: "client".to_owned(), detail: e.to_string() })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base: settings.api_url.trim_end_matches('/').to_owned(),
                token: settings.bot_token.clone(),
                rate_limited: RetryPolicy {
                    backoff: RATE_LIMITED,
                    attempts: settings.max_rate_limit_retries.saturating_add(1),
                },
                budgets: Budgets::new(settings.channel_interval),
                coalescer: Coalescer::default(),
            }),
        })
    }

    /// Calls `method` with a JSON body and returns Slack's answer (with `ok: true`).
    pub async fn call(&self, method: &str, body: &Value) -> Result<Value, ApiError> {
        let channel = body.get("channel").and_then(Value::as_str);
        self.inner.budgets.acquire(method, channel).await;
        self.send(method, Body::Json(body), None).await
    }

    /// Calls a read method with a form body (`users.info`).
    pub async fn call_form(&self, method: &str, fields: &[(&str, &str)]) -> Result<Value, ApiError> {
        self.inner.budgets.acquire(method, None).await;
        self.send(method, Body::Form(fields), None).await
    }

    /// Posts a message; returns its `(channel, ts)` (the channel as Slack answers it: a DM's
    /// `D…` id).
    pub async fn post_message(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
        blocks: &Value,
    ) -> Result<(String, String), ApiError> {
        self.post(channel, thread_ts, text, blocks, None).await
    }

    async fn post(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
        blocks: &Value,
        metadata: Option<Value>,
    ) -> Result<(String, String), ApiError> {
        let mut body = json!({ "channel": channel, "text": text, "blocks": blocks, "unfurl_links": false });
        if let Some(thread) = thread_ts {
            body["thread_ts"] = json!(thread);
        }
        if let Some(metadata) = metadata {
            body["metadata"] = metadata;
        }
        let answer = self.call("chat.postMessage", &body).await?;
        let channel = answer.get("channel").and_then(Value::as_str).unwrap_or(channel).to_owned();
        let ts = answer
            .get("ts")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::Network { method: "chat.postMessage".to_owned(), detail: "no ts".to_owned() })?;
        Ok((channel, ts.to_owned()))
    }

    /// Replaces a message's text and blocks. Concurrent edits of one message are coalesced:
    /// while one waits for its budget, later ones replace its content, and all get the result
    /// of the send that carried the latest content.
    pub async fn update_message(&self, channel: &str, ts: &str, text: &str, blocks: &Value) -> Result<(), ApiError> {
        let body = json!({ "channel": channel, "ts": ts, "text": text, "blocks": blocks });
        self.inner.coalescer.update(self, format!("{channel}/{ts}"), body).await
    }

    /// Shows a message only `user` sees, in `channel` (in a thread when `thread_ts` is set).
    pub async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        thread_ts: Option<&str>,
        text: &str,
    ) -> Result<(), ApiError> {
        let mut body = json!({ "channel": channel, "user": user, "text": text });
        if let Some(thread) = thread_ts {
            body["thread_ts"] = json!(thread);
        }
        self.call("chat.postEphemeral", &body).await.map(drop)
    }

    /// Opens (or finds) the DM with `user`; returns its `D…` channel id.
    pub async fn open_dm(&self, user: &str) -> Result<String, ApiError> {
        let answer = self.call("conversations.open", &json!({ "users": user })).await?;
        answer.pointer("/channel/id").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| ApiError::Network {
            method: "conversations.open".to_owned(),
            detail: "no channel".to_owned(),
        })
    }

    /// Opens a modal; returns the view's id. Not sent, and [`ApiError::TriggerExpired`], when
    /// the trigger would expire before the call could go out.
    pub(crate) async fn open_view(&self, trigger: &Trigger, view: &Value) -> Result<String, ApiError> {
        if !self.view_turn(trigger).await {
            return Err(view_dropped());
        }
        self.open_view_now(trigger, view).await
    }

    /// Waits for `views.open`'s turn in the budget; `false`, at once and without taking a turn,
    /// when there is none before `trigger` expires (the modal is then dropped:
    /// [`view_dropped`]).
    pub(crate) async fn view_turn(&self, trigger: &Trigger) -> bool {
        self.inner.budgets.acquire_by(VIEWS_OPEN, trigger.expires).await
    }

    /// Opens a modal whose turn ([`view_turn`](Self::view_turn)) has come.
    pub(crate) async fn open_view_now(&self, trigger: &Trigger, view: &Value) -> Result<String, ApiError> {
        let body = json!({ "trigger_id": trigger.id, "view": view });
        let answer = match self.send(VIEWS_OPEN, Body::Json(&body), Some(trigger.expires)).await {
            Err(ApiError::TriggerExpired { .. }) => return Err(view_dropped()),
            other => other?,
        };
        Ok(answer.pointer("/view/id").and_then(Value::as_str).unwrap_or_default().to_owned())
    }

    /// A user's email (needs the `users:read.email` scope), if Slack has one.
    pub async fn user_email(&self, user: &str) -> Result<Option<String>, ApiError> {
        let answer = self.call_form("users.info", &[("user", user)]).await?;
        Ok(answer.pointer("/user/profile/email").and_then(Value::as_str).map(str::to_owned))
    }

    /// The Slack user with `email` (needs the `users:read.email` scope), if there is one.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<String>, ApiError> {
        match self.call_form("users.lookupByEmail", &[("email", email)]).await {
            Ok(answer) => Ok(answer.pointer("/user/id").and_then(Value::as_str).map(str::to_owned)),
            Err(ApiError::Slack { error, .. }) if error == "users_not_found" => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Shares a file in `channel` (in the thread `thread_ts`): `files.getUploadURLExternal` for
    /// an upload URL, the bytes posted to it, then `files.completeUploadExternal` to share it
    /// (needs the `files:write` scope). Returns the file's id.
    pub async fn upload_file(&self, upload: &Upload<'_>) -> Result<String, ApiError> {
        let length = upload.content.len().to_string();
        let answer =
            self.call_form("files.getUploadURLExternal", &[("filename", upload.filename), ("length", &length)]).await?;
        let field = |name: &str| answer.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(url), Some(id)) = (field("upload_url"), field("file_id")) else {
            return Err(ApiError::Slack {
                method: "files.getUploadURLExternal".to_owned(),
                error: "no_upload_url".into(),
            });
        };
        // The upload URL is Slack's own, signed for this file: it takes the bytes, no token.
        let method = "files.upload";
        let response =
            self.inner.http.post(&url).body(upload.content.to_vec()).send().await.map_err(|e| network(method, e))?;
        if !response.status().is_success() {
            count_error(method, &format!("http_{}", response.status().as_u16()));
            return Err(ApiError::Status { method: method.to_owned(), status: response.status().as_u16() });
        }
        let files = serde_json::json!([{ "id": id, "title": upload.title }]).to_string();
        let mut fields = vec![("files", files.as_str()), ("channel_id", upload.channel)];
        if let Some(ts) = upload.thread_ts {
            fields.push(("thread_ts", ts));
        }
        if !upload.comment.is_empty() {
            fields.push(("initial_comment", upload.comment));
        }
        self.call_form("files.completeUploadExternal", &fields).await?;
        Ok(id)
    }

    /// One HTTP call, with 429s retried (never before `Retry-After`) unless the wait would pass
    /// `deadline`.
    async fn send(&self, method: &str, body: Body<'_>, deadline: Option<Instant>) -> Result<Value, ApiError> {
        let url = format!("{}/{method}", self.inner.base);
        let mut retries = self.inner.rate_limited.retries();
        loop {
            let request = self.inner.http.post(&url).bearer_auth(&self.inner.token);
            let request = match &body {
                Body::Json(value) => request.json(value),
                Body::Form(fields) => request
                    .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form_urlencoded::Serializer::new(String::new()).extend_pairs(fields.iter()).finish()),
            };
            metrics::counter!("docket_slack_api_calls_total", "method" => method.to_owned()).increment(1);
            let response = request.send().await.map_err(|e| network(method, e))?;
            let status = response.status();
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                let after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, SystemTime::now()));
                count_error(method, "ratelimited");
                let Some(wait) = retries.next_wait(after) else {
                    warn_throttled!(method, attempt = retries.failed(), "Slack rate limit: giving up for now");
                    return Err(ApiError::RateLimited { method: method.to_owned() });
                };
                if deadline.is_some_and(|deadline| Instant::now() + wait > deadline) {
                    return Err(ApiError::TriggerExpired { method: method.to_owned() });
                }
                tracing::debug!(method, wait_ms = wait.as_millis() as u64, "Slack rate limit: waiting");
                tokio::time::sleep(wait).await;
                continue;
            }
            if !status.is_success() {
                count_error(method, &format!("http_{}", status.as_u16()));
                return Err(ApiError::Status { method: method.to_owned(), status: status.as_u16() });
            }
            let answer: Value = response.json().await.map_err(|e| network(method, e))?;
            if answer.get("ok").and_then(Value::as_bool) == Some(true) {
                return Ok(answer);
            }
            let error = answer.get("error").and_then(Value::as_str).unwrap_or("unknown_error").to_owned();
            count_error(method, &error);
            warn_throttled!(method, %error, "Slack answered ok: false");
            return Err(ApiError::Slack { method: method.to_owned(), error });
        }
    }
}

fn network(method: &str, error: reqwest::Error) -> ApiError {
    // Without the URL: it is ours, but keep messages free of anything configured.
    ApiError::Network { method: method.to_owned(), detail: error.without_url().to_string() }
}

fn count_error(method: &str, error: &str) {
    metrics::counter!("docket_slack_api_errors_total", "method" => method.to_owned(), "error" => error.to_owned())
        .increment(1);
}
