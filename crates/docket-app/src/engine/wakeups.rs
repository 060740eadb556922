//! What this replica does when another one commits something: the same wake-ups its own commits
//! cause (a worker looks for runs, the dispatcher for notifications, a run cancelled elsewhere
//! is stopped here), and live followers are told to read the store; a reload there makes this
//! replica read its own configuration files again, and so does one it may have missed: while its
//! listening connection was broken, or before it first listened.

use docket_core::TicketState;
use tokio_util::sync::CancellationToken;

use crate::app::{App, Following};
use crate::live::LiveEvent;
use crate::ports::wakeup::Wakeup;

/// Hears other replicas until `shutdown`.
pub(crate) async fn listen_loop(app: App, shutdown: CancellationToken) {
    let sink_app = app.clone();
    app.inner.store.listen(Box::new(move |wakeup| sink_app.wake(wakeup)), shutdown).await;
}

impl App {
    /// Acts on a wake-up from another replica.
    pub(crate) fn wake(&self, wakeup: Wakeup) {
        metrics::counter!("docket_wakeups_total", "kind" => kind(&wakeup)).increment(1);
        match wakeup {
            Wakeup::Ticket { ticket, version, state, run, outbox } => {
                if state == TicketState::Cancelled {
                    let running = self.inner.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some(token) = running.get(&ticket) {
                        token.cancel();
                    }
                }
                self.inner.live.publish(LiveEvent::Ticket {
                    ticket,
                    state,
                    version,
                    actions: Vec::new(),
                    committed: None,
                });
                if run {
                    self.inner.work.notify_one();
                }
                if outbox {
                    self.inner.outbox.notify_one();
                }
            }
            Wakeup::Logged { ticket, seq } => self.inner.live.publish(LiveEvent::Logged { ticket, seq }),
            // Before the first connection, or while it was broken, nothing was heard: everything
            // is looked at again, and the last reload recorded is followed if it is newer.
            Wakeup::Missed | Wakeup::Listening => {
                self.inner.work.notify_waiters();
                self.inner.outbox.notify_one();
                self.inner.live.publish(LiveEvent::Resync);
                let app = self.clone();
                tokio::spawn(async move { app.catch_up_reload().await });
            }
            Wakeup::Reloaded { digest } => {
                let app = self.clone();
                tokio::spawn(async move { app.follow_reload(&digest, Following::Announced).await });
            }
        }
    }
}

fn kind(wakeup: &Wakeup) -> &'static str {
    match wakeup {
        Wakeup::Ticket { .. } => "ticket",
        Wakeup::Logged { .. } => "logged",
        Wakeup::Missed => "missed",
        Wakeup::Listening => "listening",
        Wakeup::Reloaded { .. } => "reloaded",
    }
}
