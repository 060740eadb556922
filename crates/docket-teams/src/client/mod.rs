//! The connector client: the bot's calls to Bot Framework — send to a conversation, reply to a
//! message, replace a message, start a 1:1 chat — each with the cached client-credentials
//! token, paced per conversation and for the whole bot (the outbound toolkit's
//! [`RateLimiter`]: a burst, then a steady rate, writers served in the order they came), and
//! retried ([`outbound::retry`]: exponential backoff with equal jitter, never sooner than
//! `Retry-After` in seconds or as an HTTP-date) when Teams answers 429, 412, 502 or 504 (or does
//! not answer). A 403 `MessageWritesBlocked` is its own error: the person blocked the bot, and
//! trying again will not help.

pub(crate) mod token;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use docket_app::outbound::{self, Backoff, Rate, RateLimiter, Verdict};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::settings::{Pacing, TeamsSettings};
use token::TokenCache;

/// Longest one connector call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a connector call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The bot may not write here any more (403 `MessageWritesBlocked`).
    #[error("Teams refused the message: the bot is blocked in this conversation (MessageWritesBlocked)")]
    Blocked,
    /// Teams refused the call for good.
    #[error("Teams refused the call: HTTP {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error Teams gave.
        message: String,
    },
    /// Teams did not take it after every retry (rate limits, outages, the network).
    #[error("Teams is unavailable: {0}")]
    Unavailable(String),
    /// No token for the bot.
    #[error("could not get the bot's token: {0}")]
    Token(String),
    /// A URL that cannot be called.
    #[error("invalid service URL: {0}")]
    BadUrl(String),
}

impl ClientError {
    /// Whether trying again later could help.
    pub fn is_transient(&self) -> bool {
        matches!(self, ClientError::Unavailable(_) | ClientError::Token(_))
    }
}

/// Calls Bot Framework's connector.
pub struct Connector {
    http: reqwest::Client,
    bot_id: String,
    retry: outbound::RetryPolicy,
    tokens: TokenCache,
    /// Writes per conversation.
    pacer: RateLimiter,
    /// Every write, whatever the conversation.
    app_pacer: RateLimiter<()>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").field("bot_id", &self.bot_id).finish_non_exhaustive()
    }
}

impl Connector {
    /// A connector client for `settings`' bot.
    pub fn new(settings: &TeamsSettings, http: reqwest::Client) -> Arc<Self> {
        Arc::new(Self {
            tokens: TokenCache::new(settings, http.clone()),
            pacer: RateLimiter::new(rate(settings.pacing)),
            app_pacer: RateLimiter::new(rate(settings.app_pacing)),
            retry: outbound::RetryPolicy {
                backoff: Backoff { base: settings.retry.base, max: settings.retry.max },
                attempts: settings.retry.attempts,
            },
            bot_id: settings.bot_id(),
            http,
        })
    }

    /// Posts `activity` to a conversation; returns the new activity's id.
    pub async fn send(&self, service_url: &str, conversation: &str, activity: &Value) -> Result<String, ClientError> {
        let url = endpoint(service_url, &["v3", "conversations", conversation, "activities"])?;
        let answer = self.call(Method::POST, url, activity, Some(conversation)).await?;
        Ok(activity_id(&answer))
    }

    /// Posts `activity` as a reply to message `reply_to`; returns the new activity's id.
    pub async fn reply(
        &self,
        service_url: &str,
        conversation: &str,
        reply_to: &str,
        activity: &Value,
    ) -> Result<String, ClientError> {
        let url = endpoint(service_url, &["v3", "conversations", conversation, "activities", reply_to])?;
        let mut activity = activity.clone();
        if let Some(object) = activity.as_object_mut() {
            object.insert("replyToId".to_owned(), json!(reply_to));
        }
        let answer = self.call(Method::POST, url, &activity, Some(conversation)).await?;
        Ok(activity_id(&answer))
    }

    /// Replaces message `id` with `activity`.
    pub async fn update(
        &self,
        service_url: &str,
        conversation: &str,
        id: &str,
        activity: &Value,
    ) -> Result<(), ClientError> {
        let url = endpoint(service_url, &["v3", "conversations", conversation, "activities", id])?;
        let mut activity = activity.clone();
        if let Some(object) = activity.as_object_mut() {
            object.insert("id".to_owned(), json!(id));
        }
        self.call(Method::PUT, url, &activity, Some(conversation)).await.map(drop)
    }

    /// Starts (or finds) the 1:1 chat with `user` (`29:…`); returns its conversation id.
    pub async fn create_conversation(
        &self,
        service_url: &str,
        user: &str,
        tenant: Option<&str>,
    ) -> Result<String, ClientError> {
        let url = endpoint(service_url, &["v3", "conversations"])?;
        let mut body = json!({ "bot": { "id": self.bot_id }, "members": [{ "id": user }], "isGroup": false });
        if let (Some(tenant), Some(object)) = (tenant, body.as_object_mut()) {
            object.insert("tenantId".to_owned(), json!(tenant));
            object.insert("channelData".to_owned(), json!({ "tenant": { "id": tenant } }));
        }
        let answer = self.call(Method::POST, url, &body, None).await?;
        answer
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Refused { status: 200, message: "no conversation id in the answer".to_owned() })
    }

    /// One call, with its attempts: paced, with the token, retried as [`Failure::verdict`] says.
    async fn call(
        &self,
        method: Method,
        url: url::Url,
        body: &Value,
        pace: Option<&str>,
    ) -> Result<Value, ClientError> {
        let renewed = AtomicBool::new(false);
        let attempt = || self.attempt(&method, &url, body, pace, &renewed);
        outbound::retry(self.retry, attempt, |failure: &Failure| failure.verdict).await.map_err(|f| f.error)
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &url::Url,
        body: &Value,
        pace: Option<&str>,
        renewed: &AtomicBool,
    ) -> Result<Value, Failure> {
        if let Some(conversation) = pace {
            self.pacer.acquire(conversation).await;
            self.app_pacer.acquire(&()).await;
        }
        let token = self.tokens.get().await.map_err(Failure::stop)?;
        let sent = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(token)
            .json(body)
            .timeout(CALL_TIMEOUT)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => return Err(Failure::retry(ClientError::Unavailable(error.without_url().to_string()), None)),
        };
        let status = response.status();
        let after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| outbound::retry_after(v, SystemTime::now()));
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
        }
        let message = error_message(&text);
        match status {
            StatusCode::TOO_MANY_REQUESTS
            | StatusCode::PRECONDITION_FAILED
            | StatusCode::BAD_GATEWAY
            | StatusCode::GATEWAY_TIMEOUT => {
                Err(Failure::retry(ClientError::Unavailable(format!("HTTP {}: {message}", status.as_u16())), after))
            }
            StatusCode::UNAUTHORIZED if !renewed.swap(true, Ordering::SeqCst) => {
                self.tokens.invalidate().await;
                let error = ClientError::Unavailable("HTTP 401: the token was refused".to_owned());
                Err(Failure { error, verdict: Verdict::RetryNow })
            }
            StatusCode::FORBIDDEN if text.contains("MessageWritesBlocked") => Err(Failure::stop(ClientError::Blocked)),
            _ => Err(Failure::stop(ClientError::Refused { status: status.as_u16(), message })),
        }
    }
}

/// A failed attempt and what it calls for.
struct Failure {
    error: ClientError,
    verdict: Verdict,
}

impl Failure {
    fn retry(error: ClientError, after: Option<Duration>) -> Self {
        Self { error, verdict: Verdict::Retry { after } }
    }

    fn stop(error: ClientError) -> Self {
        Self { error, verdict: Verdict::Stop }
    }
}

/// A pacing setting as a toolkit rate.
fn rate(pacing: Pacing) -> Rate {
    Rate::new(pacing.burst, pacing.interval)
}

/// `{service_url}/{segments…}`, each segment percent-encoded.
fn endpoint(service_url: &str, segments: &[&str]) -> Result<url::Url, ClientError> {
    let mut url = url::Url::parse(service_url).map_err(|e| ClientError::BadUrl(e.to_string()))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(ClientError::BadUrl(format!("scheme `{}`", url.scheme())));
    }
    url.path_segments_mut()
        .map_err(|()| ClientError::BadUrl("cannot take a path".to_owned()))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

fn activity_id(answer: &Value) -> String {
    answer.get("id").and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The message of a Bot Framework or Graph error body (both `{"error":{"code","message"}}`),
/// cut short.
pub(crate) fn error_message(text: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let message = match error {
        Some(e) => {
            let code = e.get("code").and_then(Value::as_str).unwrap_or_default();
            let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
            format!("{code} {message}").trim().to_owned()
        }
        None => text.to_owned(),
    };
    message.chars().take(300).collect()
}
