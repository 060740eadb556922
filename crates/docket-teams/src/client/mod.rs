//! The connector client: the bot's calls to Bot Framework — send to a conversation, reply to a
//! message, replace a message, start a 1:1 chat — each with the cached client-credentials
//! token, paced per conversation, and retried with exponential backoff and jitter when Teams
//! answers 429, 412, 502 or 504 (or does not answer). A 403 `MessageWritesBlocked` is its own
//! error: the person blocked the bot, and trying again will not help.

mod pacing;
mod token;

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::settings::{RetryPolicy, TeamsSettings};
use pacing::Pacer;
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
    retry: RetryPolicy,
    tokens: TokenCache,
    pacer: Pacer,
    /// Every write, whatever the conversation.
    app_pacer: Pacer,
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
            pacer: Pacer::new(settings.pacing),
            app_pacer: Pacer::new(settings.app_pacing),
            retry: settings.retry,
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

    async fn call(
        &self,
        method: Method,
        url: url::Url,
        body: &Value,
        pace: Option<&str>,
    ) -> Result<Value, ClientError> {
        let attempts = self.retry.attempts.max(1);
        let mut last = ClientError::Unavailable("no attempt made".to_owned());
        let mut renewed = false;
        for attempt in 1..=attempts {
            if let Some(conversation) = pace {
                self.pacer.wait(conversation).await;
                self.app_pacer.wait("").await;
            }
            let token = self.tokens.get().await?;
            let sent = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token)
                .json(body)
                .timeout(CALL_TIMEOUT)
                .send()
                .await;
            let mut retry_after = None;
            match sent {
                Err(error) => last = ClientError::Unavailable(error.without_url().to_string()),
                Ok(response) => {
                    let status = response.status();
                    retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
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
                            last = ClientError::Unavailable(format!("HTTP {}: {message}", status.as_u16()));
                        }
                        StatusCode::UNAUTHORIZED if !renewed => {
                            renewed = true;
                            self.tokens.invalidate().await;
                            last = ClientError::Unavailable("HTTP 401: the token was refused".to_owned());
                            continue;
                        }
                        StatusCode::FORBIDDEN if text.contains("MessageWritesBlocked") => {
                            return Err(ClientError::Blocked);
                        }
                        _ => return Err(ClientError::Refused { status: status.as_u16(), message }),
                    }
                }
            }
            if attempt < attempts {
                tokio::time::sleep(self.pause(attempt, retry_after)).await;
            }
        }
        Err(last)
    }

    /// Exponential backoff with jitter: half the step plus a random part of the other half;
    /// never less than `Retry-After`, never more than the policy's maximum.
    fn pause(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let step = self.retry.base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)));
        let step = step.min(self.retry.max);
        let random = getrandom::u64().unwrap_or(0);
        let half = step / 2;
        let jitter = Duration::from_nanos(random % (u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1)));
        let pause = half + jitter;
        retry_after.map_or(pause, |after| after.max(pause)).min(self.retry.max)
    }
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

/// The message of a Bot Framework error body (`{"error":{"code","message"}}`), cut short.
fn error_message(text: &str) -> String {
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
