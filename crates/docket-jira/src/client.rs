//! Jira's REST API, the few calls Docket makes: find an issue by the ticket's label, create
//! one, upsert the remote link back to the ticket, read an issue's status and transitions,
//! move it, comment. 429s and 5xx are retried through the outbound toolkit (never sooner than
//! `Retry-After`); what still fails is the outbox's to retry.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use docket_app::outbound::{self, Verdict};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::settings::{Api, JiraSettings};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// Jira could not be reached, or did not answer in time.
    #[error("could not reach Jira: {0}")]
    Network(String),
    /// Jira answered with an error status.
    #[error("Jira answered {status}: {detail}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// Jira's `errorMessages` and `errors`, or the body.
        detail: String,
        /// Its `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// The answer was not what the API documents.
    #[error("Jira's answer could not be read: {0}")]
    Answer(String),
}

impl JiraError {
    /// Whether trying again later could help (network, 429, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network(_) => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Answer(_) => false,
        }
    }

    /// Whether Jira says it wrote nothing: a 4xx (429 included) or a 503. After a 502, a 504,
    /// a lost connection or an unreadable answer, a write may have been done.
    pub fn nothing_written(&self) -> bool {
        matches!(self, Self::Status { status, .. } if *status < 500 || *status == 503)
    }
}

/// An issue, as Jira names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueRef {
    /// Its numeric id (`10001`).
    pub id: String,
    /// Its key (`OPS-123`).
    pub key: String,
}

/// One way out of an issue's current status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The transition's id (differs per workflow).
    pub id: String,
    /// The status it leads to.
    pub to: String,
}

/// An account, as Jira's webhooks and `/myself` name it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Its id on Jira Cloud (`5b10ac8d82e05b22cc7d4ef5`).
    pub account_id: Option<String>,
    /// Its user name on Data Center.
    pub name: Option<String>,
}

impl Account {
    /// The account a webhook's `user` (or a comment's `author`) object names.
    pub fn of(user: &Value) -> Self {
        let field = |name: &str| user.get(name).and_then(Value::as_str).map(str::to_owned);
        Self { account_id: field("accountId"), name: field("name") }
    }

    /// Whether `other` is this account: the same Cloud id, or the same Data Center name.
    pub fn is(&self, other: &Account) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        same(&self.account_id, &other.account_id) || same(&self.name, &other.name)
    }
}

/// The comment property Docket marks its comments with (`{"marker": "DKT-42:17:note:0"}`).
pub const MARKER_PROPERTY: &str = "docket";

/// The Jira REST client.
#[derive(Clone, Debug)]
pub struct JiraClient {
    http: reqwest::Client,
    settings: Arc<JiraSettings>,
}

impl JiraClient {
    /// A client for `settings`.
    pub fn new(settings: Arc<JiraSettings>) -> Result<Self, JiraError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("docket/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| JiraError::Network(e.to_string()))?;
        Ok(Self { http, settings })
    }

    /// The settings in force.
    pub fn settings(&self) -> &JiraSettings {
        &self.settings
    }

    /// The issue labelled for `label` in the project, if one exists.
    pub async fn find_by_label(&self, label: &str) -> Result<Option<IssueRef>, JiraError> {
        let jql = format!("project = \"{}\" AND labels = \"{label}\" ORDER BY created ASC", self.settings.project);
        let path = match self.settings.api {
            Api::Cloud => "search/jql",
            Api::DataCenter => "search",
        };
        let query = [("jql", jql.as_str()), ("fields", "status"), ("maxResults", "1")];
        let answer = self.call(Method::GET, path, None, &query).await?;
        let Some(first) = answer.get("issues").and_then(Value::as_array).and_then(|a| a.first()) else {
            return Ok(None);
        };
        issue_ref(first).map(Some)
    }

    /// Creates an issue with `summary`, `description` (a body for the API in use) and `label`.
    pub async fn create_issue(&self, summary: &str, description: Value, label: &str) -> Result<IssueRef, JiraError> {
        let body = json!({"fields": {
            "project": {"key": self.settings.project},
            "issuetype": {"name": self.settings.issue_type},
            "summary": summary,
            "description": description,
            "labels": [label],
        }});
        issue_ref(&self.call(Method::POST, "issue", Some(body), &[]).await?)
    }

    /// Creates or updates (by `global_id`) the issue's link to `url`.
    pub async fn remote_link(
        &self,
        issue: &str,
        global_id: &str,
        url: &str,
        title: &str,
        resolved: bool,
    ) -> Result<(), JiraError> {
        let body = json!({
            "globalId": global_id,
            "application": {"type": "com.docket", "name": "Docket"},
            "object": {"url": url, "title": title, "status": {"resolved": resolved}},
        });
        self.call(Method::POST, &format!("issue/{issue}/remotelink"), Some(body), &[]).await.map(drop)
    }

    /// The account Docket calls Jira as (`GET /myself`).
    pub async fn myself(&self) -> Result<Account, JiraError> {
        Ok(Account::of(&self.call(Method::GET, "myself", None, &[]).await?))
    }

    /// The issue's current status name.
    pub async fn status(&self, issue: &str) -> Result<String, JiraError> {
        let answer = self.call(Method::GET, &format!("issue/{issue}"), None, &[("fields", "status")]).await?;
        answer
            .pointer("/fields/status/name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| JiraError::Answer("the issue has no fields.status.name".to_owned()))
    }

    /// The transitions open from the issue's current status.
    pub async fn transitions(&self, issue: &str) -> Result<Vec<Transition>, JiraError> {
        let answer = self.call(Method::GET, &format!("issue/{issue}/transitions"), None, &[]).await?;
        let list = answer.get("transitions").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(list
            .iter()
            .filter_map(|t| {
                let id = t.get("id").and_then(Value::as_str)?;
                let to = t.pointer("/to/name").and_then(Value::as_str)?;
                Some(Transition { id: id.to_owned(), to: to.to_owned() })
            })
            .collect())
    }

    /// Takes transition `id` on the issue.
    pub async fn transition(&self, issue: &str, id: &str) -> Result<(), JiraError> {
        let body = json!({"transition": {"id": id}});
        self.call(Method::POST, &format!("issue/{issue}/transitions"), Some(body), &[]).await.map(drop)
    }

    /// Adds a comment (a body for the API in use) marked with `marker` (on Cloud, the comment
    /// property [`MARKER_PROPERTY`]); returns its id.
    pub async fn comment(&self, issue: &str, body: Value, marker: &str) -> Result<String, JiraError> {
        let mut comment = json!({"body": body});
        // Cloud documents a comment's properties on create; Data Center comments go unmarked.
        if self.settings.api == Api::Cloud {
            comment["properties"] = json!([{"key": MARKER_PROPERTY, "value": {"marker": marker}}]);
        }
        let answer = self.call(Method::POST, &format!("issue/{issue}/comment"), Some(comment), &[]).await?;
        Ok(answer.get("id").and_then(Value::as_str).unwrap_or_default().to_owned())
    }

    /// The id of the comment on `issue` that [`JiraClient::comment`] marked with `marker`, if
    /// it is among the issue's newest comments: how a retry finds a comment whose answer was
    /// lost before posting it again. Always `None` on Data Center.
    pub async fn find_comment(&self, issue: &str, marker: &str) -> Result<Option<String>, JiraError> {
        if self.settings.api != Api::Cloud {
            return Ok(None);
        }
        let query = [("orderBy", "-created"), ("maxResults", "20")];
        let answer = self.call(Method::GET, &format!("issue/{issue}/comment"), None, &query).await?;
        let ids: Vec<String> = answer
            .get("comments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        for id in ids {
            let path = format!("comment/{id}/properties/{MARKER_PROPERTY}");
            match self.call(Method::GET, &path, None, &[]).await {
                Ok(property) if property.pointer("/value/marker").and_then(Value::as_str) == Some(marker) => {
                    return Ok(Some(id));
                }
                Ok(_) | Err(JiraError::Status { status: 404, .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(None)
    }

    /// One call, retried through the toolkit; the JSON answer (`null` for 204).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        query: &[(&str, &str)],
    ) -> Result<Value, JiraError> {
        let url = format!("{}/{path}", self.settings.rest());
        let attempt = || async {
            let mut request = self.http.request(method.clone(), &url).query(query);
            if let Some(body) = &body {
                request = request.json(body);
            }
            self.send(self.authorize(request)).await
        };
        // A write that creates something (an issue, a comment) is tried again here only when
        // Jira says it did nothing (429, 503); after a 502, a 504 or a lost connection it may
        // have been done, and the outbox's retry looks before it writes again.
        let creates = method == Method::POST && !path.ends_with("/remotelink") && !path.ends_with("/transitions");
        outbound::retry(self.settings.retry, attempt, |error: &JiraError| match error {
            JiraError::Status { status: 429 | 503, retry_after, .. } => Verdict::Retry { after: *retry_after },
            JiraError::Status { retry_after, .. } if error.is_transient() && !creates => {
                Verdict::Retry { after: *retry_after }
            }
            JiraError::Network(_) if !creates => Verdict::Retry { after: None },
            _ => Verdict::Stop,
        })
        .await
    }

    fn authorize(&self, request: RequestBuilder) -> RequestBuilder {
        let request = request.header("Accept", "application/json");
        match (self.settings.api, &self.settings.email) {
            (Api::Cloud, Some(email)) => request.basic_auth(email, Some(&self.settings.api_token)),
            _ => request.bearer_auth(&self.settings.api_token),
        }
    }

    async fn send(&self, request: RequestBuilder) -> Result<Value, JiraError> {
        let response = request.send().await.map_err(|e| JiraError::Network(e.without_url().to_string()))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| outbound::retry_after(v, SystemTime::now()));
        let bytes = response.bytes().await.map_err(|e| JiraError::Network(e.without_url().to_string()))?;
        if status == StatusCode::NO_CONTENT || (status.is_success() && bytes.is_empty()) {
            return Ok(Value::Null);
        }
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        Err(JiraError::Status { status: status.as_u16(), detail: error_detail(&value, &bytes), retry_after })
    }
}

fn issue_ref(value: &Value) -> Result<IssueRef, JiraError> {
    let id = value.get("id").and_then(Value::as_str);
    let key = value.get("key").and_then(Value::as_str);
    match (id, key) {
        (Some(id), Some(key)) => Ok(IssueRef { id: id.to_owned(), key: key.to_owned() }),
        _ => Err(JiraError::Answer("an issue without `id` and `key`".to_owned())),
    }
}

/// Jira's error messages (`errorMessages`, `errors`), or the start of the body.
fn error_detail(value: &Value, bytes: &[u8]) -> String {
    let mut parts: Vec<String> = value
        .get("errorMessages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().map(str::to_owned))
        .collect();
    if let Some(errors) = value.get("errors").and_then(Value::as_object) {
        parts.extend(errors.iter().map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default())));
    }
    if parts.is_empty() { String::from_utf8_lossy(bytes).chars().take(200).collect() } else { parts.join("; ") }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::Account;

    #[test]
    fn an_account_is_the_same_by_cloud_id_or_data_center_name_never_by_absence() {
        let docket = Account::of(&json!({"accountId": "acc-docket", "displayName": "Docket"}));
        assert!(docket.is(&Account::of(&json!({"accountId": "acc-docket"}))));
        assert!(!docket.is(&Account::of(&json!({"accountId": "acc-bob"}))));
        assert!(!docket.is(&Account::of(&json!({"displayName": "Docket"}))), "no id on either side is no match");
        let on_data_center = Account::of(&json!({"name": "docket", "key": "JIRAUSER10100"}));
        assert!(on_data_center.is(&Account::of(&json!({"name": "docket"}))));
        assert!(!on_data_center.is(&Account::default()));
    }
}
