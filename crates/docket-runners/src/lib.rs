//! Docket's step runners, one folder each, every one an implementation of the app's
//! [`StepRunner`] port:
//!
//! - [`ExecRunner`] (`exec/`): a program and its argv, never through a shell, in a cleared
//!   environment and its own process group, which is killed whole on timeout or cancellation.
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
mod wait;

use std::sync::Arc;

use docket_app::StepRunner;

pub use exec::{DEFAULT_KILL_GRACE, ExecRunner};
pub use http::{HttpRunner, HttpSetupError};
pub use wait::WaitRunner;

/// The runners a server starts with: `exec`, `wait` and `http`, with their default settings.
///
/// Fails only if the HTTP client cannot be built (its TLS backend failed to initialise).
pub fn default_runners() -> Result<Vec<Arc<dyn StepRunner>>, HttpSetupError> {
    Ok(vec![Arc::new(ExecRunner::new()), Arc::new(WaitRunner::new()), Arc::new(HttpRunner::new()?)])
}
