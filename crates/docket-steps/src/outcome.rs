//! Small helpers every runner uses to build its outcome and describe durations.

use docket_app::{LogStream, StepLog};
use docket_core::Action;
use docket_core::ticket::StepOutcome;

/// A failed outcome without an exit code, also written to the log as a system line so the log
/// alone explains what happened.
pub(crate) fn fail(log: &dyn StepLog, message: impl Into<String>) -> StepOutcome {
    let message = message.into();
    log.line(LogStream::System, &message);
    StepOutcome::Failed { exit_code: None, message }
}

/// The outcome when the engine hands a runner an action of another kind: a wiring bug, but
/// still a failed step rather than a panic.
pub(crate) fn wrong_kind(log: &dyn StepLog, runner: &str, action: &Action) -> StepOutcome {
    fail(log, format!("the {runner} runner cannot run `{}` steps", action.kind()))
}

/// `std` durations shown the way workflow files write them (`30s`, `1m30s`, `250ms`).
pub(crate) fn show(duration: std::time::Duration) -> String {
    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    docket_core::Duration::from_millis(millis).to_string()
}
