//! Docket's basic step kinds, one folder each with everything about the kind: its action and
//! how it reads (`action`), how it is read from a workflow file (`decode`), and its runner, an
//! implementation of the app's [`StepRunner`] port:
//!
//! - [`ExecRunner`] (`exec/`): a program and its argv, never through a shell, in a cleared
//!   environment and its own process group, which is killed whole on timeout or cancellation;
//!   in a server, through a supervisor ([`supervisor_main`], `docket __supervise`) that kills
//!   the group when the server dies. [`LocalProcesses`] is the app's `Processes` port: it
//!   ends, after checking their start times, the groups a dead server left.
//! - [`HttpRunner`] (`http/`): one HTTP request with templated URL, headers and JSON body.
//! - [`WaitRunner`] (`wait/`): a cancellable pause.
//!
//! Runners report lines to the [`StepLog`] they are given; redaction and output caps are the
//! log's job, not theirs.
//!
//! [`StepLog`]: docket_app::StepLog

mod exec;
mod http;
mod outcome;
mod quote;
mod wait;

use std::sync::Arc;

use docket_app::StepRunner;
use docket_config::plugin::Plugins;

pub use exec::{DEFAULT_KILL_GRACE, ExecAction, ExecKind, ExecRunner, Launch, LocalProcesses, supervisor_main};
pub use http::{HttpAction, HttpKind, HttpRunner, HttpSetupError};
pub use wait::{WaitAction, WaitKind, WaitRunner};

/// The decoders of `exec`, `http` and `wait`, for the configuration loader.
pub fn kinds() -> Plugins {
    Plugins::new().step_kind(Arc::new(ExecKind)).step_kind(Arc::new(HttpKind)).step_kind(Arc::new(WaitKind))
}

/// The runners a server starts with: `exec` (starting programs as `launch` says), `wait` and
/// `http`, with their default settings.
///
/// Fails only if the HTTP client cannot be built (its TLS backend failed to initialise).
pub fn default_runners(launch: Launch) -> Result<Vec<Arc<dyn StepRunner>>, HttpSetupError> {
    Ok(vec![Arc::new(ExecRunner::new().launch(launch)), Arc::new(WaitRunner::new()), Arc::new(HttpRunner::new()?)])
}
