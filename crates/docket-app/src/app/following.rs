//! How one configuration reaches every replica. A replica that takes a reload records its
//! digest and time in the store and announces it. Each other replica then reads its own files
//! again (secrets come from each one's environment, runners are set up locally) and takes them
//! on if they are the same configuration, the same digest, recorded as Docket's own reload
//! following the other replica; files that read differently are refused, and that replica keeps
//! what it runs and says so in its log and the audit.
//!
//! An announcement is a wake-up, and a replica whose listening connection was broken at that
//! moment does not hear it. Once it listens again it reads the last recorded reload and, if it
//! is newer than the configuration it runs (its start or its last reload) and another digest,
//! follows it the same way: a missed reload is caught up, not lost. A reload recorded before a
//! replica started is older than the files it read at start (a rolling restart with new files),
//! so it is left alone. Catching up the same reload again after another reconnection, with the
//! same outcome, records nothing new.

use std::sync::PoisonError;

use docket_core::Actor;
use jiff::Timestamp;

use super::App;
use super::reload::refusal_details;

/// Where the store keeps the last reload a replica took: `<digest>@<time>`.
const SCOPE: &str = "config";
const RELOADED: &str = "reloaded";

/// Why this replica follows a configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Following {
    /// Another replica announced it.
    Announced,
    /// It was recorded at this time while this replica was not listening.
    Recorded(Timestamp),
}

impl App {
    /// Records that this replica took the reload with `digest` and tells the others (on a store
    /// replicas share).
    pub(super) async fn tell_replicas(&self, digest: &str) {
        if self.inner.settings.exclusive {
            return;
        }
        let now = self.now();
        let told = match self.store().state_put(SCOPE, RELOADED, &format!("{digest}@{now}"), now).await {
            Ok(()) => self.store().announce_reload(digest).await,
            Err(error) => Err(error),
        };
        if let Err(error) = told {
            tracing::warn!(%error, "could not tell the other replicas about the reload; reload each of them");
        }
    }

    /// After wake-ups may have been missed: follows the last reload another replica took, if it
    /// is newer than the configuration this one runs.
    pub(crate) async fn catch_up_reload(&self) {
        let recorded = match self.store().state_get(SCOPE, RELOADED).await {
            Ok(recorded) => recorded,
            Err(error) => {
                tracing::warn!(%error, "could not read the last reload of the other replicas");
                return;
            }
        };
        let Some((digest, at)) = recorded.as_deref().and_then(|r| r.split_once('@')) else { return };
        let Ok(at) = at.parse::<Timestamp>() else {
            tracing::warn!(recorded = ?recorded, "the last reload of the other replicas is recorded unreadably");
            return;
        };
        self.follow_reload(digest, Following::Recorded(at)).await;
    }

    /// Another replica put the configuration with `digest` in force: this one reads its own
    /// files again and takes them on if they are that configuration, else keeps what it runs
    /// (audited as refused, with both digests). Nothing happens if this one runs it already, or,
    /// catching up, runs a newer one or refused this one for the same reason before.
    pub(crate) async fn follow_reload(&self, digest: &str, why: Following) {
        let Some(reloader) = self.inner.reloader.clone() else { return };
        let _one_at_a_time = self.inner.reloading.lock().await;
        if reloader.running() == digest {
            return;
        }
        if let Following::Recorded(at) = why {
            if at <= *self.inner.config_since.lock().unwrap_or_else(PoisonError::into_inner) {
                return;
            }
            tracing::info!(%digest, "another replica took a reload while this one was not listening");
        }
        let read_at = self.now();
        let (mut details, said) = match reloader.load().await {
            Ok(reloaded) if reloaded.digest == digest => {
                if let Err(error) = self.take_on(&Actor::System, &*reloader, reloaded, Some(digest), read_at).await {
                    tracing::error!(%error, "could not follow another replica's reload");
                }
                return;
            }
            Ok(reloaded) => (
                serde_json::json!({ "code": "differs", "digest": reloaded.digest }),
                format!(
                    "another replica put in force a configuration this one's files do not match ({digest} there, {} \
                     here); the running one stays",
                    reloaded.digest
                ),
            ),
            Err(refused) => (
                refusal_details(&refused),
                format!("another replica put a new configuration in force; this one's was refused: {refused}"),
            ),
        };
        details["following"] = serde_json::Value::from(digest);
        {
            let mut refused = self.inner.caught_up.lock().unwrap_or_else(PoisonError::into_inner);
            if matches!(why, Following::Recorded(_)) && refused.as_ref() == Some(&details) {
                tracing::debug!(%digest, "still refusing another replica's reload, for the same reason");
                return;
            }
            *refused = Some(details.clone());
        }
        tracing::error!("{said}");
        if let Err(error) = self.audit_reload(&Actor::System, "config.reload_refused", details).await {
            tracing::error!(%error, "could not record a refused reload");
            *self.inner.caught_up.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }
}
