//! What the `servicenow` section of `docket.yaml` configures: the instance, how Docket signs in
//! (Basic auth with a user name and password, or OAuth with a client id and secret), the table
//! records are created in, and the secret callbacks are signed with.

use std::fmt;
use std::time::Duration;

use docket_app::outbound::{Backoff, RetryPolicy};

/// Which table Docket's records live in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// `change_request`: the change model's states, closed with `close_code`.
    ChangeRequest,
    /// `incident`: in progress, resolved, canceled.
    Incident,
}

impl Table {
    /// The table's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChangeRequest => "change_request",
            Self::Incident => "incident",
        }
    }
}

/// The ServiceNow integration's settings.
#[derive(Clone)]
pub struct ServiceNowSettings {
    /// `https://acme.service-now.com`, without a trailing slash.
    pub instance_url: String,
    /// The integration user (the OAuth application's user with `client_credentials`): work notes
    /// written as this user are Docket's own.
    pub username: String,
    /// Its password (empty with `client_credentials`). Secret.
    pub password: String,
    /// OAuth instead of Basic auth: tokens from `{instance_url}/oauth_token.do`.
    pub oauth: Option<OAuthClient>,
    /// The table records are created in.
    pub table: Table,
    /// The secret the instance's business rules sign callbacks with. Secret.
    pub callback_secret: String,
    /// Docket's public URL, for the link back in each record.
    pub public_url: Option<String>,
    /// How each call is retried (429 and 503, never sooner than `Retry-After`).
    pub retry: RetryPolicy,
}

impl ServiceNowSettings {
    /// Settings for `instance_url`, creating change requests.
    pub fn new(instance_url: &str, username: &str, password: &str, callback_secret: &str) -> Self {
        Self {
            instance_url: instance_url.trim_end_matches('/').to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            oauth: None,
            table: Table::ChangeRequest,
            callback_secret: callback_secret.to_owned(),
            public_url: None,
            retry: RetryPolicy {
                backoff: Backoff { base: Duration::from_millis(500), max: Duration::from_secs(30) },
                attempts: 3,
            },
        }
    }
}

/// An OAuth application registered on the instance (Application Registry, "Create an OAuth API
/// endpoint for external clients").
#[derive(Clone)]
pub struct OAuthClient {
    /// Its client id.
    pub client_id: String,
    /// Its client secret. Secret.
    pub client_secret: String,
}

/// How Docket asks the instance for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// `grant_type=password`: the client and the integration user's name and password.
    Password,
    /// `grant_type=client_credentials`: the client alone, acting as its application user
    /// (ServiceNow Washington DC and later).
    ClientCredentials,
}

impl ServiceNowSettings {
    /// The same, signing in with OAuth client `client_id` (the password grant when a password
    /// is set, else client credentials).
    pub fn with_oauth(mut self, client_id: &str, client_secret: &str) -> Self {
        self.oauth = Some(OAuthClient { client_id: client_id.to_owned(), client_secret: client_secret.to_owned() });
        self
    }

    /// The grant used, with OAuth.
    pub fn grant(&self) -> Option<Grant> {
        self.oauth.as_ref().map(|_| if self.password.is_empty() { Grant::ClientCredentials } else { Grant::Password })
    }
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl fmt::Debug for ServiceNowSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceNowSettings")
            .field("instance_url", &self.instance_url)
            .field("username", &self.username)
            .field("grant", &self.grant())
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}
