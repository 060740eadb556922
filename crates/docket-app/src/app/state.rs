//! Surface state: small values the chat and web surfaces keep between requests (which chat
//! message shows a ticket, where a person can be messaged, event ids already handled,
//! sessions), durable in the store and shared by every replica. Scopes keep surfaces apart.

use std::time::Duration;

use super::App;
use crate::error::AppError;
use crate::ports::store::Delivery;

impl App {
    /// The value a surface kept under `key` in `scope`.
    pub async fn recall(&self, scope: &str, key: &str) -> Result<Option<String>, AppError> {
        Ok(self.store().state_get(scope, key).await?)
    }

    /// Keeps `value` under `key` in `scope`, replacing any earlier value.
    pub async fn remember(&self, scope: &str, key: &str, value: &str) -> Result<(), AppError> {
        Ok(self.store().state_put(scope, key, value, self.now()).await?)
    }

    /// Keeps `value` only if nothing is kept under `key` yet; `true` for the first caller.
    /// Surfaces de-duplicate retried deliveries with it (Slack's `event_id`, envelope ids).
    pub async fn remember_first(&self, scope: &str, key: &str, value: &str) -> Result<bool, AppError> {
        Ok(self.store().state_put_new(scope, key, value, self.now()).await?)
    }

    /// Every (key, value) kept in `scope` under keys starting with `prefix`, by key (at most
    /// 1,000).
    pub async fn recall_all(&self, scope: &str, prefix: &str) -> Result<Vec<(String, String)>, AppError> {
        Ok(self.store().state_list(scope, prefix, 1000).await?)
    }

    /// Forgets what `scope` kept (or last replaced) more than `age` ago; returns how many.
    pub async fn forget_older(&self, scope: &str, age: Duration) -> Result<u64, AppError> {
        let before =
            self.now().checked_sub(jiff::SignedDuration::try_from(age).unwrap_or_default()).unwrap_or_default();
        Ok(self.store().state_prune(scope, before).await?)
    }
}

/// Keeps a scope of once-records (deliveries, form keys, answers to refused decisions) from
/// growing without end: counts the records a surface writes and, with the first after the
/// server starts and every `every` after it, forgets in the background those kept longer than
/// `keep`. Meant for a `static`, one per scope, beside the code that writes the records (its
/// count is then the process's, so an app built again in the same process, as tests do, does
/// not prune with its own first record), or for a field of a surface's own state.
#[derive(Debug)]
pub struct Pruned {
    scope: &'static str,
    keep: Duration,
    every: u64,
    counted: std::sync::atomic::AtomicU64,
}

impl Pruned {
    /// Records of `scope` kept for `keep`, looked over every `every` records (at least 1).
    pub const fn new(scope: &'static str, keep: Duration, every: u64) -> Self {
        let every = if every == 0 { 1 } else { every };
        Self { scope, keep, every, counted: std::sync::atomic::AtomicU64::new(0) }
    }

    /// The scope these records are kept in.
    pub const fn scope(&self) -> &'static str {
        self.scope
    }

    /// Where a delivery made once (see [`App::request_once`]) is recorded in this scope under
    /// `key`, with `note`; counted as a record written (whether or not the request then opens
    /// anything: the count only paces the prune).
    pub fn delivery<'a>(&self, app: &App, key: &'a str, note: &'a str) -> Delivery<'a> {
        self.count(app);
        Delivery { scope: self.scope, key, note }
    }

    /// Counts one record written; starts a prune when it is due.
    pub fn count(&self, app: &App) {
        let n = self.counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !n.is_multiple_of(self.every) {
            return;
        }
        let (app, scope, keep) = (app.clone(), self.scope, self.keep);
        tokio::spawn(async move {
            match app.forget_older(scope, keep).await {
                Ok(0) => {}
                Ok(forgotten) => tracing::debug!(scope, forgotten, "forgot old once-records"),
                Err(error) => tracing::warn!(%error, scope, "could not forget old once-records"),
            }
        });
    }
}
