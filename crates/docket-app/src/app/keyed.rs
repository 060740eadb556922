//! Requests made once per key: a web or Teams request form's key, an API `Idempotency-Key`.
//! The one rule every surface follows: a key sent before leads to the ticket it opened (or to
//! "still being opened"), never to a second ticket, and is not decided again; the key is
//! recorded with the ticket it opens (in the same commit on SQLite and PostgreSQL; just before
//! it on a store that keeps `TicketStore::commit_once`'s default), so two copies at the same
//! moment, on one replica or two, open one ticket; a request that opened nothing (refused,
//! invalid) records nothing, so once fixed it can be sent again with the same key.

use docket_core::ticket::Origin;
use docket_core::{Actor, RawParams, Ticket, WorkflowId};

use super::App;
use super::state::Pruned;
use crate::error::AppError;
use crate::ports::store::{Delivery, StoreError};

/// How a request made once for a key went.
#[derive(Debug)]
pub enum Requested {
    /// This request opened the ticket.
    Opened(Ticket),
    /// A request with the same key came first.
    Before(Earlier),
}

/// A request's key: where it is recorded (`kept`'s scope, pruned by age), under `key`, with
/// `note` (a fingerprint of the request, say, or nothing).
#[derive(Clone, Copy, Debug)]
pub struct OnceKey<'a> {
    /// The scope the key is recorded in, and how long it is kept.
    pub kept: &'a Pruned,
    /// The key, as recorded.
    pub key: &'a str,
    /// What the record keeps beside the ticket's id.
    pub note: &'a str,
}

/// What an earlier request with the same key left.
#[derive(Debug, Default)]
pub struct Earlier {
    /// What its record keeps beside the ticket's id (a fingerprint of the request, say);
    /// `None` when its record cannot be read yet, or cannot be read at all.
    pub note: Option<String>,
    /// The ticket it opened; `None` while it is still being opened (a store that writes the
    /// record just before the ticket, see
    /// [`TicketStore::commit_once`](crate::TicketStore::commit_once)) or when its record
    /// cannot be read.
    pub ticket: Option<Ticket>,
}

impl App {
    /// Opens a ticket for `workflow` with `params`, once for `key` if the request has one (see
    /// the module's rule); without one, as [`App::request`] does. Errors are the store's,
    /// reading the key's record, and [`App::request_once`]'s, but for a key recorded before,
    /// which is [`Requested::Before`].
    pub async fn request_keyed(
        &self,
        actor: &Actor,
        workflow: &WorkflowId,
        params: RawParams,
        origin: Origin,
        key: Option<OnceKey<'_>>,
    ) -> Result<Requested, AppError> {
        let Some(OnceKey { kept, key, note }) = key else {
            return self.request(actor, workflow, params, origin).await.map(Requested::Opened);
        };
        // Sent before: to what it opened, without deciding anything again.
        if let Some(earlier) = self.earlier(kept.scope(), key).await? {
            return Ok(Requested::Before(earlier));
        }
        match self.request_once(actor, workflow, params, origin, kept.delivery(self, key, note)).await {
            Ok(ticket) => Ok(Requested::Opened(ticket)),
            // A copy sent at the same moment came first: it opened the ticket, or is opening it.
            Err(AppError::Store(StoreError::Delivered(_))) => {
                Ok(Requested::Before(self.earlier(kept.scope(), key).await?.unwrap_or_default()))
            }
            Err(error) => Err(error),
        }
    }

    /// What the request recorded under (`scope`, `key`) left, if one is recorded.
    async fn earlier(&self, scope: &str, key: &str) -> Result<Option<Earlier>, AppError> {
        let Some(kept) = self.recall(scope, key).await? else { return Ok(None) };
        let Some((id, note)) = Delivery::read(&kept) else { return Ok(Some(Earlier::default())) };
        let ticket = match self.ticket(&id).await {
            Ok(ticket) => Some(ticket),
            Err(AppError::NotFound(_)) => None,
            Err(error) => return Err(error),
        };
        Ok(Some(Earlier { note: Some(note.to_owned()), ticket }))
    }
}
