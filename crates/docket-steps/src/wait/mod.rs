//! The `wait` runner: a pause that ends early, as a failure, when the run is cancelled.

mod action;
mod decode;

use async_trait::async_trait;
use docket_app::{LogStream, Mode, StepJob, StepLog, StepRunner};
use docket_core::ticket::StepOutcome;
use tokio_util::sync::CancellationToken;

pub use self::action::WaitAction;
pub use self::decode::WaitKind;
use crate::outcome::{fail, wrong_kind};

/// Runs `wait` steps: sleeps for the step's duration.
///
/// `wait: 0s` returns at once without logging (benchmarks use it as a no-op step). In
/// [`Mode::Plan`] nothing sleeps: the plan only notes how long the run will pause.
#[derive(Clone, Debug, Default)]
pub struct WaitRunner;

impl WaitRunner {
    /// A wait runner.
    pub fn new() -> Self {
        Self
    }
}

#[async_trait]
impl StepRunner for WaitRunner {
    fn kind(&self) -> &'static str {
        "wait"
    }

    async fn run(&self, job: StepJob<'_>, log: &dyn StepLog, cancel: CancellationToken) -> StepOutcome {
        let Some(&WaitAction(duration)) = job.action.spec::<WaitAction>() else {
            return wrong_kind(log, "wait", job.action);
        };
        if duration.as_millis() == 0 {
            return StepOutcome::Succeeded;
        }
        if job.mode == Mode::Plan {
            log.line(LogStream::System, &format!("will wait {duration}"));
            return StepOutcome::Succeeded;
        }
        log.line(LogStream::System, &format!("waiting {duration}"));
        tokio::select! {
            () = tokio::time::sleep(duration.to_std()) => StepOutcome::Succeeded,
            () = cancel.cancelled() => fail(log, format!("cancelled during a wait of {duration}")),
        }
    }
}
