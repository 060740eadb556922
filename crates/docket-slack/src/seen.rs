//! What Slack already delivered: request signatures (HTTP mode's replay check), `event_id`s and
//! Socket Mode envelope ids, each recorded once in surface state (scope `slack.seen`, shared by
//! every replica) and forgotten an hour later — past the signature's five-minute window and
//! Slack's last retry — by a prune run once every [`PRUNE_EVERY`] records.

use std::time::Duration;

use docket_app::AppError;

use crate::Slack;

/// Scope of what was delivered.
const SCOPE: &str = "slack.seen";
/// How long a delivery is remembered.
const KEEP: Duration = Duration::from_secs(60 * 60);
/// Records between prunes.
const PRUNE_EVERY: u64 = 1_000;

impl Slack {
    /// Records `key` (`sig:…`, `event:…`, `envelope:…`) as delivered; `true` the first time
    /// any replica records it.
    pub(crate) async fn first_delivery(&self, key: &str) -> Result<bool, AppError> {
        let first = self.app().remember_first(SCOPE, key, "").await?;
        if self.inner.recorded.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            let app = self.app().clone();
            tokio::spawn(async move {
                if let Err(error) = app.forget_older(SCOPE, KEEP).await {
                    tracing::warn!(%error, "could not forget old Slack deliveries");
                }
            });
        }
        Ok(first)
    }
}
