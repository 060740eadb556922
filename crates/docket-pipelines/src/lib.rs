//! Pipeline step kinds: `github_actions` — re-run a workflow run or only its failed jobs, or
//! dispatch a workflow with inputs (`workflow_dispatch`) — and `gitlab` — retry a pipeline's
//! failed jobs. For GitHub: the action (`action`), how it is read from a workflow file
//! (`decode`), the `github` section with the token (`section`), the REST calls (`github`) and
//! the runner (`runner`); GitLab's kind has the same parts in `gitlab/`.
//!
//! Planned, a step reads the run (or the workflow) and reports what will run: one structured
//! change per job, with its last conclusion, so policies count them and approvers read them.
//! Run, it asks GitHub to run them and follows the new attempt (or the dispatched run) until it
//! completes; its conclusion and URL end the step.

mod action;
mod decode;
mod github;
mod gitlab;
mod runner;
mod section;

use std::sync::Arc;

use docket_config::Config;
use docket_config::plugin::Plugins;

pub use action::{GithubAction, GithubOperation};
pub use decode::GithubActionsKind;
pub use gitlab::section::{GitlabSection, GitlabSettings, SECTION as GITLAB_SECTION};
pub use gitlab::{GitlabAction, GitlabKind, GitlabRunner};
pub use runner::GithubRunner;
pub use section::{DEFAULT_API_URL, DEFAULT_POLL, GithubSection, GithubSettings, SECTION};

/// The `github_actions` and `gitlab` kinds' decoders and their sections, for the configuration
/// loader.
pub fn plugins() -> Plugins {
    Plugins::new()
        .step_kind(Arc::new(GithubActionsKind))
        .section(Arc::new(GithubSection))
        .step_kind(Arc::new(GitlabKind))
        .section(Arc::new(GitlabSection))
}

/// The runner, with the `github` section's settings (none: steps fail saying the section is
/// missing).
pub fn runner(config: &Config) -> GithubRunner {
    GithubRunner::new(config.sections.get::<GithubSettings>(SECTION).cloned())
}

/// The `gitlab` runner, with the `gitlab` section's settings (none: steps fail saying the
/// section is missing).
pub fn gitlab_runner(config: &Config) -> GitlabRunner {
    GitlabRunner::new(config.sections.get::<GitlabSettings>(gitlab::section::SECTION).cloned())
}
