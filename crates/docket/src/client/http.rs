//! The REST API client: one method per route the commands use, bearer authentication, and the
//! API's error body turned into an error a person can read.

use std::fmt;
use std::time::Duration;

use docket_app::outbound::{Backoff, RetryPolicy, Verdict, retry};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::credentials::Credentials;
use super::model::{LogPage, Me, RequestMatch, Ticket, TicketPage, Workflow, WorkflowList};

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often `create` sends a request at most (the first included), and how long it waits
/// before sending it again: 500 ms, doubled each time, with jitter (the upper half of each).
const CREATE_RETRY: RetryPolicy =
    RetryPolicy { backoff: Backoff { base: Duration::from_millis(500), max: Duration::from_secs(30) }, attempts: 4 };
/// How long one ordinary call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an event stream may be silent (the server sends a keep-alive every 15 s) before the
/// connection is taken for dead.
const STREAM_SILENCE: Duration = Duration::from_secs(45);

/// What went wrong talking to the server.
#[derive(Debug)]
pub(crate) enum ClientError {
    /// No answer: connection refused, DNS, timeout, a connection cut mid-answer.
    Unreachable { url: String, source: reqwest::Error },
    /// The server answered with an error.
    Api(ApiError),
    /// The server answered with something that is not what the API promises.
    Unexpected(String),
}

/// The API's error body: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) details: Value,
}

impl ApiError {
    /// Reads an error answer; a body that is not the API's shape becomes the status and text.
    pub(crate) fn from_body(status: StatusCode, body: &str) -> Self {
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        let text = |key: &str| error.and_then(|e| e.get(key)).and_then(Value::as_str).map(str::to_owned);
        match (text("code"), text("message")) {
            (Some(code), Some(message)) => Self {
                status,
                code,
                message,
                details: error.and_then(|e| e.get("details")).cloned().unwrap_or(Value::Null),
            },
            _ => {
                let shown: String = body.trim().chars().take(200).collect();
                let message = if shown.is_empty() { format!("the server answered {status}") } else { shown };
                Self { status, code: String::new(), message, details: Value::Null }
            }
        }
    }

    /// The field errors of an `invalid_params` answer, as `(param, message)`.
    pub(crate) fn field_errors(&self) -> Vec<(String, String)> {
        let Some(fields) = self.details.get("fields").and_then(Value::as_array) else { return Vec::new() };
        fields
            .iter()
            .map(|f| {
                let get = |key: &str| f.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
                (get("param"), get("message"))
            })
            .collect()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = self.field_errors();
        if self.code == "invalid_params" && !fields.is_empty() {
            // The message repeats the fields on one line; one a line reads better.
            f.write_str("invalid parameters:")?;
            for (param, message) in fields {
                write!(f, "\n  {param}: {message}")?;
            }
            return Ok(());
        }
        match self.status {
            StatusCode::UNAUTHORIZED => {
                write!(f, "the server did not accept the token ({}); check --token, DOCKET_TOKEN or --as", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Unreachable { url, source } => {
                write!(f, "cannot reach the Docket server at {url}: {}", error_chain(source))
            }
            ClientError::Api(error) => error.fmt(f),
            ClientError::Unexpected(message) => write!(f, "unexpected answer from the server: {message}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<ApiError> for ClientError {
    fn from(error: ApiError) -> Self {
        ClientError::Api(error)
    }
}

/// What a reqwest error comes down to: its innermost cause ("Connection refused (os error
/// 111)", "failed to lookup address information: …"), which is what a person can act on.
fn error_chain(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    let mut deepest: &dyn std::error::Error = error;
    while let Some(cause) = deepest.source() {
        deepest = cause;
    }
    deepest.to_string()
}

/// A client for one server and one token.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    stream_http: reqwest::Client,
    credentials: Credentials,
}

impl Api {
    pub(crate) fn new(credentials: Credentials) -> Result<Self, ClientError> {
        let build = |builder: reqwest::ClientBuilder| {
            builder
                .connect_timeout(CONNECT_TIMEOUT)
                .user_agent(concat!("docket-cli/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| ClientError::Unexpected(format!("cannot set up HTTP: {e}")))
        };
        Ok(Self {
            http: build(reqwest::Client::builder().timeout(CALL_TIMEOUT))?,
            stream_http: build(reqwest::Client::builder().read_timeout(STREAM_SILENCE))?,
            credentials,
        })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let url = format!("{}/api/v1{path}", self.credentials.url);
        self.http.request(method, url).bearer_auth(&self.credentials.token)
    }

    fn unreachable(&self, source: reqwest::Error) -> ClientError {
        ClientError::Unreachable { url: self.credentials.url.clone(), source }
    }

    /// Sends `request` and reads a JSON answer, or the API's error.
    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        parse(&self.call_raw(request).await?)
    }

    /// Sends `request` and returns the body of a successful answer as it came.
    async fn call_raw(&self, request: RequestBuilder) -> Result<String, ClientError> {
        self.call_with_status(request).await.map(|(_, body)| body)
    }

    /// Sends `request` and returns the status and body of a successful answer.
    async fn call_with_status(&self, request: RequestBuilder) -> Result<(StatusCode, String), ClientError> {
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| self.unreachable(e))?;
        if !status.is_success() {
            return Err(ApiError::from_body(status, &body).into());
        }
        Ok((status, body))
    }

    pub(crate) async fn me(&self) -> Result<Me, ClientError> {
        self.call(self.request(Method::GET, "/me")).await
    }

    pub(crate) async fn workflows(&self) -> Result<WorkflowList, ClientError> {
        self.call(self.request(Method::GET, "/workflows")).await
    }

    pub(crate) async fn workflow(&self, id: &str) -> Result<Workflow, ClientError> {
        parse(&self.workflow_json(id).await?)
    }

    /// `GET /workflows` as the server sent it.
    pub(crate) async fn workflows_json(&self) -> Result<String, ClientError> {
        self.call_raw(self.request(Method::GET, "/workflows")).await
    }

    /// `GET /workflows/{id}` as the server sent it.
    pub(crate) async fn workflow_json(&self, id: &str) -> Result<String, ClientError> {
        self.call_raw(self.request(Method::GET, &format!("/workflows/{}", segment(id)))).await
    }

    /// `POST /workflows/match`: a request in words, read by the server's matcher.
    pub(crate) async fn match_words(&self, text: &str) -> Result<RequestMatch, ClientError> {
        self.call(self.request(Method::POST, "/workflows/match").json(&json!({ "text": text }))).await
    }

    /// `GET /me/waiting` as the server sent it.
    pub(crate) async fn waiting_json(&self) -> Result<String, ClientError> {
        self.call_raw(self.request(Method::GET, "/me/waiting")).await
    }

    /// `GET /tickets/{id}` as the server sent it, for `--json`.
    pub(crate) async fn ticket_json(&self, id: &str) -> Result<String, ClientError> {
        self.call_raw(self.request(Method::GET, &format!("/tickets/{}", segment(id)))).await
    }

    pub(crate) async fn ticket(&self, id: &str) -> Result<Ticket, ClientError> {
        self.call(self.request(Method::GET, &format!("/tickets/{}", segment(id)))).await
    }

    /// `POST /tickets`: the ticket, the answer as the server sent it, and whether the ticket is
    /// new (not opened before under the same key). Sent with `key` as
    /// its `Idempotency-Key`, or a key of its own, and sent again with it when the answer was
    /// lost on the way
    /// (a timeout, a connection cut after the request went out), while the first copy is still
    /// being handled, or when the store was briefly unavailable: however often it goes, it
    /// opens one ticket.
    pub(crate) async fn create(
        &self,
        workflow: &str,
        params: &serde_json::Map<String, Value>,
        key: Option<&str>,
    ) -> Result<(Ticket, String, bool), ClientError> {
        let body = json!({ "workflow": workflow, "params": params });
        let key = match key {
            Some(key) => key.to_owned(),
            None => idempotency_key()?,
        };
        let send = || {
            let request = self.request(Method::POST, "/tickets").header("idempotency-key", &key).json(&body);
            self.call_with_status(request)
        };
        let judge = |error: &ClientError| {
            if worth_sending_again(error) { Verdict::Retry { after: None } } else { Verdict::Stop }
        };
        let (status, raw) = retry(CREATE_RETRY, send, judge).await?;
        Ok((parse(&raw)?, raw, status == StatusCode::CREATED))
    }

    /// `POST /tickets/{id}/{action}` with `body` (approve, reject, request-changes, amend,
    /// comment, cancel, retry): the ticket, and the answer as the server sent it.
    pub(crate) async fn act(
        &self,
        id: &str,
        action: &str,
        body: &impl Serialize,
    ) -> Result<(Ticket, String), ClientError> {
        let path = format!("/tickets/{}/{action}", segment(id));
        let raw = self.call_raw(self.request(Method::POST, &path).json(body)).await?;
        Ok((parse(&raw)?, raw))
    }

    /// `POST /config/reload`: what the reload put in force, as the server sent it.
    pub(crate) async fn reload(&self) -> Result<String, ClientError> {
        self.call_raw(self.request(Method::POST, "/config/reload")).await
    }

    /// `GET /tickets?…`: the page, and the answer as the server sent it.
    pub(crate) async fn tickets(&self, query: &[(&str, String)]) -> Result<(TicketPage, String), ClientError> {
        let raw = self.call_raw(self.request(Method::GET, "/tickets").query(query)).await?;
        Ok((parse(&raw)?, raw))
    }

    pub(crate) async fn logs(&self, id: &str, after: u64, limit: u32) -> Result<LogPage, ClientError> {
        let path = format!("/tickets/{}/logs", segment(id));
        self.call(self.request(Method::GET, &path).query(&[("after", after), ("limit", u64::from(limit))])).await
    }

    /// `GET /tickets/{id}/results`: what the ticket's steps left.
    pub(crate) async fn results(&self, id: &str) -> Result<super::results::Results, ClientError> {
        self.call(self.request(Method::GET, &format!("/tickets/{}/results", segment(id)))).await
    }

    /// `GET /tickets/{id}/results.csv`: step `step`'s (or the first) table as CSV.
    pub(crate) async fn result_csv(&self, id: &str, step: Option<u64>) -> Result<String, ClientError> {
        let path = format!("/tickets/{}/results.csv", segment(id));
        let query: Vec<(&str, u64)> = step.map(|s| ("step", s)).into_iter().collect();
        self.call_raw(self.request(Method::GET, &path).query(&query)).await
    }

    /// Opens `GET /tickets/{id}/events`, resuming after `last_id` when given.
    pub(crate) async fn events(&self, id: &str, last_id: Option<&str>) -> Result<reqwest::Response, ClientError> {
        let url = format!("{}/api/v1/tickets/{}/events", self.credentials.url, segment(id));
        let mut request = self
            .stream_http
            .get(url)
            .bearer_auth(&self.credentials.token)
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(last_id) = last_id {
            request = request.header("Last-Event-ID", last_id);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(ApiError::from_body(status, &body).into())
    }

    /// The error for a stream cut mid-answer.
    pub(crate) fn stream_error(&self, source: reqwest::Error) -> ClientError {
        self.unreachable(source)
    }
}

/// A JSON answer read as `T`.
pub(crate) fn parse<T: DeserializeOwned>(body: &str) -> Result<T, ClientError> {
    serde_json::from_str(body).map_err(|e| ClientError::Unexpected(e.to_string()))
}

/// `text` as one path segment: ticket and workflow ids are plain, but a typo must not become
/// another route.
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A fresh `Idempotency-Key`: 16 random bytes as hex.
fn idempotency_key() -> Result<String, ClientError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ClientError::Unexpected(format!("no randomness available: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Whether a request that failed this way may have arrived, or may go through if sent again:
/// not when the server could not be reached at all, nor when it answered with a refusal.
fn worth_sending_again(error: &ClientError) -> bool {
    match error {
        ClientError::Unreachable { source, .. } => !source.is_connect() && !source.is_builder(),
        ClientError::Api(api) => api.code == "idempotency_key_in_use" || api.status == StatusCode::SERVICE_UNAVAILABLE,
        ClientError::Unexpected(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_params_list_every_field() {
        let body = r#"{"error": {"code": "invalid_params", "message": "the parameters are not valid",
            "details": {"fields": [{"param": "version", "message": "must match ^\\d+"}, {"param": "env", "message": "is required"}]}}}"#;
        let error = ApiError::from_body(StatusCode::BAD_REQUEST, body);
        assert_eq!(error.code, "invalid_params");
        assert_eq!(error.to_string(), "invalid parameters:\n  version: must match ^\\d+\n  env: is required");
    }

    #[test]
    fn refusals_are_shown_as_the_api_words_them() {
        let body =
            r#"{"error": {"code": "own_ticket", "message": "You cannot approve your own ticket.", "details": null}}"#;
        let error = ApiError::from_body(StatusCode::FORBIDDEN, body);
        assert_eq!(error.to_string(), "You cannot approve your own ticket.");
    }

    #[test]
    fn a_request_is_sent_again_only_when_it_may_go_through() {
        let error = |status: StatusCode, code: &str| {
            let body = format!(r#"{{"error": {{"code": "{code}", "message": "m", "details": null}}}}"#);
            ClientError::Api(ApiError::from_body(status, &body))
        };
        assert!(worth_sending_again(&error(StatusCode::CONFLICT, "idempotency_key_in_use")));
        assert!(worth_sending_again(&error(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable")));
        assert!(!worth_sending_again(&error(StatusCode::CONFLICT, "wrong_state")));
        assert!(!worth_sending_again(&error(StatusCode::FORBIDDEN, "not_a_requester")));
        assert!(!worth_sending_again(&ClientError::Unexpected("not JSON".to_owned())));
        let key = idempotency_key().unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(key, idempotency_key().unwrap(), "a key per request");
    }

    #[test]
    fn a_body_that_is_not_the_api_s_becomes_its_text() {
        let error = ApiError::from_body(StatusCode::BAD_GATEWAY, "upstream down\n");
        assert_eq!(error.to_string(), "upstream down");
        let error = ApiError::from_body(StatusCode::BAD_GATEWAY, "");
        assert_eq!(error.to_string(), "the server answered 502 Bad Gateway");
    }

    #[test]
    fn an_unknown_token_says_where_tokens_come_from() {
        let body = r#"{"error": {"code": "unauthenticated", "message": "unknown or revoked token"}}"#;
        let error = ApiError::from_body(StatusCode::UNAUTHORIZED, body);
        assert!(error.to_string().starts_with("the server did not accept the token (unknown or revoked token)"));
    }

    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(segment("DKT-42"), "DKT-42");
        assert_eq!(segment("../audit"), "..%2Faudit");
        assert_eq!(segment("a b?c"), "a%20b%3Fc");
    }
}
