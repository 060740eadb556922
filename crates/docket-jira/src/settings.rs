//! What the `jira` section of `docket.yaml` configures: where Jira is, how Docket signs in,
//! which project and issue type its issues use, the secret webhooks are signed with, and which
//! Jira status each ticket state moves the issue to.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use docket_app::outbound::{Backoff, RetryPolicy};

/// Which REST API the server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// Jira Cloud: `/rest/api/3`, Atlassian Document Format, Basic auth with an API token.
    Cloud,
    /// Jira Data Center: `/rest/api/2`, plain text bodies, a personal access token as Bearer.
    DataCenter,
}

/// The Jira integration's settings.
#[derive(Clone)]
pub struct JiraSettings {
    /// The site (`https://acme.atlassian.net`), without a trailing slash.
    pub url: String,
    /// Cloud (v3) or Data Center (v2).
    pub api: Api,
    /// The account the API token belongs to (Cloud).
    pub email: Option<String>,
    /// The API token (Cloud) or personal access token (Data Center). Secret.
    pub api_token: String,
    /// The project issues are created in (`OPS`).
    pub project: String,
    /// Their issue type (`Task`).
    pub issue_type: String,
    /// The secret Jira signs webhooks with (`X-Hub-Signature`). Secret.
    pub webhook_secret: String,
    /// Ticket state (`awaiting_approval`) → the Jira status the issue moves to.
    pub statuses: BTreeMap<String, String>,
    /// Docket's public URL, for the link back from each issue.
    pub public_url: Option<String>,
    /// How each call is retried (429s and 5xx, never sooner than `Retry-After`); what is
    /// still failing is left to the outbox.
    pub retry: RetryPolicy,
}

impl JiraSettings {
    /// Settings for the Cloud site at `url`, with the default issue type and no status map.
    pub fn new(url: &str, email: &str, api_token: &str, project: &str, webhook_secret: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            api: Api::Cloud,
            email: Some(email.to_owned()),
            api_token: api_token.to_owned(),
            project: project.to_owned(),
            issue_type: "Task".to_owned(),
            webhook_secret: webhook_secret.to_owned(),
            statuses: BTreeMap::new(),
            public_url: None,
            retry: RetryPolicy {
                backoff: Backoff { base: Duration::from_millis(500), max: Duration::from_secs(30) },
                attempts: 3,
            },
        }
    }

    /// The Jira status mapped to ticket state `state` (`approved`), if any.
    pub fn status_for(&self, state: &str) -> Option<&str> {
        self.statuses.get(state).map(String::as_str)
    }

    /// The REST base (`{url}/rest/api/3`).
    pub fn rest(&self) -> String {
        match self.api {
            Api::Cloud => format!("{}/rest/api/3", self.url),
            Api::DataCenter => format!("{}/rest/api/2", self.url),
        }
    }
}

impl fmt::Debug for JiraSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraSettings")
            .field("url", &self.url)
            .field("api", &self.api)
            .field("project", &self.project)
            .field("issue_type", &self.issue_type)
            .field("statuses", &self.statuses)
            .finish_non_exhaustive()
    }
}
