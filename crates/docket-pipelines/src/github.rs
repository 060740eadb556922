//! The GitHub REST calls `github_actions` steps make: a run and its jobs, re-running a run or
//! its failed jobs, a workflow, dispatching it, and its recent runs. A refusal is GitHub's own
//! `message`; the token is sent only in the `Authorization` header and never shown.

use reqwest::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::section::GithubSettings;

/// How long one call may take.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GithubError {
    /// GitHub could not be reached.
    #[error("GitHub could not be reached: {0}")]
    Unreachable(String),
    /// GitHub refused, in its own words.
    #[error("GitHub refused: {message} ({status})")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// GitHub's `message`.
        message: String,
    },
    /// The answer was not what the API documents.
    #[error("GitHub answered something Docket cannot read: {0}")]
    Unreadable(String),
}

/// A client for one API and token.
#[derive(Clone, Debug)]
pub(crate) struct Github {
    client: Client,
    settings: GithubSettings,
}

impl Github {
    pub(crate) fn new(client: Client, settings: GithubSettings) -> Self {
        Self { client, settings }
    }

    /// `GET /repos/{repo}/actions/runs/{id}`.
    pub(crate) async fn run(&self, repo: &str, id: u64) -> Result<Value, GithubError> {
        self.call(Method::GET, &format!("/repos/{repo}/actions/runs/{id}"), &[], None).await.map(|(_, v)| v)
    }

    /// The jobs of the run's latest attempt.
    pub(crate) async fn jobs(&self, repo: &str, id: u64) -> Result<Vec<Value>, GithubError> {
        let path = format!("/repos/{repo}/actions/runs/{id}/jobs");
        let (_, page) = self.call(Method::GET, &path, &[("filter", "latest"), ("per_page", "100")], None).await?;
        page["jobs"].as_array().cloned().ok_or_else(|| GithubError::Unreadable("a job list without `jobs`".to_owned()))
    }

    /// Re-runs the run, or only its failed jobs (201).
    pub(crate) async fn rerun(&self, repo: &str, id: u64, failed_only: bool) -> Result<(), GithubError> {
        let what = if failed_only { "rerun-failed-jobs" } else { "rerun" };
        self.call(Method::POST, &format!("/repos/{repo}/actions/runs/{id}/{what}"), &[], Some(&json!({}))).await?;
        Ok(())
    }

    /// `GET /repos/{repo}/actions/workflows/{workflow}`.
    pub(crate) async fn workflow(&self, repo: &str, workflow: &str) -> Result<Value, GithubError> {
        self.call(Method::GET, &format!("/repos/{repo}/actions/workflows/{workflow}"), &[], None).await.map(|(_, v)| v)
    }

    /// Dispatches the workflow; the new run's id when GitHub says it (`return_run_details`).
    pub(crate) async fn dispatch(
        &self,
        repo: &str,
        workflow: &str,
        git_ref: &str,
        inputs: &Value,
    ) -> Result<Option<u64>, GithubError> {
        let path = format!("/repos/{repo}/actions/workflows/{workflow}/dispatches");
        let body = json!({"ref": git_ref, "inputs": inputs, "return_run_details": true});
        let (status, answer) = self.call(Method::POST, &path, &[], Some(&body)).await?;
        Ok(if status == StatusCode::OK { answer["workflow_run_id"].as_u64() } else { None })
    }

    /// The workflow's most recent `workflow_dispatch` runs on `git_ref`, newest first.
    pub(crate) async fn dispatched_runs(
        &self,
        repo: &str,
        workflow: &str,
        git_ref: &str,
    ) -> Result<Vec<Value>, GithubError> {
        let path = format!("/repos/{repo}/actions/workflows/{workflow}/runs");
        let query = [("event", "workflow_dispatch"), ("branch", git_ref), ("per_page", "20")];
        let (_, page) = self.call(Method::GET, &path, &query, None).await?;
        Ok(page["workflow_runs"].as_array().cloned().unwrap_or_default())
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), GithubError> {
        let url = format!("{}{path}", self.settings.api_url);
        let mut request = self
            .client
            .request(method, &url)
            .timeout(CALL_TIMEOUT)
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .header(USER_AGENT, concat!("docket/", env!("CARGO_PKG_VERSION")))
            .header(AUTHORIZATION, format!("Bearer {}", self.settings.token.expose()));
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| GithubError::Unreachable(without_url(&e)))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| GithubError::Unreachable(without_url(&e)))?;
        let value: Value =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        if status.is_success() {
            return Ok((status, value));
        }
        let message = value["message"].as_str().map_or_else(|| format!("HTTP {status}"), str::to_owned);
        Err(GithubError::Refused { status: status.as_u16(), message })
    }
}

fn without_url(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut why = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        why = format!("{why}: {s}");
        source = s.source();
    }
    why
}

/// Whether `repo` is `owner/name` (letters, digits, `-`, `_`, `.`).
pub(crate) fn is_repo(repo: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty() && p != "." && p != ".." && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    matches!(repo.split_once('/'), Some((owner, name)) if part(owner) && part(name))
}

/// Whether `name` is a workflow file name or id.
pub(crate) fn is_workflow(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}
