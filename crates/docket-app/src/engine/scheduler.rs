//! The scheduler: expires requests nobody answered in time and approvals that went unused, and
//! writes the summaries of failed authentications whose minute has ended.
//! Core decides whether a deadline has passed; this only asks at the right moments.
//!
//! Expiry is periodic work for one replica at a time: the leader, elected with a lease row
//! (`lead("scheduler")`) renewed on every pass, and taken over by another replica within
//! [`LEADER_TERM`] of the leader's death. A single server (SQLite) is always the leader. The
//! summaries of failed authentications stay with each replica, since each counts its own.

use docket_core::{Actor, Command};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::error::AppError;

/// Tickets looked at per pass.
const BATCH: u32 = 200;
/// How long a leader's term lasts without renewal: how soon another replica takes over.
const LEADER_TERM: std::time::Duration = std::time::Duration::from_secs(10);
/// The role periodic work is done under.
const ROLE: &str = "scheduler";

pub(crate) async fn scheduler_loop(app: App, shutdown: CancellationToken) {
    let mut leading = false;
    loop {
        let leads = leads(&app).await;
        if leads != leading {
            tracing::info!(holder = %app.inner.holder, "{}", if leads { "leading periodic work" } else { "no longer leading periodic work" });
            leading = leads;
        }
        if leads && let Err(error) = expire_due(&app).await {
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

/// Whether this replica leads periodic work now (taking or renewing the term).
async fn leads(app: &App) -> bool {
    if app.inner.settings.exclusive {
        return true;
    }
    let now = app.now();
    let until = now.checked_add(LEADER_TERM).unwrap_or(now);
    match app.store().lead(ROLE, &app.inner.holder, now, until).await {
        Ok(leads) => leads,
        Err(error) => {
            tracing::warn!(%error, "could not take or renew the lead on periodic work");
            false
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
