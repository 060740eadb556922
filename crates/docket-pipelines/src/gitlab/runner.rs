//! The `gitlab` runner. Planned: the pipeline must have finished (GitLab retries nothing
//! else); each job is a change — `update` for a failed or canceled job, which runs again, with
//! its last status; `no-op` for the rest. Run: the retry is asked for and the pipeline read
//! every `poll` until it finishes; its status and URL end the step, which fails unless it is
//! `success`. GitLab's refusal fails the step in GitLab's words.

use async_trait::async_trait;
use docket_app::{LogStream, Mode, StepJob, StepLog, StepRunner};
use docket_core::plan::{Change, ChangeAction};
use docket_core::ticket::StepOutcome;
use docket_core::{PlanFacts, StepResult};
use reqwest::Client;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::GitlabAction;
use super::client::{Gitlab, is_project};
use super::section::GitlabSettings;

/// Statuses of a finished pipeline.
const FINISHED: [&str; 4] = ["success", "failed", "canceled", "skipped"];
/// Job statuses a retry runs again.
const RETRIED: [&str; 2] = ["failed", "canceled"];

/// Runs `gitlab` steps.
#[derive(Clone, Debug)]
pub struct GitlabRunner {
    settings: Option<GitlabSettings>,
    client: Option<Client>,
}

impl GitlabRunner {
    /// A runner with the `gitlab` section's settings.
    pub fn new(settings: Option<GitlabSettings>) -> Self {
        let client = Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().ok();
        Self { settings, client }
    }
}

#[async_trait]
impl StepRunner for GitlabRunner {
    fn kind(&self) -> &'static str {
        "gitlab"
    }

    async fn run(&self, job: StepJob<'_>, log: &dyn StepLog, cancel: CancellationToken) -> StepOutcome {
        let Some(action) = job.action.spec::<GitlabAction>() else {
            return fail(log, format!("the gitlab runner cannot run `{}` steps", job.action.kind()));
        };
        let (Some(settings), Some(client)) = (self.settings.clone(), self.client.clone()) else {
            return fail(log, "gitlab steps need the `gitlab` section (its token) in docket.yaml");
        };
        let poll = settings.poll.to_std();
        let gitlab = Gitlab::new(client, settings);
        let project = action.project.render(job.params);
        if !is_project(&project) {
            return fail(log, format!("{project:?} is not a GitLab project path or id"));
        }
        let text = action.pipeline.render(job.params);
        let Ok(id) = text.trim().parse::<u64>() else {
            return fail(log, format!("{text:?} is not a pipeline id (a number)"));
        };
        let timeout = action.timeout.map_or(job.default_timeout, |t| t.to_std());
        let work = async {
            match job.mode {
                Mode::Plan => plan(&gitlab, &project, id, log).await,
                Mode::Run => run(&gitlab, &project, id, poll, log).await,
            }
        };
        let ended = tokio::select! {
            outcome = work => return outcome,
            () = cancel.cancelled() => "cancelled",
            () = tokio::time::sleep(timeout) => "timed out",
        };
        fail(
            log,
            format!("{ended}; Docket stopped following pipeline {id} of {project}, and GitLab carries on with it"),
        )
    }
}

async fn plan(gitlab: &Gitlab, project: &str, id: u64, log: &dyn StepLog) -> StepOutcome {
    let pipeline = match gitlab.pipeline(project, id).await {
        Ok(p) => p,
        Err(e) => return fail(log, format!("reading pipeline {id} of {project}: {e}")),
    };
    let status = pipeline["status"].as_str().unwrap_or("unknown");
    if !FINISHED.contains(&status) {
        return fail(log, format!("pipeline {id} of {project} is {status}; GitLab retries only finished pipelines"));
    }
    let jobs = match gitlab.jobs(project, id).await {
        Ok(jobs) => jobs,
        Err(e) => return fail(log, format!("reading the jobs of pipeline {id} of {project}: {e}")),
    };
    let mut again = Vec::new();
    let changes: Vec<Change> = jobs
        .iter()
        .map(|j| {
            let name = j["name"].as_str().unwrap_or("?");
            let was = j["status"].as_str().unwrap_or("unknown");
            let runs = RETRIED.contains(&was);
            if runs {
                again.push(format!("{name} ({was})"));
            }
            Change {
                target: format!("{project} pipeline {id} job {name}"),
                action: if runs { ChangeAction::Update } else { ChangeAction::NoOp },
                before: json!({"status": was}),
                after: json!({"status": if runs { "runs again" } else { was }}),
            }
        })
        .collect();
    if again.is_empty() {
        return fail(
            log,
            format!("pipeline {id} of {project} has no failed or canceled jobs; there is nothing to retry"),
        );
    }
    log.line(
        LogStream::Stdout,
        &format!(
            "{project}: pipeline {id} on {} ({status}): {} of {} jobs run again: {}",
            pipeline["ref"].as_str().unwrap_or("?"),
            again.len(),
            jobs.len(),
            again.join(", ")
        ),
    );
    log.line(LogStream::Stdout, pipeline["web_url"].as_str().unwrap_or(""));
    log.facts(PlanFacts { changes, ..PlanFacts::default() });
    StepOutcome::Succeeded
}

async fn run(gitlab: &Gitlab, project: &str, id: u64, poll: std::time::Duration, log: &dyn StepLog) -> StepOutcome {
    if let Err(e) = gitlab.retry(project, id).await {
        return fail(log, format!("GitLab did not retry pipeline {id} of {project}: {e}"));
    }
    log.line(LogStream::System, &format!("asked GitLab to retry pipeline {id}"));
    let mut said = String::new();
    loop {
        tokio::time::sleep(poll).await;
        let pipeline = match gitlab.pipeline(project, id).await {
            Ok(p) => p,
            Err(e) => return fail(log, format!("reading pipeline {id} of {project}: {e}")),
        };
        let status = pipeline["status"].as_str().unwrap_or("unknown").to_owned();
        if status != said {
            log.line(LogStream::Stdout, &format!("pipeline {id}: {status}"));
            said.clone_from(&status);
        }
        if FINISHED.contains(&status.as_str()) {
            let url = pipeline["web_url"].as_str().unwrap_or("").to_owned();
            let words = format!("pipeline {id} finished: {status} — {url}");
            log.line(LogStream::Stdout, &words);
            if status != "success" {
                return fail(log, words);
            }
            // The conclusion and address go where the ticket is followed (the chat thread).
            let line = format!("{project} pipeline {id} finished: {status}");
            log.result(StepResult::line(line, (!url.is_empty()).then_some(url)));
            return StepOutcome::Succeeded;
        }
    }
}

fn fail(log: &dyn StepLog, message: impl Into<String>) -> StepOutcome {
    let message = message.into();
    log.line(LogStream::System, &message);
    StepOutcome::Failed { exit_code: None, message }
}
