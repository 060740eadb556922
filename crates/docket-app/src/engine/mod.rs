//! The engine: what runs in the background of a server. On start it ends the step processes a
//! dead server on this host left running, resumes what a stop cut short (planning, runs under
//! lapsed leases), then runs workers, the expiry scheduler (on one replica at a time), the
//! outbox dispatcher and, when replicas share the store, the listener for what the others
//! commit, until stopped.

mod outbox;
mod planner;
mod processes;
mod scheduler;
mod steplog;
mod wakeups;
mod watch;
mod worker;

pub(crate) use watch::Watch;

use std::time::Duration;

use docket_core::TicketState;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::error::AppError;

/// The running engine. Dropping it aborts its tasks wherever they wait, without the grace
/// [`Engine::stop`] gives steps in progress: stop it instead.
#[derive(Debug)]
pub struct Engine {
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

impl App {
    /// Starts the engine: ends the step processes a dead server on this host left running (and
    /// waits until they are gone), resumes interrupted work, then starts the workers, the
    /// scheduler and the outbox dispatcher.
    pub async fn start(&self) -> Result<Engine, AppError> {
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        // Before any run resumes: nothing a dead server on this host started is still running.
        processes::end_orphans(self).await?;
        if self.inner.settings.exclusive {
            let ended = self.store().end_all_leases().await?;
            if ended > 0 {
                tracing::info!(runs = ended, "resuming runs cut short by the last stop");
            }
        }
        // Dry runs are safe to repeat: planning cut short is simply done again.
        for id in self.store().tickets_in_state(TicketState::Planning, 10_000).await? {
            let app = self.clone();
            tasks.spawn(async move {
                if let Err(error) = app.plan(&id).await {
                    tracing::warn!(%error, ticket = %id, "could not plan a ticket after a restart");
                }
            });
        }
        for _ in 0..self.inner.settings.workers.max(1) {
            tasks.spawn(worker::worker_loop(self.clone(), shutdown.clone()));
        }
        tasks.spawn(scheduler::scheduler_loop(self.clone(), shutdown.clone()));
        tasks.spawn(outbox::dispatcher_loop(self.clone(), shutdown.clone()));
        if !self.inner.settings.exclusive {
            tasks.spawn(wakeups::listen_loop(self.clone(), shutdown.clone()));
        }
        Ok(Engine { shutdown, tasks })
    }

    /// Expires every ticket whose deadline has passed now (the scheduler does this on its
    /// own; tests and administrative commands call it directly). Returns how many expired.
    pub async fn expire_due(&self) -> Result<usize, AppError> {
        scheduler::expire_due(self).await
    }

    /// Delivers every notification that is due now. Returns how many were attempted.
    pub async fn dispatch_outbox(&self) -> Result<usize, AppError> {
        outbox::dispatch_due(self).await
    }
}

impl Engine {
    /// Stops taking new work and waits up to `grace` for steps in progress to finish. A run
    /// stopped between steps resumes at its next step on the next start; a step still running
    /// after `grace` is abandoned, and the next start treats it as interrupted.
    pub async fn stop(mut self, grace: Duration) {
        self.shutdown.cancel();
        let drained = tokio::time::timeout(grace, async { while self.tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(grace_secs = grace.as_secs(), "steps still running at shutdown were abandoned");
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}
