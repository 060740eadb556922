//! API tokens: each acts as one person. Only the token's SHA-256 is stored; the token is shown
//! once, when made.

use std::net::IpAddr;

use docket_core::audit::AuditEntry;
use docket_core::{Actor, PersonId};
use sha2::{Digest as _, Sha256};

use super::App;
use crate::error::AppError;
use crate::ports::store::ApiToken;

/// Every token starts with this, so a leaked one is easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "dkt_";

impl App {
    /// Makes a token that acts as `person`, records it (hashed) and audits it. Returns the
    /// token; it cannot be shown again.
    pub async fn create_token(&self, person: &PersonId, name: &str) -> Result<String, AppError> {
        if self.inner.rules.directory.person(person).is_none() {
            return Err(AppError::Invalid(format!("{person} is not a known person in Docket's directory")));
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| AppError::Invalid(format!("no randomness for a token: {e}")))?;
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
        let now = self.now();
        let record =
            ApiToken { hash: hash_token(&token), person: person.clone(), name: name.to_owned(), created_at: now };
        self.store().create_token(&record).await?;
        let entry = AuditEntry {
            at: now,
            actor: "docket".to_owned(),
            action: "token.created".to_owned(),
            ticket: None,
            details: serde_json::json!({ "person": person, "name": name, "hash_prefix": &record.hash[..12] }),
        };
        self.store().append_audit(vec![entry]).await?;
        Ok(token)
    }

    /// The person a token acts as. Unknown tokens, and tokens of people no longer in the
    /// directory, are refused alike.
    pub async fn authenticate(&self, token: &str) -> Result<Actor, AppError> {
        let token = token.trim();
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Err(AppError::Unauthenticated);
        }
        let record = self.store().token(&hash_token(token)).await?.ok_or(AppError::Unauthenticated)?;
        if self.inner.rules.directory.person(&record.person).is_none() {
            return Err(AppError::Unauthenticated);
        }
        Ok(Actor::Person { id: record.person })
    }

    /// Records a failed authentication (a bad token, a forged request) from `source`, the
    /// peer's address when the surface knows it. Repeats are gathered: the first of a kind in a
    /// minute is recorded at once, the rest as one record with their count when the minute is
    /// over, and a source gets a bounded number of records a minute (see `rejections`).
    pub async fn audit_rejected_credentials(&self, surface: &str, source: Option<IpAddr>, detail: &str) {
        let entries = self.lock_rejections().note(self.now(), source, surface, detail);
        self.write_rejections(entries).await;
    }

    /// Writes the summaries of every gathered failed authentication now, whether or not its
    /// minute has ended (the engine does this at a stop).
    pub async fn flush_rejections(&self) {
        self.close_rejections(true).await;
    }

    /// Writes the summaries of failed authentications whose minute has ended; with `all`, of
    /// every minute still open.
    pub(crate) async fn close_rejections(&self, all: bool) {
        let now =
            if all { self.now().checked_add(super::rejections::WINDOW).unwrap_or(self.now()) } else { self.now() };
        let entries = self.lock_rejections().close_ended(now);
        self.write_rejections(entries).await;
    }

    fn lock_rejections(&self) -> std::sync::MutexGuard<'_, super::rejections::Rejections> {
        self.inner.rejections.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn write_rejections(&self, entries: Vec<AuditEntry>) {
        if entries.is_empty() {
            return;
        }
        if let Err(error) = self.store().append_audit(entries).await {
            tracing::error!(%error, "could not record a failed authentication in the audit log");
        }
    }

    /// Records that a chat user Docket cannot match to a person (no directory entry by chat id
    /// or email) tried to act (`attempted`: "approve DKT-42", "use /docket").
    pub async fn audit_unknown_chat_user(&self, surface: &str, user: &str, attempted: &str) {
        let entry = AuditEntry {
            at: self.now(),
            actor: format!("{surface}:{user}"),
            action: format!("{surface}.unknown_user"),
            ticket: None,
            details: serde_json::json!({ "user": user, "attempted": attempted }),
        };
        if let Err(error) = self.store().append_audit(vec![entry]).await {
            tracing::error!(%error, "could not record an unknown chat user in the audit log");
        }
    }
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
