//! The scheduler: expires requests nobody answered in time and approvals that went unused, and
//! writes the summaries of failed authentications whose minute has ended.
//! Core decides whether a deadline has passed; this only asks at the right moments.

use docket_core::{Actor, Command};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::error::AppError;

/// Tickets looked at per pass.
const BATCH: u32 = 200;

pub(crate) async fn scheduler_loop(app: App, shutdown: CancellationToken) {
    loop {
        if let Err(error) = expire_due(&app).await {
            tracing::warn!(%error, "could not expire due tickets");
        }
        app.close_rejections(false).await;
        tokio::select! {
            () = shutdown.cancelled() => {
                app.close_rejections(true).await;
                return;
            }
            () = tokio::time::sleep(app.inner.settings.poll) => {}
        }
    }
}

/// Expires every ticket whose deadline has passed. Returns how many expired.
pub(crate) async fn expire_due(app: &App) -> Result<usize, AppError> {
    let due = app.store().due_for_expiry(app.now(), BATCH).await?;
    let mut expired = 0;
    for id in due {
        match app.apply(&id, &Actor::System, &Command::Expire).await {
            Ok(_) => expired += 1,
            // Approved or amended since it was listed: not due any more.
            Err(AppError::Refused(refusal)) => tracing::debug!(ticket = %id, %refusal, "not expired"),
            Err(other) => return Err(other),
        }
    }
    Ok(expired)
}
