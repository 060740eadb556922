//! The fake ServiceNow's OAuth: `POST /oauth_token.do` as the instance documents it — a
//! form-encoded body only (JSON is refused), `grant_type=password` with the client and a user's
//! name and password, or `grant_type=client_credentials` with the client alone; a JSON answer
//! `{access_token, refresh_token (password grant), scope, token_type: "Bearer", expires_in}`,
//! and `401 {"error": "server_error", "error_description": "access_denied"}` for wrong
//! credentials. Tokens expire; an expired, revoked or unknown token is a 401 at the Table API.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::servicenow::{PASSWORD, USERNAME};

/// The OAuth client registered on the fake instance.
pub const CLIENT_ID: &str = "3f1b2c0d9e8a4b7c6d5e4f3a2b1c0d9e";
/// Its secret.
pub const CLIENT_SECRET: &str = "fake-servicenow-client-secret";

/// The fake's OAuth state.
#[derive(Debug)]
pub(crate) struct OAuth {
    /// Tokens issued, with when they expire.
    tokens: Vec<(String, Instant)>,
    /// How long a new token lives.
    pub(crate) lifetime: Duration,
    /// Whether the Table API refuses Basic auth (an instance that allows OAuth only).
    pub(crate) only: bool,
    /// The grant types asked for, in order.
    pub(crate) grants: Vec<String>,
    /// Table API calls refused for their token.
    pub(crate) refused: u32,
}

impl Default for OAuth {
    fn default() -> Self {
        Self { tokens: Vec::new(), lifetime: Duration::from_secs(1799), only: false, grants: Vec::new(), refused: 0 }
    }
}

impl OAuth {
    /// Ends every token issued so far.
    pub(crate) fn expire_all(&mut self) {
        let now = Instant::now();
        for (_, until) in &mut self.tokens {
            *until = now;
        }
    }

    /// Whether `headers` carry credentials the Table API accepts: a live bearer token, or Basic
    /// auth as the integration user unless the instance allows OAuth only.
    pub(crate) fn admits(&mut self, headers: &HeaderMap) -> bool {
        let value = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if let Some(token) = value.strip_prefix("Bearer ") {
            let live = self.tokens.iter().any(|(t, until)| t == token && Instant::now() < *until);
            if !live {
                self.refused += 1;
            }
            return live;
        }
        !self.only
            && super::basic_auth(headers).is_some_and(|(user, password)| user == USERNAME && password == PASSWORD)
    }

    /// `POST /oauth_token.do`.
    pub(crate) fn token(&mut self, headers: &HeaderMap, body: &str) -> Response {
        let form_encoded = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form_encoded {
            let answer = json!({"error": "invalid_request", "error_description": "Unsupported content type"});
            return (StatusCode::BAD_REQUEST, axum::Json(answer)).into_response();
        }
        let form: std::collections::HashMap<String, String> =
            form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        let grant = field("grant_type").to_owned();
        self.grants.push(grant.clone());
        let client_ok = field("client_id") == CLIENT_ID && field("client_secret") == CLIENT_SECRET;
        let granted = match grant.as_str() {
            "password" => client_ok && field("username") == USERNAME && field("password") == PASSWORD,
            "client_credentials" => client_ok,
            _ => {
                let answer = json!({"error": "unsupported_grant_type", "error_description": "access_denied"});
                return (StatusCode::BAD_REQUEST, axum::Json(answer)).into_response();
            }
        };
        if !granted {
            let answer = json!({"error": "server_error", "error_description": "access_denied"});
            return (StatusCode::UNAUTHORIZED, axum::Json(answer)).into_response();
        }
        let token = format!("snow-token-{}", self.tokens.len() + 1);
        self.tokens.push((token.clone(), Instant::now() + self.lifetime));
        let mut answer = json!({
            "access_token": token,
            "scope": "useraccount",
            "token_type": "Bearer",
            "expires_in": self.lifetime.as_secs(),
        });
        if grant == "password" {
            answer["refresh_token"] = json!(format!("snow-refresh-{}", self.tokens.len()));
        }
        axum::Json(answer).into_response()
    }
}
