//! Work a surface goes on with after it has answered: a Slack click or mention acknowledged, a
//! Teams message, a Jira or ServiceNow webhook's 200, a request form whose answer stopped
//! waiting. The platform will not send it again, so a clean stop must not cut it off: such work
//! is started with [`App::after_answer`] and a stop waits for it ([`App::settle`]), for a while.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::App;

impl App {
    /// Runs `work` in the background, tracked: a clean stop waits for it (see [`App::settle`]).
    /// For what is left of a request after its answer; not for tasks that live as long as the
    /// server (those stop with its shutdown token).
    pub fn after_answer<F>(&self, work: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.after_answer.spawn(work)
    }

    /// Waits, at most `grace`, for the work begun with [`App::after_answer`] to end, once the
    /// server answers no more requests; work begun while it waits is waited for too. `false`
    /// if some was still running when `grace` ran out (it is then cut off with the process).
    pub async fn settle(&self, grace: Duration) -> bool {
        let tracker = &self.inner.after_answer;
        tracker.close();
        let running = tracker.len();
        if running > 0 {
            tracing::info!(running, "stopping: waiting for work begun after an answer");
        }
        let settled = tokio::time::timeout(grace, tracker.wait()).await.is_ok();
        if !settled {
            tracing::warn!(
                running = tracker.len(),
                grace_s = grace.as_secs(),
                "stopping: work begun after an answer did not end in time; it is cut off"
            );
        }
        settled
    }
}
