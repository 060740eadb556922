//! The GitLab REST calls (`/api/v4`) `gitlab` steps make: a pipeline, its jobs, retrying it.
//! A refusal is GitLab's own `message`; the token goes only in `PRIVATE-TOKEN`.

use reqwest::header::USER_AGENT;
use reqwest::{Client, Method};
use serde_json::Value;

use super::section::GitlabSettings;

const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GitlabError {
    /// GitLab could not be reached.
    #[error("GitLab could not be reached: {0}")]
    Unreachable(String),
    /// GitLab refused, in its own words.
    #[error("GitLab refused: {message} ({status})")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// GitLab's `message` (or `error`).
        message: String,
    },
}

/// A client for one instance and token.
#[derive(Clone, Debug)]
pub(crate) struct Gitlab {
    client: Client,
    settings: GitlabSettings,
}

impl Gitlab {
    pub(crate) fn new(client: Client, settings: GitlabSettings) -> Self {
        Self { client, settings }
    }

    /// `GET /projects/:id/pipelines/:pipeline_id`.
    pub(crate) async fn pipeline(&self, project: &str, id: u64) -> Result<Value, GitlabError> {
        self.call(Method::GET, &format!("/projects/{}/pipelines/{id}", encode(project)), &[]).await
    }

    /// The pipeline's jobs (retried ones left out, as GitLab lists them by default).
    pub(crate) async fn jobs(&self, project: &str, id: u64) -> Result<Vec<Value>, GitlabError> {
        let path = format!("/projects/{}/pipelines/{id}/jobs", encode(project));
        Ok(self.call(Method::GET, &path, &[("per_page", "100")]).await?.as_array().cloned().unwrap_or_default())
    }

    /// `POST /projects/:id/pipelines/:pipeline_id/retry` (201, the pipeline).
    pub(crate) async fn retry(&self, project: &str, id: u64) -> Result<Value, GitlabError> {
        self.call(Method::POST, &format!("/projects/{}/pipelines/{id}/retry", encode(project)), &[]).await
    }

    async fn call(&self, method: Method, path: &str, query: &[(&str, &str)]) -> Result<Value, GitlabError> {
        let url = format!("{}/api/v4{path}", self.settings.url);
        let mut request = self
            .client
            .request(method, &url)
            .timeout(CALL_TIMEOUT)
            .header("PRIVATE-TOKEN", self.settings.token.expose())
            .header(USER_AGENT, concat!("docket/", env!("CARGO_PKG_VERSION")));
        if !query.is_empty() {
            request = request.query(query);
        }
        let response = request.send().await.map_err(|e| GitlabError::Unreachable(e.to_string()))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| GitlabError::Unreachable(e.to_string()))?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let message = value["message"]
            .as_str()
            .or_else(|| value["error"].as_str())
            .map_or_else(|| format!("HTTP {status}"), str::to_owned);
        Err(GitlabError::Refused { status: status.as_u16(), message })
    }
}

/// A project path as one URL path segment (`group/api` → `group%2Fapi`); an id stays as it is.
fn encode(project: &str) -> String {
    project.replace('%', "%25").replace('/', "%2F")
}

/// Whether `project` is a numeric id or a path of letters, digits, `-`, `_`, `.` and `/`.
pub(crate) fn is_project(project: &str) -> bool {
    !project.is_empty()
        && project.split('/').all(|p| !p.is_empty() && p != "." && p != "..")
        && project.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}
