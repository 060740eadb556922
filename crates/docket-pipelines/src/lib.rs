//! Pipeline step kinds: `github_actions` — re-run a workflow run or only its failed jobs, or
//! dispatch a workflow with inputs (`workflow_dispatch`). Everything about it in one place: the
//! action (`action`), how it is read from a workflow file (`decode`), the `github` section with
//! the token (`section`), the REST calls (`github`) and the runner (`runner`).
//!
//! Planned, a step reads the run (or the workflow) and reports what will run: one structured
//! change per job, with its last conclusion, so policies count them and approvers read them.
//! Run, it asks GitHub to run them and follows the new attempt (or the dispatched run) until it
//! completes; its conclusion and URL end the step.

mod action;
mod decode;
mod github;
mod runner;
mod section;

use std::sync::Arc;

use docket_config::Config;
use docket_config::plugin::Plugins;

pub use action::{GithubAction, GithubOperation};
pub use decode::GithubActionsKind;
pub use runner::GithubRunner;
pub use section::{DEFAULT_API_URL, DEFAULT_POLL, GithubSection, GithubSettings, SECTION};

/// The `github_actions` kind's decoder and the `github` section, for the configuration loader.
pub fn plugins() -> Plugins {
    Plugins::new().step_kind(Arc::new(GithubActionsKind)).section(Arc::new(GithubSection))
}

/// The runner, with the `github` section's settings (none: steps fail saying the section is
/// missing).
pub fn runner(config: &Config) -> GithubRunner {
    GithubRunner::new(config.sections.get::<GithubSettings>(SECTION).cloned())
}
