//! How one configuration reaches every replica. A replica that puts one in force, at start or
//! by a reload, records its digest in the store, and announces a reload as it takes it. Each
//! other replica then reads its own files again (secrets come from each one's environment,
//! runners are set up locally) and takes them on if they are the same configuration, the same
//! digest, recorded as Docket's own reload following the other replica; files that read
//! differently are refused, and that replica keeps what it runs and says so in its log and the
//! audit.
//!
//! An announcement is a wake-up, and a replica whose listening connection was broken at that
//! moment does not hear it. Once it listens again it compares the recorded digest with its own
//! and follows that configuration if they differ, so a missed reload is caught up, not lost.
//! A replica started with new files records them without announcing them: during a rolling
//! restart the others take them on as each restarts (or when one next catches up).

use std::sync::PoisonError;

use docket_core::Actor;

use super::App;
use super::reload::refusal_details;

/// Where the store keeps the digest of the configuration a replica last put in force.
const SCOPE: &str = "config";
const IN_FORCE: &str = "in_force";

impl App {
    /// Records that this replica put the configuration with `digest` in force by a reload, and
    /// tells the others.
    pub(super) async fn announce_in_force(&self, digest: &str) {
        self.record_in_force(digest).await;
        if let Err(error) = self.store().announce_reload(digest).await {
            tracing::warn!(%error, "could not tell the other replicas about the reload; reload each of them");
        }
    }

    /// At start, on a store replicas share: records the configuration this replica runs as the
    /// one in force, saying so when another replica last put a different one in force.
    pub(crate) async fn record_started_configuration(&self) {
        let Some(reloader) = self.inner.reloader.clone() else { return };
        let ours = reloader.running();
        match self.store().state_get(SCOPE, IN_FORCE).await {
            Ok(Some(theirs)) if theirs != ours => tracing::info!(
                %theirs,
                %ours,
                "this replica starts with a configuration other than the one last in force; \
                 replicas whose files read the same take it on as they restart or catch up"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not read the configuration other replicas put in force"),
        }
        self.record_in_force(&ours).await;
    }

    /// After wake-ups may have been missed: follows the configuration another replica last put
    /// in force, if this one runs another and has not looked at that one yet.
    pub(crate) async fn catch_up_reload(&self) {
        let Some(reloader) = self.inner.reloader.clone() else { return };
        let recorded = match self.store().state_get(SCOPE, IN_FORCE).await {
            Ok(Some(recorded)) => recorded,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, "could not read the configuration other replicas put in force");
                return;
            }
        };
        if recorded == reloader.running() {
            return;
        }
        {
            let mut looked_at = self.inner.caught_up.lock().unwrap_or_else(PoisonError::into_inner);
            if looked_at.as_deref() == Some(recorded.as_str()) {
                return;
            }
            *looked_at = Some(recorded.clone());
        }
        tracing::info!(digest = %recorded, "another replica put a configuration in force while this one was not listening");
        self.follow_reload(&recorded).await;
    }

    async fn record_in_force(&self, digest: &str) {
        if let Err(error) = self.store().state_put(SCOPE, IN_FORCE, digest, self.now()).await {
            tracing::warn!(%error, "could not record the configuration in force for the other replicas");
        }
    }

    /// Another replica put the configuration with `digest` in force: this one reads its own
    /// files again and takes them on if they are that configuration, else keeps what it runs
    /// (audited as refused, with both digests). Nothing happens if this one runs it already.
    pub(crate) async fn follow_reload(&self, digest: &str) {
        let Some(reloader) = self.inner.reloader.clone() else { return };
        let _one_at_a_time = self.inner.reloading.lock().await;
        if reloader.running() == digest {
            return;
        }
        let mut details = match reloader.load().await {
            Ok(reloaded) if reloaded.digest == digest => {
                if let Err(error) = self.take_on(&Actor::System, &*reloader, reloaded, Some(digest)).await {
                    tracing::error!(%error, "could not follow another replica's reload");
                }
                return;
            }
            Ok(reloaded) => {
                tracing::error!(
                    theirs = %digest,
                    ours = %reloaded.digest,
                    "another replica put in force a configuration this one's files do not match; the running one stays"
                );
                serde_json::json!({ "code": "differs", "digest": reloaded.digest })
            }
            Err(refused) => {
                tracing::error!("another replica put a new configuration in force; this one's was refused: {refused}");
                refusal_details(&refused)
            }
        };
        details["following"] = serde_json::Value::from(digest);
        if let Err(error) = self.audit_reload(&Actor::System, "config.reload_refused", details).await {
            tracing::error!(%error, "could not record a refused reload");
        }
    }
}
