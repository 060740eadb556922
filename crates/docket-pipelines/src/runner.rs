//! The `github_actions` runner.
//!
//! Planned: a re-run reads the run (it must have completed: GitHub re-runs nothing else) and
//! its latest attempt's jobs, and reports one change per job — `update` for a job that runs
//! again, with its last conclusion, `no-op` for one that keeps it; a dispatch reads the workflow
//! (it must be active) and reports the run it creates, with its inputs.
//!
//! Run: the re-run (or dispatch) is asked for, and the new attempt (or the dispatched run) is
//! read every `poll` until it completes; its conclusion and URL end the step, which fails unless
//! the conclusion is `success`. GitHub's refusal ("This workflow run cannot be re-run…") fails
//! the step in GitHub's words. Cancel and timeout stop the following; GitHub carries on.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use docket_app::{LogStream, Mode, StepJob, StepLog, StepRunner};
use docket_core::plan::{Change, ChangeAction};
use docket_core::ticket::StepOutcome;
use docket_core::{Params, PlanFacts, StepResult};
use reqwest::Client;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::action::{GithubAction, GithubOperation};
use crate::github::{Github, is_repo, is_workflow};
use crate::section::GithubSettings;

/// The conclusions of jobs that "re-run failed jobs" runs again.
const FAILED: [&str; 4] = ["failure", "cancelled", "timed_out", "startup_failure"];

/// Runs `github_actions` steps.
#[derive(Clone, Debug)]
pub struct GithubRunner {
    settings: Option<GithubSettings>,
    /// `None` when the TLS backend could not start: steps fail saying so.
    client: Option<Client>,
}

impl GithubRunner {
    /// A runner with the `github` section's settings.
    pub fn new(settings: Option<GithubSettings>) -> Self {
        let client = Client::builder().redirect(reqwest::redirect::Policy::limited(3)).no_proxy().build().ok();
        Self { settings, client }
    }
}

/// The step's parameters rendered and checked.
enum Target {
    Rerun { repo: String, run: u64, failed_only: bool },
    Dispatch { repo: String, workflow: String, git_ref: String, inputs: serde_json::Map<String, Value> },
}

fn render(action: &GithubAction, params: &Params) -> Result<Target, String> {
    let repo = action.repo.render(params);
    if !is_repo(&repo) {
        return Err(format!("{repo:?} is not a repository (owner/name)"));
    }
    match &action.operation {
        GithubOperation::Rerun { run, failed_only } => {
            let text = run.render(params);
            let run =
                text.trim().parse::<u64>().map_err(|_| format!("{text:?} is not a workflow run id (a number)"))?;
            Ok(Target::Rerun { repo, run, failed_only: *failed_only })
        }
        GithubOperation::Dispatch { workflow, git_ref, inputs } => {
            let (workflow, git_ref) = (workflow.render(params), git_ref.render(params));
            if !is_workflow(&workflow) {
                return Err(format!("{workflow:?} is not a workflow file name or id"));
            }
            if git_ref.is_empty() || git_ref.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("{git_ref:?} is not a branch or tag"));
            }
            let inputs = inputs.iter().map(|(k, v)| (k.clone(), json!(v.render(params)))).collect();
            Ok(Target::Dispatch { repo, workflow, git_ref, inputs })
        }
    }
}

#[async_trait]
impl StepRunner for GithubRunner {
    fn kind(&self) -> &'static str {
        "github_actions"
    }

    async fn run(&self, job: StepJob<'_>, log: &dyn StepLog, cancel: CancellationToken) -> StepOutcome {
        let Some(action) = job.action.spec::<GithubAction>() else {
            return fail(log, format!("the github_actions runner cannot run `{}` steps", job.action.kind()));
        };
        let Some(settings) = self.settings.clone() else {
            return fail(log, "github_actions steps need the `github` section (its token) in docket.yaml");
        };
        let Some(client) = self.client.clone() else {
            return fail(log, "the HTTP client for GitHub could not be set up (its TLS backend did not start)");
        };
        let poll = settings.poll.to_std();
        let github = Github::new(client, settings);
        let target = match render(action, job.params) {
            Ok(target) => target,
            Err(message) => return fail(log, message),
        };
        let timeout = action.timeout.map_or(job.default_timeout, |t| t.to_std());
        let following: Mutex<Option<String>> = Mutex::new(None);
        let work = async {
            match job.mode {
                Mode::Plan => plan(&github, &target, log).await,
                Mode::Run => run(&github, &target, poll, log, &following).await,
            }
        };
        let ended = tokio::select! {
            outcome = work => return outcome,
            () = cancel.cancelled() => "cancelled",
            () = tokio::time::sleep(timeout) => "timed out",
        };
        let message = match following.lock().map(|f| f.clone()).unwrap_or_default() {
            Some(url) => {
                format!("{ended} while following {url}; Docket stopped following it and GitHub carries on with it")
            }
            None => format!("{ended} before GitHub was asked to run anything"),
        };
        fail(log, message)
    }
}

async fn plan(github: &Github, target: &Target, log: &dyn StepLog) -> StepOutcome {
    match target {
        Target::Rerun { repo, run, failed_only } => {
            let found = match github.run(repo, *run).await {
                Ok(found) => found,
                Err(e) => return fail(log, format!("reading run {run} of {repo}: {e}")),
            };
            let status = found["status"].as_str().unwrap_or("unknown");
            if status != "completed" {
                return fail(log, format!("run {run} of {repo} is {status}; GitHub re-runs only completed runs"));
            }
            let jobs = match github.jobs(repo, *run).await {
                Ok(jobs) => jobs,
                Err(e) => return fail(log, format!("reading the jobs of run {run} of {repo}: {e}")),
            };
            let mut changes = Vec::new();
            let mut again = Vec::new();
            for j in &jobs {
                let name = j["name"].as_str().unwrap_or("?");
                let conclusion = j["conclusion"].as_str().unwrap_or("none");
                let runs = !failed_only || FAILED.contains(&conclusion);
                if runs {
                    again.push(format!("{name} ({conclusion})"));
                }
                changes.push(Change {
                    target: format!("{repo} run {run} job {name}"),
                    action: if runs { ChangeAction::Update } else { ChangeAction::NoOp },
                    before: json!({"conclusion": conclusion}),
                    after: json!({"conclusion": if runs { "runs again" } else { conclusion }}),
                });
            }
            if again.is_empty() {
                return fail(log, format!("run {run} of {repo} has no failed jobs; there is nothing to re-run"));
            }
            log.line(
                LogStream::Stdout,
                &format!(
                    "{repo}: workflow {} ({}) run {run} attempt {} on {} ({}), {}: {} of {} jobs run again: {}",
                    found["name"].as_str().unwrap_or("?"),
                    found["path"].as_str().unwrap_or("?"),
                    found["run_attempt"].as_u64().unwrap_or(1),
                    found["head_branch"].as_str().unwrap_or("?"),
                    found["head_sha"].as_str().unwrap_or("").chars().take(7).collect::<String>(),
                    found["conclusion"].as_str().unwrap_or("no conclusion"),
                    again.len(),
                    jobs.len(),
                    again.join(", ")
                ),
            );
            log.line(LogStream::Stdout, found["html_url"].as_str().unwrap_or(""));
            log.facts(PlanFacts { changes, ..PlanFacts::default() });
            StepOutcome::Succeeded
        }
        Target::Dispatch { repo, workflow, git_ref, inputs } => {
            let found = match github.workflow(repo, workflow).await {
                Ok(found) => found,
                Err(e) => return fail(log, format!("reading workflow {workflow} of {repo}: {e}")),
            };
            let state = found["state"].as_str().unwrap_or("unknown");
            if state != "active" {
                return fail(
                    log,
                    format!("workflow {workflow} of {repo} is {state}; GitHub dispatches only active workflows"),
                );
            }
            let name = found["name"].as_str().unwrap_or(workflow);
            let shown: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect();
            log.line(
                LogStream::Stdout,
                &format!(
                    "{repo}: dispatch {name} ({}) on {git_ref}{}",
                    found["path"].as_str().unwrap_or(workflow),
                    if shown.is_empty() { String::new() } else { format!(" with {}", shown.join(", ")) }
                ),
            );
            let change = Change {
                target: format!("{repo} workflow {name} on {git_ref}"),
                action: ChangeAction::Create,
                before: Value::Null,
                after: json!({"inputs": inputs}),
            };
            log.facts(PlanFacts { changes: vec![change], ..PlanFacts::default() });
            StepOutcome::Succeeded
        }
    }
}

async fn run(
    github: &Github,
    target: &Target,
    poll: Duration,
    log: &dyn StepLog,
    following: &Mutex<Option<String>>,
) -> StepOutcome {
    let (repo, run_id, attempt) = match target {
        Target::Rerun { repo, run, failed_only } => {
            let before = match github.run(repo, *run).await {
                Ok(found) => found["run_attempt"].as_u64().unwrap_or(1),
                Err(e) => return fail(log, format!("reading run {run} of {repo}: {e}")),
            };
            if let Err(e) = github.rerun(repo, *run, *failed_only).await {
                return fail(log, format!("GitHub did not re-run run {run} of {repo}: {e}"));
            }
            let what = if *failed_only { "its failed jobs" } else { "every job" };
            log.line(
                LogStream::System,
                &format!("asked GitHub to re-run {what} of run {run} (attempt {})", before + 1),
            );
            (repo, *run, before + 1)
        }
        Target::Dispatch { repo, workflow, git_ref, inputs } => {
            let earlier: Vec<u64> = match github.dispatched_runs(repo, workflow, git_ref).await {
                Ok(runs) => runs.iter().filter_map(|r| r["id"].as_u64()).collect(),
                Err(e) => return fail(log, format!("reading the runs of {workflow} in {repo}: {e}")),
            };
            let id = match github.dispatch(repo, workflow, git_ref, &Value::Object(inputs.clone())).await {
                Ok(Some(id)) => id,
                Ok(None) => match find_new_run(github, repo, workflow, git_ref, &earlier, poll).await {
                    Ok(id) => id,
                    Err(message) => return fail(log, message),
                },
                Err(e) => return fail(log, format!("GitHub did not dispatch {workflow} in {repo}: {e}")),
            };
            log.line(LogStream::System, &format!("dispatched {workflow} on {git_ref}: run {id}"));
            (repo, id, 1)
        }
    };
    let mut said = String::new();
    loop {
        let found = match github.run(repo, run_id).await {
            Ok(found) => found,
            Err(e) => return fail(log, format!("reading run {run_id} of {repo}: {e}")),
        };
        let url = found["html_url"].as_str().unwrap_or("").to_owned();
        if let Ok(mut f) = following.lock() {
            *f = Some(format!("run {run_id} of {repo} ({url})"));
        }
        let current = found["run_attempt"].as_u64().unwrap_or(1);
        let status = found["status"].as_str().unwrap_or("unknown").to_owned();
        if current >= attempt {
            let now = format!("run {run_id} attempt {current}: {status}");
            if now != said {
                log.line(LogStream::Stdout, &now);
                said = now;
            }
            if status == "completed" {
                let conclusion = found["conclusion"].as_str().unwrap_or("none");
                let words = format!("run {run_id} attempt {current} completed: {conclusion} — {url}");
                log.line(LogStream::Stdout, &words);
                if conclusion != "success" {
                    return fail(log, words);
                }
                // The conclusion and address go where the ticket is followed (the chat thread).
                let line = format!("{repo} run {run_id} attempt {current} completed: {conclusion}");
                log.result(StepResult::line(line, (!url.is_empty()).then_some(url)));
                return StepOutcome::Succeeded;
            }
        }
        tokio::time::sleep(poll).await;
    }
}

/// The dispatched run, when GitHub did not say which it is: the first new `workflow_dispatch`
/// run of the workflow on that ref.
async fn find_new_run(
    github: &Github,
    repo: &str,
    workflow: &str,
    git_ref: &str,
    earlier: &[u64],
    poll: Duration,
) -> Result<u64, String> {
    loop {
        let runs = github
            .dispatched_runs(repo, workflow, git_ref)
            .await
            .map_err(|e| format!("looking for the dispatched run of {workflow} in {repo}: {e}"))?;
        if let Some(id) = runs.iter().filter_map(|r| r["id"].as_u64()).find(|id| !earlier.contains(id)) {
            return Ok(id);
        }
        tokio::time::sleep(poll).await;
    }
}

fn fail(log: &dyn StepLog, message: impl Into<String>) -> StepOutcome {
    let message = message.into();
    log.line(LogStream::System, &message);
    StepOutcome::Failed { exit_code: None, message }
}
