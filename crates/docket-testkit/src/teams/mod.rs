//! A fake Bot Framework for end-to-end tests of the Teams surface, on loopback: the OpenID
//! metadata document and its key set (keys made in the test, with `endorsements`), a
//! client-credentials token endpoint, and a connector that records the activities Docket posts,
//! replies and replaces, and the 1:1 chats it starts — answering like Teams, including scripted
//! 429 / 412 / 502 / 504 answers and 403 `MessageWritesBlocked` — and the part of Microsoft
//! Graph that lists those messages back (`graph`), with or without consent.

mod connector;
mod graph;
pub mod keys;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub use keys::{ISSUER, SigningKey, claims};

/// The bot's app id in the fake.
pub const APP_ID: &str = "00000000-0000-0000-0000-00000000b07";
/// The bot's client secret in the fake.
pub const APP_PASSWORD: &str = "fake-teams-client-secret";
/// The tenant of the fake.
pub const TENANT: &str = "tenant-1";

/// One call Docket made to the connector.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// `send`, `reply`, `update` or `create_conversation`.
    pub kind: &'static str,
    /// The conversation (for `create_conversation`, the one made).
    pub conversation: String,
    /// The activity: new for `send` and `reply`, the replaced one for `update`.
    pub activity_id: String,
    /// The message replied to, for `reply`.
    pub reply_to: Option<String>,
    /// The body Docket sent.
    pub body: Value,
}

impl Recorded {
    /// The Adaptive Card the activity carries, if any.
    pub fn card(&self) -> Option<&Value> {
        self.body.get("attachments")?.get(0)?.get("content")
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) keys: Vec<SigningKey>,
    pub(crate) key_fetches: usize,
    pub(crate) tokens_issued: Vec<String>,
    pub(crate) token_requests: usize,
    pub(crate) recorded: Vec<Recorded>,
    pub(crate) activities: HashMap<String, String>,
    pub(crate) next_id: u64,
    pub(crate) scripted: VecDeque<u16>,
    pub(crate) blocked: HashSet<String>,
    pub(crate) failed_answers: usize,
    /// When each posted activity was made (RFC 3339).
    pub(crate) created: HashMap<String, String>,
    pub(crate) graph_tokens: Vec<String>,
    pub(crate) graph_requests: Vec<String>,
    pub(crate) graph_refusal: Option<u16>,
}

pub(crate) type Shared = Arc<Mutex<Inner>>;

pub(crate) fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The fake, serving until dropped.
pub struct FakeBotFramework {
    url: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeBotFramework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeBotFramework").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for FakeBotFramework {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeBotFramework {
    /// Starts the fake with one key (`key-1`) endorsed for `msteams`.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let shared: Shared =
            Arc::new(Mutex::new(Inner { keys: vec![SigningKey::new(0, "key-1", &["msteams"])], ..Inner::default() }));
        let router = Router::new()
            .route("/v1/.well-known/openidconfiguration", get(metadata))
            .route("/v1/.well-known/keys", get(key_set))
            .route("/oauth2/v2.0/token", post(token))
            .merge(connector::routes())
            .merge(graph::routes())
            .with_state((shared.clone(), url.clone()));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, shared, server }
    }

    /// Where the OpenID metadata is.
    pub fn metadata_url(&self) -> String {
        format!("{}/v1/.well-known/openidconfiguration", self.url)
    }

    /// Where client-credentials tokens come from.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/v2.0/token", self.url)
    }

    /// The connector's service URL, as activities carry it (with Teams' trailing slash).
    pub fn service_url(&self) -> String {
        format!("{}/amer/", self.url)
    }

    /// Graph's base URL in the fake.
    pub fn graph_url(&self) -> String {
        format!("{}/graph", self.url)
    }

    /// Where Graph tokens come from, with `{tenant_id}` to fill in.
    pub fn graph_token_url(&self) -> String {
        format!("{}/graph-login/{{tenant_id}}/oauth2/v2.0/token", self.url)
    }

    /// Graph's message lists answer `status` (403: the app has no consent there; 404).
    pub fn refuse_graph(&self, status: u16) {
        lock(&self.shared).graph_refusal = Some(status);
    }

    /// The Graph message lists asked for so far (paths).
    pub fn graph_requests(&self) -> Vec<String> {
        lock(&self.shared).graph_requests.clone()
    }

    /// The key the fake signs with.
    pub fn key(&self) -> SigningKey {
        lock(&self.shared).keys.first().cloned().expect("a key")
    }

    /// Publishes `key` as well.
    pub fn publish(&self, key: SigningKey) {
        lock(&self.shared).keys.push(key);
    }

    /// A valid token for an activity from this fake's service URL.
    pub fn token(&self) -> String {
        self.key().sign(&claims(APP_ID, &self.service_url()))
    }

    /// How often the key set was fetched.
    pub fn key_fetches(&self) -> usize {
        lock(&self.shared).key_fetches
    }

    /// How often a client-credentials token was asked for.
    pub fn token_requests(&self) -> usize {
        lock(&self.shared).token_requests
    }

    /// The next connector calls are answered with these statuses, in order (then normally).
    pub fn script(&self, statuses: &[u16]) {
        lock(&self.shared).scripted.extend(statuses);
    }

    /// Connector calls answered with a scripted failure so far.
    pub fn failed_answers(&self) -> usize {
        lock(&self.shared).failed_answers
    }

    /// Writes to `conversation` (or 1:1 chats started with user `29:…`) get 403
    /// `MessageWritesBlocked`.
    pub fn block(&self, conversation_or_user: &str) {
        lock(&self.shared).blocked.insert(conversation_or_user.to_owned());
    }

    /// Every connector call so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        lock(&self.shared).recorded.clone()
    }

    /// Waits (up to 20 s) until the recorded calls satisfy `done`, and returns them.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Recorded]) -> bool) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let recorded = self.recorded();
            if done(&recorded) {
                return recorded;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("the fake Bot Framework never saw {what}; it recorded:\n{recorded:#?}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

type AppState = (Shared, String);

async fn metadata(State((_, url)): State<AppState>) -> Response {
    axum::Json(json!({
        "issuer": ISSUER,
        "authorization_endpoint": "https://invalid.botframework.com",
        "jwks_uri": format!("{url}/v1/.well-known/keys"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }))
    .into_response()
}

async fn key_set(State((shared, _)): State<AppState>) -> Response {
    let mut inner = lock(&shared);
    inner.key_fetches += 1;
    let keys: Vec<Value> = inner.keys.iter().map(SigningKey::jwk).collect();
    axum::Json(json!({ "keys": keys })).into_response()
}

/// The client-credentials grant, checked field by field like Entra does.
async fn token(State((shared, _)): State<AppState>, body: String) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let field = |k: &str| form.get(k).map(String::as_str);
    let mut inner = lock(&shared);
    inner.token_requests += 1;
    if field("grant_type") != Some("client_credentials")
        || field("client_id") != Some(APP_ID)
        || field("client_secret") != Some(APP_PASSWORD)
        || field("scope") != Some("https://api.botframework.com/.default")
    {
        let error =
            json!({ "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided." });
        return (StatusCode::UNAUTHORIZED, axum::Json(error)).into_response();
    }
    let token = format!("fake-access-token-{}", inner.token_requests);
    inner.tokens_issued.push(token.clone());
    axum::Json(json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token }))
        .into_response()
}
