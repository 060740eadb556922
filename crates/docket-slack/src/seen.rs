//! What Slack already delivered: request signatures (HTTP mode's replay check), `event_id`s and
//! Socket Mode envelope ids, each recorded once in surface state (scope `slack.seen`, shared by
//! every replica) and forgotten an hour later — past the signature's five-minute window and
//! Slack's last retry — by a prune run once every [`PRUNE_EVERY`] records.

use std::time::Duration;

use docket_app::{AppError, Delivery};
use docket_http::warn_throttled;

use crate::Slack;
use crate::inbound::{InboundError, Unseen};

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
        self.count_record();
        Ok(first)
    }

    /// Counts a record written, and every [`PRUNE_EVERY`] records forgets the old ones.
    fn count_record(&self) {
        if self.inner.recorded.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            let app = self.app().clone();
            tokio::spawn(async move {
                if let Err(error) = app.forget_older(SCOPE, KEEP).await {
                    tracing::warn!(%error, "could not forget old Slack deliveries");
                }
            });
        }
    }

    /// Where an unseen signature is recorded with the change it asked for (see
    /// [`docket_app::App::request_once`]), counted as a record written.
    pub(crate) fn delivery<'a>(&self, unseen: &'a Unseen) -> Delivery<'a> {
        self.count_record();
        Delivery { scope: SCOPE, key: &unseen.0 }
    }

    /// Whether `unseen` is recorded already: a cheap read that turns most replays away before
    /// they cost a commit. A store that cannot answer says no (the commit still checks).
    pub(crate) async fn seen_before(&self, unseen: &Unseen) -> bool {
        matches!(self.app().recall(SCOPE, &unseen.0).await, Ok(Some(_)))
    }

    /// Records an HTTP request's signature as seen, if it is not yet: [`InboundError::Replayed`]
    /// if it was seen before. A store that cannot record it is logged, and the request goes on.
    pub(crate) async fn see(&self, unseen: Option<Unseen>) -> Result<(), InboundError> {
        let Some(Unseen(key)) = unseen else { return Ok(()) };
        match self.first_delivery(&key).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(InboundError::Replayed),
            Err(error) => {
                warn_throttled!(%error, "could not record a Slack signature; accepting the request");
                Ok(())
            }
        }
    }
}
