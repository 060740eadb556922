//! The outbox dispatcher: delivers committed notifications to their notifiers, in order per
//! ticket, retrying with exponential backoff, and gives up after a bounded number of attempts
//! (the message stays in the store with its last error).

use std::time::Duration;

use docket_core::Ticket;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::error::AppError;
use crate::ports::notifier::NotifyError;
use crate::ports::store::OutboxMessage;

/// Messages taken per pass.
const BATCH: u32 = 100;
/// Longest a notifier may take for one message.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) async fn dispatcher_loop(app: App, shutdown: CancellationToken) {
    loop {
        match dispatch_due(&app).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not read the outbox"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = app.inner.outbox.notified() => {}
            () = tokio::time::sleep(app.inner.settings.poll) => {}
        }
    }
}

/// Delivers every message that is due. Returns how many were attempted.
pub(crate) async fn dispatch_due(app: &App) -> Result<usize, AppError> {
    let due = app.store().due_outbox(app.now(), BATCH).await?;
    let count = due.len();
    for message in due {
        let ticket = app.load(&message.message.ticket).await?.ticket;
        let result = deliver(app, &message, &ticket).await;
        let now = app.now();
        match result {
            Ok(()) => app.store().outbox_delivered(message.id, now).await?,
            Err(error) => {
                let attempts = message.attempts + 1;
                let permanent = matches!(error, NotifyError::Permanent(_));
                let retry_at = if permanent || attempts >= app.inner.settings.outbox_max_attempts {
                    tracing::warn!(notifier = %message.message.notifier, ticket = %ticket.id, %error, attempts,
                        "giving up on a notification");
                    None
                } else {
                    now.checked_add(backoff(app, attempts)).ok()
                };
                let error = app.inner.rules.redactor.redact(&error.to_string());
                app.store().outbox_failed(message.id, &error, retry_at).await?;
            }
        }
    }
    Ok(count)
}

async fn deliver(app: &App, message: &OutboxMessage, ticket: &Ticket) -> Result<(), NotifyError> {
    let notifier = app.inner.notifiers.iter().find(|n| n.name() == message.message.notifier);
    let Some(notifier) = notifier else {
        return Err(NotifyError::Permanent(format!("no notifier named `{}` is configured", message.message.notifier)));
    };
    match tokio::time::timeout(DELIVERY_TIMEOUT, notifier.deliver(app, message, ticket)).await {
        Ok(result) => result,
        Err(_) => Err(NotifyError::Transient(format!("no answer within {}s", DELIVERY_TIMEOUT.as_secs()))),
    }
}

/// `backoff × 2^(attempts-1)`, at most `max_backoff`.
fn backoff(app: &App, attempts: u32) -> Duration {
    let settings = &app.inner.settings;
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    settings.outbox_backoff.saturating_mul(factor).min(settings.outbox_max_backoff)
}
