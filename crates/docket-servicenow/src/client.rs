//! ServiceNow's Table API, the calls Docket makes: find the ticket's record by its
//! `correlation_id`, create one, patch it (work notes, state, closing fields), read it. Signed
//! in with Basic auth, or with an OAuth token (`token`) fetched again once when refused. 429s
//! and 503s are retried through the outbound toolkit (never sooner than `Retry-After`); what
//! still fails is the outbox's to retry.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use docket_app::outbound::{self, Verdict};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};

use crate::settings::ServiceNowSettings;
use crate::token::TokenCache;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceNowError {
    /// The instance could not be reached, or did not answer in time.
    #[error("could not reach ServiceNow: {0}")]
    Network(String),
    /// The instance answered with an error status.
    #[error("ServiceNow answered {status}: {detail}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// `error.message` and `error.detail`, or the body.
        detail: String,
        /// Its `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// The answer was not what the API documents.
    #[error("ServiceNow's answer could not be read: {0}")]
    Answer(String),
}

impl ServiceNowError {
    /// Whether trying again later could help (network, 429, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network(_) => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Answer(_) => false,
        }
    }

    /// Whether the instance says it wrote nothing: a 4xx (429 included) or a 503. After a 502,
    /// a 504, a lost connection or an unreadable answer, a write may have been done.
    pub fn nothing_written(&self) -> bool {
        matches!(self, Self::Status { status, .. } if *status < 500 || *status == 503)
    }
}

/// A record, as ServiceNow names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its `sys_id` (32 hex digits).
    pub sys_id: String,
    /// Its number (`CHG0030001`).
    pub number: String,
}

/// The Table API client.
#[derive(Clone, Debug)]
pub struct ServiceNowClient {
    http: reqwest::Client,
    settings: Arc<ServiceNowSettings>,
    tokens: Option<Arc<TokenCache>>,
}

impl ServiceNowClient {
    /// A client for `settings`.
    pub fn new(settings: Arc<ServiceNowSettings>) -> Result<Self, ServiceNowError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("docket/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ServiceNowError::Network(e.to_string()))?;
        let tokens = TokenCache::new(&settings).map(Arc::new);
        Ok(Self { http, settings, tokens })
    }

    /// The settings in force.
    pub fn settings(&self) -> &ServiceNowSettings {
        &self.settings
    }

    fn table_url(&self) -> String {
        format!("{}/api/now/table/{}", self.settings.instance_url, self.settings.table.as_str())
    }

    /// The record whose `correlation_id` is `correlation`, if one exists.
    pub async fn find(&self, correlation: &str) -> Result<Option<Record>, ServiceNowError> {
        let query = format!("correlation_id={correlation}^ORDERBYsys_created_on");
        let params = [
            ("sysparm_query", query.as_str()),
            ("sysparm_limit", "1"),
            ("sysparm_fields", "sys_id,number"),
            ("sysparm_exclude_reference_link", "true"),
        ];
        let answer = self.call(Method::GET, self.table_url(), None, &params).await?;
        let Some(first) = answer.get("result").and_then(Value::as_array).and_then(|a| a.first()) else {
            return Ok(None);
        };
        record(first).map(Some)
    }

    /// Creates a record with `fields`.
    pub async fn create(&self, fields: Map<String, Value>) -> Result<Record, ServiceNowError> {
        let answer = self.call(Method::POST, self.table_url(), Some(Value::Object(fields)), &[]).await?;
        record(answer.get("result").unwrap_or(&Value::Null))
    }

    /// Updates the record's `fields` (a `work_notes` value adds a work note).
    pub async fn patch(&self, sys_id: &str, fields: Map<String, Value>) -> Result<(), ServiceNowError> {
        let url = format!("{}/{sys_id}", self.table_url());
        self.call(Method::PATCH, url, Some(Value::Object(fields)), &[("sysparm_fields", "sys_id")]).await.map(drop)
    }

    /// The record's fields, as stored (not display values).
    pub async fn get(&self, sys_id: &str) -> Result<Value, ServiceNowError> {
        let url = format!("{}/{sys_id}", self.table_url());
        let answer = self.call(Method::GET, url, None, &[("sysparm_exclude_reference_link", "true")]).await?;
        answer.get("result").cloned().ok_or_else(|| ServiceNowError::Answer("no `result`".to_owned()))
    }

    async fn call(
        &self,
        method: Method,
        url: String,
        body: Option<Value>,
        query: &[(&str, &str)],
    ) -> Result<Value, ServiceNowError> {
        let attempt = || async {
            let token = match &self.tokens {
                Some(tokens) => Some(tokens.get(&self.http).await?),
                None => None,
            };
            let response = self.send(&method, &url, body.as_ref(), query, token.as_deref()).await?;
            // A refused token (revoked, or expired early): one new token, one more try. A
            // refused call did nothing, so sending it again is safe.
            if response.status() == StatusCode::UNAUTHORIZED
                && let (Some(tokens), Some(refused)) = (&self.tokens, token)
            {
                tokens.invalidate(&refused).await;
                let fresh = tokens.get(&self.http).await?;
                return read(self.send(&method, &url, body.as_ref(), query, Some(&fresh)).await?).await;
            }
            read(response).await
        };
        // Only answers that mean "nothing was done" are retried here; a write that may have
        // happened is left to the outbox, which looks before it writes again.
        outbound::retry(self.settings.retry, attempt, |error: &ServiceNowError| match error {
            ServiceNowError::Status { status: 429 | 503, retry_after, .. } => Verdict::Retry { after: *retry_after },
            ServiceNowError::Network(_) if method == Method::GET => Verdict::Retry { after: None },
            _ => Verdict::Stop,
        })
        .await
    }
}

impl ServiceNowClient {
    async fn send(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
        query: &[(&str, &str)],
        token: Option<&str>,
    ) -> Result<reqwest::Response, ServiceNowError> {
        let mut request = self.http.request(method.clone(), url).query(query).header("Accept", "application/json");
        request = match token {
            Some(token) => request.bearer_auth(token),
            None => request.basic_auth(&self.settings.username, Some(&self.settings.password)),
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.map_err(|e| ServiceNowError::Network(e.without_url().to_string()))
    }
}

async fn read(response: reqwest::Response) -> Result<Value, ServiceNowError> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| outbound::retry_after(v, SystemTime::now()));
    let bytes = response.bytes().await.map_err(|e| ServiceNowError::Network(e.without_url().to_string()))?;
    if status == StatusCode::NO_CONTENT {
        return Ok(Value::Null);
    }
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(value);
    }
    let detail = match value.get("error") {
        Some(error) => format!(
            "{} {}",
            error.get("message").and_then(Value::as_str).unwrap_or_default(),
            error.get("detail").and_then(Value::as_str).unwrap_or_default()
        )
        .trim()
        .to_owned(),
        None => String::from_utf8_lossy(&bytes).chars().take(200).collect(),
    };
    Err(ServiceNowError::Status { status: status.as_u16(), detail, retry_after })
}

fn record(value: &Value) -> Result<Record, ServiceNowError> {
    let sys_id = value.get("sys_id").and_then(Value::as_str);
    let number = value.get("number").and_then(Value::as_str);
    match (sys_id, number) {
        (Some(sys_id), Some(number)) => Ok(Record { sys_id: sys_id.to_owned(), number: number.to_owned() }),
        _ => Err(ServiceNowError::Answer("a record without `sys_id` and `number`".to_owned())),
    }
}
