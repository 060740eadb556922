//! The `github_actions` action: one operation on one repository's Actions.

use std::collections::BTreeMap;

use docket_core::catalog::template::Template;
use docket_core::{ActionSpec, ActionView, Detail, Duration, Params};
use serde_json::json;

/// `github_actions: {repo, rerun | dispatch, timeout}`.
#[derive(Clone, Debug)]
pub struct GithubAction {
    /// `owner/name`.
    pub repo: Template,
    /// What to do.
    pub operation: GithubOperation,
    /// How long planning or running (following the run included) may take.
    pub timeout: Option<Duration>,
}

/// What a step asks of GitHub Actions.
#[derive(Clone, Debug)]
pub enum GithubOperation {
    /// Re-runs a workflow run: every job, or only the failed ones (and those that need them).
    Rerun {
        /// The run's id.
        run: Template,
        /// Only the jobs that failed.
        failed_only: bool,
    },
    /// Dispatches a workflow (`workflow_dispatch`).
    Dispatch {
        /// The workflow's file name (`deploy.yml`) or id.
        workflow: Template,
        /// The branch or tag it runs on.
        git_ref: Template,
        /// Its inputs (at most 10).
        inputs: BTreeMap<String, Template>,
    },
}

impl ActionSpec for GithubAction {
    fn kind(&self) -> &'static str {
        "github_actions"
    }

    fn templates(&self) -> Vec<&Template> {
        let mut all = vec![&self.repo];
        match &self.operation {
            GithubOperation::Rerun { run, .. } => all.push(run),
            GithubOperation::Dispatch { workflow, git_ref, inputs } => {
                all.extend([workflow, git_ref]);
                all.extend(inputs.values());
            }
        }
        all
    }

    fn describe(&self, params: &Params) -> ActionView {
        let repo = self.repo.render(params);
        let mut details = vec![Detail::text("Repository", &repo)];
        let (summary, document) = match &self.operation {
            GithubOperation::Rerun { run, failed_only } => {
                let run = run.render(params);
                details.push(Detail::text("Run", &run));
                details.push(Detail::text("Jobs", if *failed_only { "the failed ones" } else { "all" }));
                let what = if *failed_only { "the failed jobs of run" } else { "run" };
                (format!("re-run {what} {run} in {repo}"), json!({"rerun": {"run": run, "failed_only": failed_only}}))
            }
            GithubOperation::Dispatch { workflow, git_ref, inputs } => {
                let (workflow, git_ref) = (workflow.render(params), git_ref.render(params));
                let inputs: BTreeMap<String, String> =
                    inputs.iter().map(|(k, v)| (k.clone(), v.render(params))).collect();
                details.push(Detail::text("Workflow", &workflow));
                details.push(Detail::text("Ref", &git_ref));
                if !inputs.is_empty() {
                    let shown: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    details.push(Detail::code("Inputs", shown.join("\n")));
                }
                let summary = format!("dispatch {workflow} on {git_ref} in {repo}");
                (summary, json!({"dispatch": {"workflow": workflow, "ref": git_ref, "inputs": inputs}}))
            }
        };
        if let Some(timeout) = self.timeout {
            details.push(Detail::text("Time limit", timeout.to_string()));
        }
        ActionView {
            summary: format!("github_actions: {summary}"),
            details,
            document: json!({"repo": repo, "operation": document}),
        }
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Planning reads the run or workflow: what will run again, with the last conclusions.
    fn plans_itself(&self) -> bool {
        true
    }
}
