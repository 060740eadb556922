//! The bot's client-credentials tokens: fetched from a token URL (form
//! `grant_type=client_credentials`, `client_id`, `client_secret`, `scope`) and cached until five
//! minutes before they expire; one for the connector, one per tenant for Graph.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::ClientError;
use crate::settings::{BOT_FRAMEWORK_SCOPE, TeamsSettings};

/// A token is renewed this long before it expires.
const MARGIN: Duration = Duration::from_secs(300);
/// Shortest time a token is cached.
const MIN_LIFETIME: Duration = Duration::from_secs(30);

struct Cached {
    token: String,
    renew_at: Instant,
}

/// The cached token.
pub(crate) struct TokenCache {
    http: reqwest::Client,
    url: String,
    form: String,
    // A tokio mutex: held across the fetch so only one runs.
    cached: Mutex<Option<Cached>>,
}

impl TokenCache {
    /// The connector's token.
    pub(crate) fn new(settings: &TeamsSettings, http: reqwest::Client) -> Self {
        Self::for_scope(settings, http, &settings.token_url, BOT_FRAMEWORK_SCOPE)
    }

    /// A token for `scope` from `url`.
    pub(crate) fn for_scope(settings: &TeamsSettings, http: reqwest::Client, url: &str, scope: &str) -> Self {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &settings.app_id)
            .append_pair("client_secret", &settings.app_password)
            .append_pair("scope", scope)
            .finish();
        Self { http, url: url.to_owned(), form, cached: Mutex::new(None) }
    }

    /// A valid token, fetched if the cached one is missing or about to expire.
    pub(crate) async fn get(&self) -> Result<String, ClientError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.token.clone());
        }
        let (token, lifetime) = self.fetch().await?;
        let keep = lifetime.saturating_sub(MARGIN).max(MIN_LIFETIME);
        *cached = Some(Cached { token: token.clone(), renew_at: Instant::now() + keep });
        Ok(token)
    }

    /// Forgets the cached token (the connector refused it).
    pub(crate) async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn fetch(&self) -> Result<(String, Duration), ClientError> {
        let failed = |e: reqwest::Error| ClientError::Token(e.without_url().to_string());
        let response = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(self.form.clone())
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            // The body may echo what was sent; only the status is reported.
            return Err(ClientError::Token(format!("the token endpoint answered HTTP {}", status.as_u16())));
        }
        let body: serde_json::Value = response.json().await.map_err(failed)?;
        let token = body
            .get("access_token")
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ClientError::Token("the token endpoint's answer has no access_token".to_owned()))?;
        let seconds = match body.get("expires_in") {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .unwrap_or(3600);
        Ok((token.to_owned(), Duration::from_secs(seconds)))
    }
}
