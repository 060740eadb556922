//! The few Kubernetes API calls the step kind makes, over plain HTTP: read a Deployment, list
//! its ReplicaSets, patch it (for real or as a server-side dry run), and watch it. A refusal is
//! the API server's own `Status`: its message, reason and code.

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Response, StatusCode, Url};
use serde_json::Value;

use crate::action::Workload;
use crate::kubeconfig::Endpoint;

/// How long one call (not a watch) may take.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The patch formats the API server accepts that Docket sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Patch {
    /// RFC 6902 JSON Patch: `test` operations make it conditional.
    Json,
    /// RFC 7386 JSON Merge Patch.
    Merge,
    /// Server-side apply: the object as its field manager wants it.
    Apply,
}

impl Patch {
    fn content_type(self) -> &'static str {
        match self {
            Patch::Json => "application/json-patch+json",
            Patch::Merge => "application/merge-patch+json",
            Patch::Apply => "application/apply-patch+yaml",
        }
    }
}

/// A call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KubeError {
    /// The server could not be reached or did not answer.
    #[error("the Kubernetes API at {server} could not be reached: {why}")]
    Unreachable {
        /// The server.
        server: String,
        /// Why.
        why: String,
    },
    /// The API server refused, in its own words.
    #[error("the Kubernetes API refused: {message} ({code} {reason})")]
    Refused {
        /// The HTTP status.
        code: u16,
        /// Its `reason` (`NotFound`, `Forbidden`, `Conflict`, `Invalid`).
        reason: String,
        /// Its `message`.
        message: String,
    },
    /// The answer was not what the API documents.
    #[error("the Kubernetes API answered something Docket cannot read: {0}")]
    Unreadable(String),
}

/// A client for one cluster and identity.
#[derive(Clone, Debug)]
pub(crate) struct Kube {
    endpoint: Endpoint,
}

impl Kube {
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }

    /// The context's namespace.
    pub(crate) fn default_namespace(&self) -> Option<&str> {
        self.endpoint.namespace.as_deref()
    }

    /// `GET /apis/apps/v1/namespaces/{ns}/{deployments|statefulsets|daemonsets}/{name}`.
    pub(crate) async fn workload(&self, kind: Workload, ns: &str, name: &str) -> Result<Value, KubeError> {
        self.call(Method::GET, &workload_path(kind, ns, name), &[], None).await
    }

    /// The ReplicaSets in `ns` matching `selector` (`app=api,tier=web`).
    pub(crate) async fn replica_sets(&self, ns: &str, selector: &str) -> Result<Vec<Value>, KubeError> {
        let path = format!("/apis/apps/v1/namespaces/{ns}/replicasets");
        let list = self.call(Method::GET, &path, &[("labelSelector", selector)], None).await?;
        match list.get("items") {
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(Value::Null) | None => Ok(Vec::new()),
            Some(_) => Err(KubeError::Unreadable("a ReplicaSetList whose items are not a list".to_owned())),
        }
    }

    /// Patches the workload; with `dry_run`, the server runs every check and admission but
    /// stores nothing (`dryRun=All`). Answers the workload as it is (or would be) after.
    #[allow(clippy::too_many_arguments, reason = "one call's parts, each distinct")]
    pub(crate) async fn patch(
        &self,
        kind: Workload,
        ns: &str,
        name: &str,
        patch: Patch,
        body: &Value,
        dry_run: bool,
    ) -> Result<Value, KubeError> {
        let mut query = vec![("fieldManager", "docket")];
        if dry_run {
            query.push(("dryRun", "All"));
        }
        self.call(Method::PATCH, &workload_path(kind, ns, name), &query, Some((patch, body))).await
    }

    /// The object at `path`, or `None` when there is none (404).
    pub(crate) async fn get(&self, path: &str) -> Result<Option<Value>, KubeError> {
        match self.call(Method::GET, path, &[], None).await {
            Ok(object) => Ok(Some(object)),
            Err(KubeError::Refused { code: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Server-side apply of `object` at `path` as field manager `docket` (JSON is YAML, so
    /// the body is the object's JSON); `force` takes over fields other managers own rather than
    /// failing with a conflict; with `dry_run`, nothing is stored. Answers the object after.
    pub(crate) async fn apply(
        &self,
        path: &str,
        object: &Value,
        dry_run: bool,
        force: bool,
    ) -> Result<Value, KubeError> {
        let mut query = vec![("fieldManager", "docket")];
        if dry_run {
            query.push(("dryRun", "All"));
        }
        if force {
            query.push(("force", "true"));
        }
        self.call(Method::PATCH, path, &query, Some((Patch::Apply, object))).await
    }

    /// Opens a watch on one workload from `resource_version`; the server closes it after
    /// `timeout_seconds`. Events arrive as lines of JSON (`{"type", "object"}`).
    pub(crate) async fn watch(
        &self,
        kind: Workload,
        ns: &str,
        name: &str,
        resource_version: &str,
        timeout_seconds: u64,
    ) -> Result<Response, KubeError> {
        let path = format!("/apis/apps/v1/namespaces/{ns}/{}", kind.plural());
        let field = format!("metadata.name={name}");
        let timeout = timeout_seconds.to_string();
        let query = [
            ("watch", "true"),
            ("fieldSelector", field.as_str()),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", timeout.as_str()),
        ];
        let request = self.request(Method::GET, &path, &query)?;
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        if response.status().is_success() { Ok(response) } else { Err(refusal(response).await) }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(Patch, &Value)>,
    ) -> Result<Value, KubeError> {
        let mut request = self.request(method, path, query)?.timeout(CALL_TIMEOUT);
        if let Some((patch, body)) = body {
            let bytes = serde_json::to_vec(body).map_err(|e| KubeError::Unreadable(e.to_string()))?;
            request = request.header(CONTENT_TYPE, patch.content_type()).body(bytes);
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        response.json::<Value>().await.map_err(|e| KubeError::Unreadable(e.to_string()))
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<reqwest::RequestBuilder, KubeError> {
        let mut url: Url = self
            .endpoint
            .server
            .join(path.trim_start_matches('/'))
            .map_err(|e| KubeError::Unreadable(format!("the path {path}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self.endpoint.client.request(method, url).header(ACCEPT, "application/json");
        if let Some(token) = &self.endpoint.token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        Ok(request)
    }

    fn unreachable(&self, e: &reqwest::Error) -> KubeError {
        use std::error::Error as _;
        let mut why = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            why = format!("{why}: {s}");
            source = s.source();
        }
        KubeError::Unreachable { server: self.endpoint.server.to_string(), why }
    }
}

/// The API server's `Status` for a failed call, or the HTTP status alone when there is none.
async fn refusal(response: Response) -> KubeError {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    status_error(status, &body)
}

pub(crate) fn status_error(status: StatusCode, body: &[u8]) -> KubeError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let text = |key: &str| parsed.as_ref().and_then(|v| v.get(key)).and_then(Value::as_str).map(str::to_owned);
    KubeError::Refused {
        code: status.as_u16(),
        reason: text("reason").unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned()),
        message: text("message").unwrap_or_else(|| format!("HTTP {status}")),
    }
}

fn workload_path(kind: Workload, ns: &str, name: &str) -> String {
    format!("/apis/apps/v1/namespaces/{ns}/{}/{name}", kind.plural())
}

/// Whether `name` is a valid object or namespace name (RFC 1123 subdomain: lower-case letters,
/// digits, `-` and `.`, starting and ending with a letter or digit, at most 253 characters), so
/// a rendered parameter can never reach another path.
pub(crate) fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}
