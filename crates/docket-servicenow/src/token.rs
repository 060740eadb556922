//! OAuth access tokens from the instance's `POST /oauth_token.do`: a form-encoded body
//! (`grant_type=password` with the client and the integration user, or
//! `grant_type=client_credentials` with the client alone), a JSON answer with `access_token`
//! and `expires_in`. The token is cached and fetched again before it expires (a quarter of its
//! life early, a minute at most) or when the Table API refuses it.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::client::ServiceNowError;
use crate::settings::{Grant, ServiceNowSettings};

/// A token is fetched again at most this long before it expires.
const MARGIN: Duration = Duration::from_secs(60);
/// When the answer does not say how long a token lives (ServiceNow's default is 30 minutes).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(1800);

struct Cached {
    token: String,
    renew_at: Instant,
}

/// The cached token of one OAuth client.
pub(crate) struct TokenCache {
    url: String,
    form: String,
    // A tokio mutex: held across the fetch, so concurrent calls wait for one token.
    cached: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").field("url", &self.url).finish_non_exhaustive()
    }
}

impl TokenCache {
    /// The cache for `settings`, if they sign in with OAuth.
    pub(crate) fn new(settings: &ServiceNowSettings) -> Option<Self> {
        let oauth = settings.oauth.as_ref()?;
        let mut form = form_urlencoded::Serializer::new(String::new());
        match settings.grant()? {
            Grant::Password => form
                .append_pair("grant_type", "password")
                .append_pair("client_id", &oauth.client_id)
                .append_pair("client_secret", &oauth.client_secret)
                .append_pair("username", &settings.username)
                .append_pair("password", &settings.password),
            Grant::ClientCredentials => form
                .append_pair("grant_type", "client_credentials")
                .append_pair("client_id", &oauth.client_id)
                .append_pair("client_secret", &oauth.client_secret),
        };
        let url = format!("{}/oauth_token.do", settings.instance_url);
        Some(Self { url, form: form.finish(), cached: Mutex::new(None) })
    }

    /// A token that is not about to expire: the cached one, else a new one.
    pub(crate) async fn get(&self, http: &reqwest::Client) -> Result<String, ServiceNowError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.token.clone());
        }
        let (token, lifetime) = self.fetch(http).await?;
        let early = (lifetime / 4).min(MARGIN);
        *cached = Some(Cached { token: token.clone(), renew_at: Instant::now() + lifetime.saturating_sub(early) });
        Ok(token)
    }

    /// Forgets `refused`, the token the instance just refused (unless another call already
    /// replaced it).
    pub(crate) async fn invalidate(&self, refused: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == refused) {
            *cached = None;
        }
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<(String, Duration), ServiceNowError> {
        let response = http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(self.form.clone())
            .send()
            .await
            .map_err(|e| ServiceNowError::Network(e.without_url().to_string()))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            // `{"error": "server_error", "error_description": "access_denied"}`: the codes only,
            // never what was sent.
            let code = |name: &str| body.get(name).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
            let detail = format!("token refused: {} {}", code("error"), code("error_description")).trim().to_owned();
            return Err(ServiceNowError::Status { status: status.as_u16(), detail, retry_after: None });
        }
        let token = body
            .get("access_token")
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ServiceNowError::Answer("the token answer has no access_token".to_owned()))?;
        let seconds = match body.get("expires_in") {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        Ok((token.to_owned(), seconds.map_or(DEFAULT_LIFETIME, Duration::from_secs)))
    }
}
