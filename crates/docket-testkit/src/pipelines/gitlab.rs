//! A fake GitLab REST API (`/api/v4`) for end-to-end tests of `gitlab` steps, on loopback, in
//! the documented shapes: a pipeline (`GET /projects/:id/pipelines/:pipeline_id`, the project as
//! its URL-encoded path), its jobs, and retrying it (`POST …/retry`: 201 with the pipeline, its
//! failed and canceled jobs pending again). Authentication is `PRIVATE-TOKEN`; refusals are
//! `{"message": …}`. A retried pipeline moves on each time it is read — running, then finished
//! with the status the test scripted — so tests need no clock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The token the fake accepts.
pub const GITLAB_TOKEN: &str = "glpat-fakeGitLabToken0123456789";

#[derive(Clone, Debug)]
struct Pipeline {
    project: String,
    id: u64,
    git_ref: String,
    status: String,
    jobs: Vec<(u64, String, String)>,
    next: String,
    refuse: Option<(u16, String)>,
}

#[derive(Default)]
struct Inner {
    pipelines: BTreeMap<u64, Pipeline>,
    requests: Vec<(String, String)>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The fake, serving until dropped.
pub struct FakeGitlab {
    url: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeGitlab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGitlab").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for FakeGitlab {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeGitlab {
    /// Starts the fake.
    pub async fn start() -> Self {
        let shared: Shared = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port for the fake GitLab");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let router = Router::new()
            .route("/api/v4/projects/{project}/pipelines/{id}", get(get_pipeline))
            .route("/api/v4/projects/{project}/pipelines/{id}/jobs", get(get_jobs))
            .route("/api/v4/projects/{project}/pipelines/{id}/retry", post(retry))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, shared, server }
    }

    /// The instance's URL (without `/api/v4`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds finished pipeline `id` of `project` on `git_ref`, whose jobs ended as `jobs` says
    /// (name, status); its status is `failed` if any job failed or was canceled.
    pub fn pipeline(&self, project: &str, id: u64, git_ref: &str, jobs: &[(&str, &str)]) {
        let failed = jobs.iter().any(|(_, s)| *s == "failed" || *s == "canceled");
        let jobs = jobs
            .iter()
            .enumerate()
            .map(|(i, (n, s))| (id * 100 + i as u64, (*n).to_owned(), (*s).to_owned()))
            .collect();
        lock(&self.shared).pipelines.insert(
            id,
            Pipeline {
                project: project.to_owned(),
                id,
                git_ref: git_ref.to_owned(),
                status: if failed { "failed" } else { "success" }.to_owned(),
                jobs,
                next: "success".to_owned(),
                refuse: None,
            },
        );
    }

    /// A retry of pipeline `id` ends `status`.
    pub fn next_status(&self, id: u64, status: &str) {
        if let Some(p) = lock(&self.shared).pipelines.get_mut(&id) {
            p.next = status.to_owned();
        }
    }

    /// GitLab refuses to retry pipeline `id` with `status` and `message`.
    pub fn refuse(&self, id: u64, status: u16, message: &str) {
        if let Some(p) = lock(&self.shared).pipelines.get_mut(&id) {
            p.refuse = Some((status, message.to_owned()));
        }
    }

    /// Every request Docket made, as (method, path as sent, still percent-encoded).
    pub fn requests(&self) -> Vec<(String, String)> {
        lock(&self.shared).requests.clone()
    }

    /// Pipeline `id`'s status and its jobs as (name, status).
    pub fn state(&self, id: u64) -> Option<(String, Vec<(String, String)>)> {
        lock(&self.shared)
            .pipelines
            .get(&id)
            .map(|p| (p.status.clone(), p.jobs.iter().map(|j| (j.1.clone(), j.2.clone())).collect()))
    }
}

fn answer(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn enter(shared: &Shared, headers: &HeaderMap, method: &str, path: String) -> Option<Response> {
    lock(shared).requests.push((method.to_owned(), path));
    if headers.get("private-token").and_then(|v| v.to_str().ok()) != Some(GITLAB_TOKEN) {
        return Some(answer(StatusCode::UNAUTHORIZED, &json!({"message": "401 Unauthorized"})));
    }
    None
}

fn pipeline_json(p: &Pipeline) -> Value {
    json!({"id": p.id, "iid": p.id % 1000, "project_id": 42, "status": p.status, "ref": p.git_ref,
           "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a", "source": "push",
           "web_url": format!("https://gitlab.example.com/{}/-/pipelines/{}", p.project, p.id)})
}

fn find<'a>(inner: &'a mut Inner, project: &str, id: u64) -> Option<&'a mut Pipeline> {
    inner.pipelines.get_mut(&id).filter(|p| p.project == project || project == "42")
}

fn not_found() -> Response {
    answer(StatusCode::NOT_FOUND, &json!({"message": "404 Not found"}))
}

async fn get_pipeline(
    State(shared): State<Shared>,
    Path((project, id)): Path<(String, u64)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = enter(&shared, &headers, "GET", uri.path().to_owned()) {
        return r;
    }
    let mut inner = lock(&shared);
    let Some(p) = find(&mut inner, &project, id) else { return not_found() };
    match p.status.as_str() {
        "pending" => p.status = "running".to_owned(),
        "running" => {
            p.status = p.next.clone();
            let status = p.status.clone();
            for job in p.jobs.iter_mut().filter(|j| j.2 == "pending") {
                job.2.clone_from(&status);
            }
        }
        _ => {}
    }
    answer(StatusCode::OK, &pipeline_json(p))
}

async fn get_jobs(
    State(shared): State<Shared>,
    Path((project, id)): Path<(String, u64)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = enter(&shared, &headers, "GET", uri.path().to_owned()) {
        return r;
    }
    let mut inner = lock(&shared);
    let Some(p) = find(&mut inner, &project, id) else { return not_found() };
    let jobs: Vec<Value> = p
        .jobs
        .iter()
        .map(|(job, name, status)| {
            json!({"id": job, "name": name, "stage": "test", "status": status,
                   "web_url": format!("https://gitlab.example.com/{}/-/jobs/{job}", p.project)})
        })
        .collect();
    answer(StatusCode::OK, &Value::Array(jobs))
}

async fn retry(
    State(shared): State<Shared>,
    Path((project, id)): Path<(String, u64)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = enter(&shared, &headers, "POST", uri.path().to_owned()) {
        return r;
    }
    let mut inner = lock(&shared);
    let Some(p) = find(&mut inner, &project, id) else { return not_found() };
    if let Some((status, message)) = &p.refuse {
        let code = StatusCode::from_u16(*status).unwrap_or(StatusCode::FORBIDDEN);
        return answer(code, &json!({"message": message}));
    }
    for job in p.jobs.iter_mut().filter(|j| j.2 == "failed" || j.2 == "canceled") {
        job.2 = "pending".to_owned();
    }
    p.status = "pending".to_owned();
    answer(StatusCode::CREATED, &pipeline_json(p))
}
