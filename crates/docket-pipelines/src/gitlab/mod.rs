//! The `gitlab` step kind: retry a pipeline's failed and canceled jobs. `action` and its
//! decoder are here; the `gitlab` section (`section`), the REST calls (`client`) and the runner
//! (`runner`) beside.
//!
//! ```yaml
//! gitlab:
//!   project: group/api            # a path or a numeric id
//!   retry: { pipeline: "{{pipeline}}" }
//!   timeout: 1h
//! ```

mod client;
mod runner;
pub(crate) mod section;

use docket_config::plugin::{Fields, Node, StepContext, StepKind, duration};
use docket_core::catalog::template::Template;
use docket_core::{Action, ActionSpec, ActionView, Detail, Duration, Params};
use serde_json::json;

pub use runner::GitlabRunner;

/// `gitlab: {project, retry: {pipeline}, timeout}`.
#[derive(Clone, Debug)]
pub struct GitlabAction {
    /// The project's path (`group/api`) or id.
    pub project: Template,
    /// The pipeline to retry.
    pub pipeline: Template,
    /// How long planning or running (following the pipeline included) may take.
    pub timeout: Option<Duration>,
}

impl ActionSpec for GitlabAction {
    fn kind(&self) -> &'static str {
        "gitlab"
    }

    fn templates(&self) -> Vec<&Template> {
        vec![&self.project, &self.pipeline]
    }

    fn describe(&self, params: &Params) -> ActionView {
        let (project, pipeline) = (self.project.render(params), self.pipeline.render(params));
        let mut details = vec![Detail::text("Project", &project), Detail::text("Pipeline", &pipeline)];
        if let Some(timeout) = self.timeout {
            details.push(Detail::text("Time limit", timeout.to_string()));
        }
        ActionView {
            summary: format!("gitlab: retry the failed jobs of pipeline {pipeline} in {project}"),
            details,
            document: json!({"project": project, "retry": {"pipeline": pipeline}}),
        }
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Planning reads the pipeline: which jobs run again, with their last status.
    fn plans_itself(&self) -> bool {
        true
    }
}

/// The `gitlab` step kind's decoder.
#[derive(Clone, Copy, Debug, Default)]
pub struct GitlabKind;

impl StepKind for GitlabKind {
    fn name(&self) -> &'static str {
        "gitlab"
    }

    fn plannable(&self) -> bool {
        false
    }

    fn decode(&self, node: &Node, cx: &mut StepContext<'_>) -> Option<Action> {
        let fields = Fields::open(node, "gitlab action", &["project", "retry", "timeout"], cx.report())?;
        let project = fields.require("project", cx.report()).and_then(|n| cx.template(n));
        let timeout = fields.opt("timeout", cx.report(), duration).optional();
        let pipeline = fields.require("retry", cx.report()).and_then(|n| {
            let retry = Fields::open(n, "retry", &["pipeline"], cx.report())?;
            retry.require("pipeline", cx.report()).and_then(|p| cx.template(p))
        });
        Some(Action::new(GitlabAction { project: project?, pipeline: pipeline?, timeout: timeout? }))
    }
}
