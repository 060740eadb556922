//! A fake GitHub REST API for end-to-end tests of `github_actions` steps, on loopback, in the
//! documented shapes: a workflow run (`GET /repos/{o}/{r}/actions/runs/{id}`) and its jobs
//! (`…/jobs?filter=latest`), re-runs (`…/rerun`, `…/rerun-failed-jobs`: 201, a new attempt),
//! workflows (`GET …/actions/workflows/{file}`), dispatches (`POST …/dispatches`: 200 with the
//! run's id when asked with `return_run_details`, else 204) and a workflow's runs. Refusals are
//! `{"message", "documentation_url", "status"}`. A run moves on each time it is read — queued,
//! in progress, completed with the conclusion the test scripted — so tests need no clock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The token the fake accepts.
pub const GITHUB_TOKEN: &str = "ghp_fakeGitHubToken0123456789abcdefABCD";

/// A run as the fake holds it: (attempt, status, conclusion, jobs as (name, conclusion)).
pub type RunState = (u64, String, Option<String>, Vec<(String, Option<String>)>);

/// One request Docket made.
#[derive(Clone, Debug, PartialEq)]
pub struct GithubRequest {
    /// `GET`, `POST`.
    pub method: String,
    /// The path.
    pub path: String,
    /// The JSON body, for a POST.
    pub body: Value,
}

#[derive(Clone, Debug)]
struct Run {
    repo: String,
    id: u64,
    workflow: String,
    name: String,
    branch: String,
    attempt: u64,
    status: String,
    conclusion: Option<String>,
    jobs: Vec<(u64, String, Option<String>)>,
    /// Conclusions of the next attempts, in order (then `success`).
    next: VecDeque<String>,
    /// GitHub's words when it refuses to re-run this run.
    refuse: Option<String>,
    event: String,
}

#[derive(Default)]
struct Inner {
    runs: BTreeMap<u64, Run>,
    workflows: BTreeMap<(String, String), (u64, String, String)>,
    requests: Vec<GithubRequest>,
    next_id: u64,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The fake, serving until dropped.
pub struct FakeGithub {
    url: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeGithub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGithub").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeGithub {
    /// Starts the fake.
    pub async fn start() -> Self {
        let shared: Shared = Arc::new(Mutex::new(Inner { next_id: 9000, ..Inner::default() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port for the fake GitHub");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let router = Router::new()
            .route("/repos/{owner}/{repo}/actions/runs/{id}", get(get_run))
            .route("/repos/{owner}/{repo}/actions/runs/{id}/jobs", get(get_jobs))
            .route("/repos/{owner}/{repo}/actions/runs/{id}/{verb}", post(rerun))
            .route("/repos/{owner}/{repo}/actions/workflows/{workflow}", get(get_workflow))
            .route("/repos/{owner}/{repo}/actions/workflows/{workflow}/runs", get(list_runs))
            .route("/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches", post(dispatch))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, shared, server }
    }

    /// The API's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds workflow `file` (active) to `repo`.
    pub fn workflow(&self, repo: &str, file: &str, name: &str) {
        let mut inner = lock(&self.shared);
        inner.next_id += 1;
        let id = inner.next_id;
        inner.workflows.insert((repo.to_owned(), file.to_owned()), (id, name.to_owned(), "active".to_owned()));
    }

    /// Adds completed run `id` of `repo`'s `file` on `branch`, whose jobs ended as `jobs` says
    /// (name, conclusion); its conclusion is `failure` if any job failed.
    pub fn run(&self, repo: &str, id: u64, file: &str, branch: &str, jobs: &[(&str, &str)]) {
        let mut inner = lock(&self.shared);
        let failed = jobs.iter().any(|(_, c)| *c != "success" && *c != "skipped");
        let jobs = jobs
            .iter()
            .enumerate()
            .map(|(i, (n, c))| (id * 100 + i as u64, (*n).to_owned(), Some((*c).to_owned())))
            .collect();
        let name = inner.workflows.get(&(repo.to_owned(), file.to_owned())).map_or("CI".to_owned(), |w| w.1.clone());
        inner.runs.insert(
            id,
            Run {
                repo: repo.to_owned(),
                id,
                workflow: file.to_owned(),
                name,
                branch: branch.to_owned(),
                attempt: 1,
                status: "completed".to_owned(),
                conclusion: Some(if failed { "failure" } else { "success" }.to_owned()),
                jobs,
                next: VecDeque::new(),
                refuse: None,
                event: "push".to_owned(),
            },
        );
    }

    /// The next attempt of run `id` (or the next dispatched run, for id 0) ends `conclusion`.
    pub fn next_conclusion(&self, id: u64, conclusion: &str) {
        if let Some(run) = lock(&self.shared).runs.get_mut(&id) {
            run.next.push_back(conclusion.to_owned());
        }
    }

    /// GitHub refuses to re-run run `id`, saying `message` (403).
    pub fn refuse(&self, id: u64, message: &str) {
        if let Some(run) = lock(&self.shared).runs.get_mut(&id) {
            run.refuse = Some(message.to_owned());
        }
    }

    /// Every request Docket made, in order.
    pub fn requests(&self) -> Vec<GithubRequest> {
        lock(&self.shared).requests.clone()
    }

    /// Run `id`'s (attempt, status, conclusion, jobs as (name, conclusion)).
    pub fn state(&self, id: u64) -> Option<RunState> {
        lock(&self.shared).runs.get(&id).map(|r| {
            (
                r.attempt,
                r.status.clone(),
                r.conclusion.clone(),
                r.jobs.iter().map(|(_, n, c)| (n.clone(), c.clone())).collect(),
            )
        })
    }
}

fn answer(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response()
}

fn refusal(status: StatusCode, message: &str) -> Response {
    let body = json!({"message": message, "documentation_url": "https://docs.github.com/rest/actions/workflow-runs",
                      "status": status.as_u16().to_string()});
    answer(status, &body)
}

/// Records the request; the refusal when the token is wrong.
fn enter(shared: &Shared, headers: &HeaderMap, method: &str, path: String, body: Value) -> Option<Response> {
    lock(shared).requests.push(GithubRequest { method: method.to_owned(), path, body });
    let token =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if token != Some(GITHUB_TOKEN) {
        return Some(refusal(StatusCode::UNAUTHORIZED, "Bad credentials"));
    }
    if headers.get(header::USER_AGENT).is_none() {
        return Some(refusal(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        ));
    }
    None
}

fn run_json(run: &Run) -> Value {
    json!({
        "id": run.id, "name": run.name, "display_title": run.name, "path": format!(".github/workflows/{}", run.workflow),
        "head_branch": run.branch, "head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "run_number": run.id % 1000,
        "run_attempt": run.attempt, "event": run.event, "status": run.status, "conclusion": run.conclusion,
        "html_url": format!("https://github.com/{}/actions/runs/{}", run.repo, run.id),
        "jobs_url": format!("https://api.github.com/repos/{}/actions/runs/{}/jobs", run.repo, run.id),
    })
}

async fn get_run(
    State(shared): State<Shared>,
    Path((o, r, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = enter(&shared, &headers, "GET", format!("/repos/{o}/{r}/actions/runs/{id}"), Value::Null) {
        return refused;
    }
    let mut inner = lock(&shared);
    let Some(run) = inner.runs.get_mut(&id).filter(|run| run.repo == format!("{o}/{r}")) else {
        return refusal(StatusCode::NOT_FOUND, "Not Found");
    };
    // Each read moves an unfinished run on.
    match run.status.as_str() {
        "queued" => run.status = "in_progress".to_owned(),
        "in_progress" => {
            let conclusion = run.next.pop_front().unwrap_or_else(|| "success".to_owned());
            for job in run.jobs.iter_mut().filter(|j| j.2.is_none()) {
                job.2 = Some(conclusion.clone());
            }
            run.status = "completed".to_owned();
            run.conclusion = Some(conclusion);
        }
        _ => {}
    }
    answer(StatusCode::OK, &run_json(run))
}

async fn get_jobs(
    State(shared): State<Shared>,
    Path((o, r, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) =
        enter(&shared, &headers, "GET", format!("/repos/{o}/{r}/actions/runs/{id}/jobs"), Value::Null)
    {
        return refused;
    }
    let inner = lock(&shared);
    let Some(run) = inner.runs.get(&id).filter(|run| run.repo == format!("{o}/{r}")) else {
        return refusal(StatusCode::NOT_FOUND, "Not Found");
    };
    let jobs: Vec<Value> = run
        .jobs
        .iter()
        .map(|(job, name, conclusion)| {
            json!({"id": job, "run_id": run.id, "run_attempt": run.attempt, "name": name,
                   "status": if conclusion.is_some() { "completed" } else { "queued" }, "conclusion": conclusion,
                   "html_url": format!("https://github.com/{}/actions/runs/{}/job/{job}", run.repo, run.id)})
        })
        .collect();
    answer(StatusCode::OK, &json!({"total_count": jobs.len(), "jobs": jobs}))
}

async fn rerun(
    State(shared): State<Shared>,
    Path((o, r, id, verb)): Path<(String, String, u64, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(refused) = enter(&shared, &headers, "POST", format!("/repos/{o}/{r}/actions/runs/{id}/{verb}"), parsed)
    {
        return refused;
    }
    let mut inner = lock(&shared);
    let Some(run) = inner.runs.get_mut(&id).filter(|run| run.repo == format!("{o}/{r}")) else {
        return refusal(StatusCode::NOT_FOUND, "Not Found");
    };
    if let Some(message) = &run.refuse {
        return refusal(StatusCode::FORBIDDEN, message);
    }
    if run.status != "completed" {
        return refusal(StatusCode::FORBIDDEN, "This workflow is already running");
    }
    let failed_only = match verb.as_str() {
        "rerun" => false,
        "rerun-failed-jobs" => true,
        _ => return refusal(StatusCode::NOT_FOUND, "Not Found"),
    };
    let failed = |c: &Option<String>| c.as_deref().is_some_and(|c| c != "success" && c != "skipped");
    if failed_only && !run.jobs.iter().any(|j| failed(&j.2)) {
        return refusal(StatusCode::FORBIDDEN, "There are no failed jobs to re-run");
    }
    for job in run.jobs.iter_mut().filter(|j| !failed_only || failed(&j.2)) {
        job.2 = None;
    }
    run.attempt += 1;
    run.status = "queued".to_owned();
    run.conclusion = None;
    (StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], "{}").into_response()
}

async fn get_workflow(
    State(shared): State<Shared>,
    Path((o, r, wf)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) =
        enter(&shared, &headers, "GET", format!("/repos/{o}/{r}/actions/workflows/{wf}"), Value::Null)
    {
        return refused;
    }
    let inner = lock(&shared);
    match inner.workflows.get(&(format!("{o}/{r}"), wf.clone())) {
        Some((id, name, state)) => answer(
            StatusCode::OK,
            &json!({
                "id": id, "name": name, "path": format!(".github/workflows/{wf}"), "state": state,
                "html_url": format!("https://github.com/{o}/{r}/blob/main/.github/workflows/{wf}"),
            }),
        ),
        None => refusal(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn list_runs(
    State(shared): State<Shared>,
    Path((o, r, wf)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) =
        enter(&shared, &headers, "GET", format!("/repos/{o}/{r}/actions/workflows/{wf}/runs"), Value::Null)
    {
        return refused;
    }
    let inner = lock(&shared);
    let runs: Vec<Value> = inner
        .runs
        .values()
        .rev()
        .filter(|run| run.repo == format!("{o}/{r}") && run.workflow == wf)
        .map(run_json)
        .collect();
    answer(StatusCode::OK, &json!({"total_count": runs.len(), "workflow_runs": runs}))
}

async fn dispatch(
    State(shared): State<Shared>,
    Path((o, r, wf)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(refused) =
        enter(&shared, &headers, "POST", format!("/repos/{o}/{r}/actions/workflows/{wf}/dispatches"), parsed.clone())
    {
        return refused;
    }
    let mut inner = lock(&shared);
    let repo = format!("{o}/{r}");
    let Some((_, name, _)) = inner.workflows.get(&(repo.clone(), wf.clone())).cloned() else {
        return refusal(StatusCode::NOT_FOUND, "Not Found");
    };
    let Some(git_ref) = parsed["ref"].as_str().map(str::to_owned) else {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request.\n\n\"ref\" wasn't supplied.");
    };
    if parsed["inputs"].as_object().is_some_and(|i| i.len() > 10) {
        return refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "you may only define up to 10 `inputs` for a `workflow_dispatch` event",
        );
    }
    inner.next_id += 1;
    let id = inner.next_id;
    inner.runs.insert(
        id,
        Run {
            repo: repo.clone(),
            id,
            workflow: wf,
            name,
            branch: git_ref,
            attempt: 1,
            status: "queued".to_owned(),
            conclusion: None,
            jobs: vec![(id * 100, "deploy".to_owned(), None)],
            next: VecDeque::new(),
            refuse: None,
            event: "workflow_dispatch".to_owned(),
        },
    );
    if parsed["return_run_details"] == true {
        let body = json!({"workflow_run_id": id, "run_url": format!("https://api.github.com/repos/{repo}/actions/runs/{id}"),
                          "html_url": format!("https://github.com/{repo}/actions/runs/{id}")});
        return answer(StatusCode::OK, &body);
    }
    StatusCode::NO_CONTENT.into_response()
}
