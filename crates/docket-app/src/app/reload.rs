//! Reloading the configuration while the server runs: core decides who may (admins, and the
//! operator's `SIGHUP`); the composition root reads every file again; a configuration with any
//! error, or with a change only a restart takes on, is refused and the running one stays; a good
//! one replaces the rules and runners at once. New requests see the new catalog and policies;
//! a ticket keeps the workflow version it pinned. Every reload, taken or refused, is audited.
//!
//! Replicas share one configuration: how a reload reaches the others is in `following`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, PoisonError};

use docket_core::agent::may_administer;
use docket_core::audit::AuditEntry;
use docket_core::{Actor, Catalog, WorkflowId};
use serde::Serialize;

use super::App;
use crate::error::AppError;
use crate::ports::reloader::{ReloadRefused, Reloaded, Reloader};

/// What a reload changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReloadOutcome {
    /// A digest of the configuration now in force, as written (no secret is in it).
    pub digest: String,
    /// Workflows now in the catalog.
    pub workflows: usize,
    /// People in the directory.
    pub people: usize,
    /// Policy rules.
    pub policies: usize,
    /// Workflows new in the catalog.
    pub added: Vec<String>,
    /// Workflows whose file changed: new tickets get the new version.
    pub changed: Vec<String>,
    /// Workflows no longer in the catalog.
    pub removed: Vec<String>,
    /// Things that load but look wrong.
    pub warnings: Vec<String>,
}

impl App {
    /// Reads the configuration again and, if it is good, puts it in force; `actor` must be an
    /// admin (or Docket itself, for `SIGHUP`).
    pub async fn reload(&self, actor: &Actor) -> Result<ReloadOutcome, AppError> {
        const ACTION: &str = "reload the configuration";
        let now = self.now();
        if let Err(refusal) = may_administer(actor, &self.rules().directory, ACTION) {
            self.audit_refusal(None, actor, "reload", &refusal, now).await;
            return Err(AppError::Refused(refusal));
        }
        let Some(reloader) = self.inner.reloader.clone() else {
            return Err(AppError::ReloadRefused(ReloadRefused::Unsupported));
        };
        let _one_at_a_time = self.inner.reloading.lock().await;
        let read_at = self.now();
        let reloaded = match reloader.load().await {
            Ok(reloaded) => reloaded,
            Err(refused) => {
                tracing::error!("configuration reload refused: {refused}");
                self.audit_reload(actor, "config.reload_refused", refusal_details(&refused)).await?;
                return Err(AppError::ReloadRefused(refused));
            }
        };
        let outcome = self.take_on(actor, &*reloader, reloaded, None, read_at).await?;
        self.tell_replicas(&outcome.digest).await;
        Ok(outcome)
    }

    /// Records and puts in force a configuration read (from `read_at` on) and found good;
    /// `following` is the digest another replica announced, when this reload follows it.
    pub(super) async fn take_on(
        &self,
        actor: &Actor,
        reloader: &dyn Reloader,
        reloaded: Reloaded,
        following: Option<&str>,
        read_at: jiff::Timestamp,
    ) -> Result<ReloadOutcome, AppError> {
        let outcome = outcome(&self.rules().catalog, &reloaded);
        let mut details = serde_json::to_value(&outcome).unwrap_or_default();
        if let Some(digest) = following {
            details["following"] = serde_json::Value::from(digest);
        }
        // Recorded before it takes effect: a reload the audit cannot record does not happen.
        self.audit_reload(actor, "config.reloaded", details).await?;
        for warning in &reloaded.warnings {
            tracing::warn!("{warning}");
        }
        reloader.taken(&reloaded.digest);
        *self.inner.config_since.lock().unwrap_or_else(PoisonError::into_inner) = read_at;
        self.swap(reloaded);
        tracing::info!(
            digest = %outcome.digest,
            workflows = outcome.workflows,
            added = outcome.added.len(),
            changed = outcome.changed.len(),
            removed = outcome.removed.len(),
            following_another_replica = following.is_some(),
            "configuration reloaded"
        );
        Ok(outcome)
    }

    /// Puts `reloaded` in force. The versions it replaces stay reachable for tickets that
    /// pinned them.
    fn swap(&self, reloaded: Reloaded) {
        let old = self.rules();
        {
            let mut pinned = self.inner.pinned.lock().unwrap_or_else(PoisonError::into_inner);
            for workflow in old.catalog.iter() {
                let still = reloaded.rules.catalog.get(&workflow.id).is_some_and(|w| w.version == workflow.version);
                if !still {
                    pinned.insert((workflow.id.clone(), workflow.version.clone()), Arc::clone(workflow));
                }
            }
        }
        let runners: super::Runners = reloaded.runners.into_iter().map(|r| (r.kind(), r)).collect();
        *self.inner.runners.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(runners);
        *self.inner.rules.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(reloaded.rules);
    }

    pub(super) async fn audit_reload(
        &self,
        actor: &Actor,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), AppError> {
        let entry = AuditEntry {
            at: self.now(),
            actor: actor.to_string(),
            action: action.to_owned(),
            ticket: None,
            details: self.with_credential(details),
        };
        self.store().append_audit(vec![entry]).await?;
        Ok(())
    }
}

pub(super) fn refusal_details(refused: &ReloadRefused) -> serde_json::Value {
    match refused {
        ReloadRefused::Invalid(errors) => serde_json::json!({ "code": "invalid", "errors": errors }),
        ReloadRefused::NeedsRestart(keys) => serde_json::json!({ "code": "needs_restart", "keys": keys }),
        other => serde_json::json!({ "code": "failed", "reason": other.to_string() }),
    }
}

/// What taking on `reloaded` changes, compared with `running`.
fn outcome(running: &Catalog, reloaded: &Reloaded) -> ReloadOutcome {
    let versions = |catalog: &Catalog| -> HashMap<WorkflowId, String> {
        catalog.iter().map(|w| (w.id.clone(), w.version.clone())).collect()
    };
    let (before, after) = (versions(running), versions(&reloaded.rules.catalog));
    let ids: BTreeSet<&WorkflowId> = before.keys().chain(after.keys()).collect();
    let (mut added, mut changed, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for id in ids {
        match (before.get(id), after.get(id)) {
            (None, Some(_)) => added.push(id.to_string()),
            (Some(_), None) => removed.push(id.to_string()),
            (Some(a), Some(b)) if a != b => changed.push(id.to_string()),
            _ => {}
        }
    }
    ReloadOutcome {
        digest: reloaded.digest.clone(),
        workflows: reloaded.rules.catalog.len(),
        people: reloaded.rules.directory.people().count(),
        policies: reloaded.rules.policies.rules.len(),
        added,
        changed,
        removed,
        warnings: reloaded.warnings.clone(),
    }
}
