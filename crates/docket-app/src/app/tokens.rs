//! API tokens: each acts as one person or one agent, has a public id, a maker, an expiry and a
//! last use, and can be listed and revoked. Only the token's SHA-256 is stored; the token is
//! shown once, when made. Every check reads the store, so a revocation holds at once on every
//! replica.

use std::net::IpAddr;
use std::time::Duration;

use docket_core::agent::may_manage_tokens;
use docket_core::audit::AuditEntry;
use docket_core::{Actor, PersonId, TokenSubject};
use jiff::Timestamp;
use sha2::{Digest as _, Sha256};

use super::App;
use crate::error::AppError;
use crate::ports::store::{ApiToken, Revocation};

/// Every token starts with this, so a leaked one is easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "dkt_";

/// A token's last use is written at most this often (a busy client is not a write per call).
const LAST_USED_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// Who makes, lists or revokes tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenAuthority {
    /// Someone signed in or holding a token (the API, the web): core decides what they may do.
    Actor(Actor),
    /// The operator at the server's command line, who holds the database itself: no check,
    /// named in the records as given (`operator:root@build-1`).
    Operator(String),
}

impl TokenAuthority {
    /// How the audit and the token's record name them.
    pub fn name(&self) -> String {
        match self {
            TokenAuthority::Actor(actor) => actor.to_string(),
            TokenAuthority::Operator(name) => name.clone(),
        }
    }
}

/// How long a new token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenLifetime {
    /// What the configuration says (`tokens.expires`, 90 days unless set).
    Default,
    /// It never expires; it must be revoked.
    Never,
    /// It expires this long after it is made.
    For(Duration),
}

/// A token to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    /// Whom it acts as.
    pub subject: TokenSubject,
    /// A label to tell tokens apart (`laptop`, `ci`).
    pub name: String,
    /// How long it lives.
    pub lifetime: TokenLifetime,
}

/// A token just made: the secret, shown this once, and its record.
#[derive(Clone, Debug)]
pub struct MadeToken {
    /// The token itself.
    pub secret: String,
    /// What is stored about it.
    pub record: ApiToken,
}

/// Whom a token acts as, once checked: the actor its calls are issued as, and the token's id,
/// which the audit records of everything done with it name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// A person, or an agent acting for its owner.
    pub actor: Actor,
    /// The token's id.
    pub token: String,
}

/// Why a token Docket knows no longer works.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// Its expiry has passed.
    #[error("token {id} expired at {at}")]
    Expired {
        /// The token's id.
        id: String,
        /// When.
        at: Timestamp,
    },
    /// It was revoked.
    #[error("token {id} was revoked at {at}")]
    Revoked {
        /// The token's id.
        id: String,
        /// When.
        at: Timestamp,
    },
    /// Its person, or its agent, is no longer in the configuration (or the agent has another
    /// owner now).
    #[error("token {id} acts as {whom}, who is no longer in Docket's configuration")]
    Orphaned {
        /// The token's id.
        id: String,
        /// The person or agent.
        whom: String,
    },
}

impl TokenRefusal {
    /// The token's id.
    pub fn token(&self) -> &str {
        match self {
            TokenRefusal::Expired { id, .. } | TokenRefusal::Revoked { id, .. } | TokenRefusal::Orphaned { id, .. } => {
                id
            }
        }
    }
}

impl App {
    /// The same app, acting through the token `id`: the audit record of every command it
    /// issues names the token.
    pub fn with_token(&self, id: &str) -> App {
        App { inner: std::sync::Arc::clone(&self.inner), credential: Some(id.into()) }
    }

    /// The token this app acts through, if any.
    pub fn token_id(&self) -> Option<&str> {
        self.credential.as_deref()
    }

    /// Makes a token for `new.subject` as `by` may (core decides), records it (hashed) with an
    /// audit record naming its maker, and returns it; the secret cannot be shown again.
    pub async fn create_token(&self, by: &TokenAuthority, new: NewToken) -> Result<MadeToken, AppError> {
        let rules = self.rules();
        let directory = &rules.directory;
        if let TokenAuthority::Actor(actor) = by {
            self.check_tokens(actor, &new.subject, "make").await?;
        }
        let (person, agent) = match &new.subject {
            TokenSubject::Person(id) => {
                if directory.person(id).is_none() {
                    return Err(AppError::Invalid(format!("{id} is not a known person in Docket's directory")));
                }
                (id.clone(), None)
            }
            TokenSubject::Agent(id) => match directory.agent(id) {
                Some(agent) => (agent.owner.clone(), Some(agent.id.clone())),
                None => return Err(AppError::Invalid(format!("`{id}` is not an agent in Docket's configuration"))),
            },
        };
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(AppError::Invalid("a token's name must be 1 to 100 characters on one line".into()));
        }
        let now = self.now();
        let lifetime = match new.lifetime {
            TokenLifetime::Default => self.inner.settings.token_lifetime,
            TokenLifetime::Never => None,
            TokenLifetime::For(lifetime) => Some(lifetime),
        };
        let expires_at = match lifetime {
            None => None,
            Some(lifetime) => Some(
                jiff::SignedDuration::try_from(lifetime)
                    .ok()
                    .and_then(|d| now.checked_add(d).ok())
                    .ok_or_else(|| AppError::Invalid("the token's lifetime is too long".into()))?,
            ),
        };
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(random::<32>()?));
        let record = ApiToken {
            id: format!("tok_{}", hex::encode(random::<8>()?)),
            hash: hash_token(&secret),
            person,
            agent,
            name: name.to_owned(),
            created_by: by.name(),
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked: None,
        };
        let entry = self.token_entry(by, "token.created", &record, now);
        self.store().create_token(&record, vec![entry]).await?;
        Ok(MadeToken { secret, record })
    }

    /// The tokens `by` may see, newest first: an admin's or the operator's, everyone's (or
    /// `of`'s); anyone else's, their own and their agents'. Secrets are never stored, so never
    /// shown.
    pub async fn tokens(&self, by: &TokenAuthority, of: Option<&PersonId>) -> Result<Vec<ApiToken>, AppError> {
        if let (TokenAuthority::Actor(actor), Some(person)) = (by, of) {
            self.check_tokens(actor, &TokenSubject::Person(person.clone()), "list").await?;
        }
        let rules = self.rules();
        let directory = &rules.directory;
        let all = self.store().tokens().await?;
        Ok(all
            .into_iter()
            .filter(|t| {
                // A token's person: the person, or the agent's owner when it was made.
                let owner = &t.person;
                let visible = match by {
                    TokenAuthority::Operator(_) => true,
                    TokenAuthority::Actor(actor) => {
                        let me = actor.person_id();
                        let admin = matches!(actor, Actor::Person { .. })
                            && me.and_then(|id| directory.person(id)).is_some_and(|p| p.admin);
                        admin || (matches!(actor, Actor::Person { .. }) && me == Some(owner))
                    }
                };
                visible && of.is_none_or(|person| person == owner)
            })
            .collect())
    }

    /// Revokes token `id` as `by` may (core decides); at once, on every replica. Returns the
    /// token as it is now. Revoking a revoked token changes nothing and records nothing.
    pub async fn revoke_token(&self, by: &TokenAuthority, id: &str) -> Result<ApiToken, AppError> {
        let record = self.store().token_by_id(id).await?.ok_or_else(|| AppError::NotFound(format!("token {id}")))?;
        if let TokenAuthority::Actor(actor) = by {
            self.check_tokens(actor, &TokenSubject::Person(record.person.clone()), "revoke").await?;
        }
        if record.revoked.is_some() {
            return Ok(record);
        }
        let now = self.now();
        let revocation = Revocation { at: now, by: by.name() };
        let entry = self.token_entry(by, "token.revoked", &record, now);
        self.store().revoke_token(&record.id, &revocation, vec![entry]).await?;
        Ok(ApiToken { revoked: Some(revocation), ..record })
    }

    /// The person or agent a token acts as. Unknown tokens are [`AppError::Unauthenticated`];
    /// a known token that is expired, revoked or whose person or agent is gone is
    /// [`AppError::TokenRefused`] with the reason (the caller audits the failed use with it).
    pub async fn authenticate(&self, token: &str) -> Result<Credential, AppError> {
        let token = token.trim();
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Err(AppError::Unauthenticated);
        }
        let record = self.store().token(&hash_token(token)).await?.ok_or(AppError::Unauthenticated)?;
        let now = self.now();
        let id = record.id.clone();
        if let Some(revoked) = &record.revoked {
            return Err(AppError::TokenRefused(TokenRefusal::Revoked { id, at: revoked.at }));
        }
        if let Some(at) = record.expires_at.filter(|at| *at <= now) {
            return Err(AppError::TokenRefused(TokenRefusal::Expired { id, at }));
        }
        let rules = self.rules();
        let directory = &rules.directory;
        let actor = match &record.agent {
            None => directory.person(&record.person).map(|p| Actor::Person { id: p.id.clone() }),
            // An agent given to another owner since leaves its old tokens behind.
            Some(agent) => directory
                .agent(agent)
                .filter(|a| a.owner == record.person && directory.person(&a.owner).is_some())
                .map(|a| Actor::Agent { agent: a.id.clone(), on_behalf_of: a.owner.clone() }),
        };
        let Some(actor) = actor else {
            let whom = record.agent.as_ref().map_or_else(|| record.person.to_string(), |a| format!("agent {a}"));
            return Err(AppError::TokenRefused(TokenRefusal::Orphaned { id, whom }));
        };
        if record.last_used_at.is_none_or(|last| now.duration_since(last) >= LAST_USED_EVERY) {
            // Best effort, off the caller's path: a missed "last used" is not worth a refusal.
            let app = self.clone();
            tokio::spawn(async move {
                if let Err(error) = app.store().token_used(&record.id, now).await {
                    tracing::warn!(%error, token = %record.id, "could not record a token's last use");
                }
            });
        }
        Ok(Credential { actor, token: id })
    }

    /// [`App::authenticate`] for a token presented to `surface` (`api`, `mcp`) for `what`
    /// (`GET /api/v1/me`) from `source`; a failure is audited with its reason (an unknown
    /// token; an expired, revoked or orphaned one by id), repeats gathered per minute.
    pub async fn authenticate_presented(
        &self,
        token: &str,
        surface: &str,
        source: Option<IpAddr>,
        what: &str,
    ) -> Result<Credential, AppError> {
        let result = self.authenticate(token).await;
        match &result {
            Err(AppError::Unauthenticated) => {
                self.audit_rejected_credentials(surface, source, &format!("unknown API token on {what}")).await;
            }
            Err(AppError::TokenRefused(why)) => {
                self.audit_rejected_credentials(surface, source, &format!("{why}; used on {what}")).await;
            }
            _ => {}
        }
        result
    }

    /// Core's verdict on `actor` managing tokens of `subject`; a refusal is audited.
    async fn check_tokens(&self, actor: &Actor, subject: &TokenSubject, action: &'static str) -> Result<(), AppError> {
        if let Err(refusal) = may_manage_tokens(actor, subject, &self.rules().directory, action) {
            let entry = AuditEntry {
                at: self.now(),
                actor: actor.to_string(),
                action: "token.refused".to_owned(),
                ticket: None,
                details: self.with_credential(serde_json::json!({
                    "attempted": action,
                    "code": refusal.code(),
                    "reason": refusal.to_string(),
                })),
            };
            if let Err(error) = self.store().append_audit(vec![entry]).await {
                tracing::error!(%error, "could not record a refused token command in the audit log");
            }
            return Err(AppError::Refused(refusal));
        }
        Ok(())
    }

    fn token_entry(&self, by: &TokenAuthority, action: &str, token: &ApiToken, at: Timestamp) -> AuditEntry {
        let details = serde_json::json!({
            "id": token.id,
            "person": token.person,
            "agent": token.agent,
            "name": token.name,
            "expires_at": token.expires_at,
        });
        AuditEntry {
            at,
            actor: by.name(),
            action: action.to_owned(),
            ticket: None,
            details: self.with_credential(details),
        }
    }

    /// `details` with the token this app acts through (`"token": id`), if any.
    pub(crate) fn with_credential(&self, mut details: serde_json::Value) -> serde_json::Value {
        if let (Some(token), Some(map)) = (&self.credential, details.as_object_mut()) {
            map.insert("token".to_owned(), serde_json::Value::from(token.as_ref()));
        }
        details
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

fn random<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Invalid(format!("no randomness for a token: {e}")))?;
    Ok(bytes)
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
