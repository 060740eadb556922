//! What the `servicenow` section of `docket.yaml` configures: the instance, the account Docket
//! signs in as, the table records are created in, and the secret callbacks are signed with.

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
    /// The integration user.
    pub username: String,
    /// Its password. Secret.
    pub password: String,
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

impl fmt::Debug for ServiceNowSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceNowSettings")
            .field("instance_url", &self.instance_url)
            .field("username", &self.username)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}
