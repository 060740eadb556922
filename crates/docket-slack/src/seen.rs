//! What Slack already delivered: request signatures (HTTP mode's replay check), `event_id`s and
//! Socket Mode envelope ids, each recorded once in surface state (scope `slack.seen`, shared by
//! every replica) and forgotten an hour later — past the signature's five-minute window and
//! Slack's last retry — by a prune run with the first record after a start and once every
//! [`PRUNE_EVERY`] records after it.

use std::time::Duration;

use docket_app::{AppError, Delivery, Pruned};
use docket_http::warn_throttled;

use crate::Slack;
use crate::inbound::{DeliveryKind, InboundError, Unseen};

/// Scope of what was delivered.
const SCOPE: &str = "slack.seen";
/// How long a delivery is remembered.
const KEEP: Duration = Duration::from_secs(60 * 60);
/// Records between prunes.
const PRUNE_EVERY: u64 = 1_000;

/// The records of what was delivered, forgotten [`KEEP`] after they were written.
static SEEN: Pruned = Pruned::new(SCOPE, KEEP, PRUNE_EVERY);

/// The deliveries (signatures, envelope ids) of the request forms this replica took in the last
/// [`RECENT_FOR`], at most [`RECENT_MAX`] of them: what [`Slack::seen_before`] looks in.
pub(crate) struct Recent(moka::future::Cache<String, ()>);

/// As long as a signature can be accepted: its timestamp may be up to five minutes ahead of
/// this clock or behind it, so ten minutes, and a little more.
const RECENT_FOR: Duration = Duration::from_secs(11 * 60);
/// About 10 MB of keys at most; past it the least recently used go (a replay of one of them is
/// caught by the commit instead).
const RECENT_MAX: u64 = 100_000;

impl Recent {
    pub(crate) fn new() -> Self {
        Self(
            moka::future::Cache::builder()
                .max_capacity(RECENT_MAX)
                .time_to_live(RECENT_FOR)
                // Least recently used, not moka's default, which admits a new key only if it is
                // asked for more often than the one it would push out: these are asked for once.
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
        )
    }
}

impl Slack {
    /// Records `key` (`sig:…`, `event:…`, `envelope:…`) as delivered; `true` the first time
    /// any replica records it.
    pub(crate) async fn first_delivery(&self, key: &str) -> Result<bool, AppError> {
        let first = self.app().remember_first(SCOPE, key, "").await?;
        SEEN.count(self.app());
        Ok(first)
    }

    /// Where an unseen delivery is recorded with the change it asked for (see
    /// [`docket_app::App::request_once`]), counted as a record written.
    pub(crate) fn delivery<'a>(&self, unseen: &'a Unseen) -> Delivery<'a> {
        SEEN.delivery(self.app(), &unseen.key, "")
    }

    /// Whether this replica took a request form with `unseen` lately: turns a replay or repeat
    /// to this replica away before it costs a ticket number and a commit, without a read. Any
    /// other is caught by the commit itself.
    pub(crate) fn seen_before(&self, unseen: &Unseen) -> bool {
        self.inner.recent.0.contains_key(&unseen.key)
    }

    /// Notes that this replica took a request form with `unseen` (see [`Self::seen_before`]).
    pub(crate) async fn taken(&self, unseen: &Unseen) {
        self.inner.recent.0.insert(unseen.key.clone(), ()).await;
    }

    /// Forgets [`Self::taken`]: the request form opened nothing and recorded nothing.
    pub(crate) async fn not_taken(&self, unseen: &Unseen) {
        self.inner.recent.0.invalidate(&unseen.key).await;
    }

    /// Records a delivery as seen, if it is not yet: [`InboundError::Replayed`] if it was seen
    /// before. A signature the store cannot record is logged, and the request goes on; an
    /// envelope is [`InboundError::Unrecorded`], for Slack to send again.
    pub(crate) async fn see(&self, unseen: Option<Unseen>) -> Result<(), InboundError> {
        let Some(Unseen { key, kind, .. }) = unseen else { return Ok(()) };
        match self.first_delivery(&key).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(InboundError::Replayed),
            Err(error) if kind == DeliveryKind::Envelope => Err(InboundError::Unrecorded(error.to_string())),
            Err(error) => {
                warn_throttled!(%error, "could not record a Slack signature; accepting the request");
                Ok(())
            }
        }
    }
}
