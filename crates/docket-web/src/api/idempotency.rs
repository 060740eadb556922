//! `Idempotency-Key` on `POST /tickets`: a client that cannot tell whether its request arrived
//! (a timeout, a dropped connection) sends it again with the same key and gets the ticket the
//! first one opened, never a second ticket. The key is recorded per caller with the ticket it
//! opens (`App::request_keyed`: in the same transaction), so two copies at the same moment, on
//! one replica or two, open one ticket; the record (scope `api`) holds the ticket's id and a
//! fingerprint of the request, so the same key sent with another request is refused. A request
//! that opened nothing (refused, invalid) records nothing: sent again, it is decided again. A key is kept
//! for at least [`KEEP`] (longer than any client retries), then forgotten by a prune run with
//! the first keyed request after the server starts and every [`PRUNE_EVERY`] after it; sent
//! once forgotten, it is a new request.

use axum::http::{HeaderMap, StatusCode};
use docket_app::{Earlier, OnceKey, Pruned};
use docket_core::{RawParams, Ticket, WorkflowId};
use sha2::{Digest as _, Sha256};
use utoipa::IntoParams;

use super::error::ApiError;

/// The header.
pub(crate) const HEADER: &str = "idempotency-key";
/// The surface-state scope of what keys opened.
pub(crate) const SCOPE: &str = "api";
/// The longest key taken.
const MAX_LEN: usize = 255;
/// How long a key stands for the ticket it opened.
pub(crate) const KEEP: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
/// Keyed requests between prunes.
const PRUNE_EVERY: u64 = 1_000;

/// The keys recorded, counted to forget those older than [`KEEP`]: with the first after the
/// server starts and every [`PRUNE_EVERY`] after it, in the background.
static KEPT: Pruned = Pruned::new(SCOPE, KEEP, PRUNE_EVERY);

/// The `Idempotency-Key` header of `POST /tickets`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub(crate) struct IdempotencyKey {
    /// A key of the client's choosing (a UUID, say), 1–255 visible ASCII characters but `"`,
    /// quoted or not. The same key with the same request answers 200 with the ticket it opened, however
    /// often it is sent; with another request, 422 `idempotency_key_reused`; while its first
    /// request is still being handled, 409 `idempotency_key_in_use`. Keys are the caller's own.
    #[param(rename = "Idempotency-Key", required = false, pattern = "^(\"[!#-~]{1,255}\"|[!#-~]{1,255})$")]
    #[allow(dead_code, reason = "describes the header `Keyed::from_headers` reads")]
    idempotency_key: String,
}

/// A request sent with a key: where its record lives, and what the request was.
#[derive(Debug)]
pub(crate) struct Keyed {
    /// The surface-state key: the caller and their key.
    pub(crate) key: String,
    fingerprint: String,
}

impl Keyed {
    /// The key `headers` carry for a request by `caller` to open `workflow` with `params`;
    /// `None` without one, 400 `invalid_idempotency_key` for one that is not a key.
    pub(crate) fn from_headers(
        headers: &HeaderMap,
        caller: &str,
        workflow: &WorkflowId,
        params: &RawParams,
    ) -> Result<Option<Self>, ApiError> {
        let mut values = headers.get_all(HEADER).iter();
        let Some(value) = values.next() else { return Ok(None) };
        if values.next().is_some() {
            return Err(invalid("send one `Idempotency-Key`, not several"));
        }
        let text = value.to_str().map_err(|_| invalid("an `Idempotency-Key` is visible ASCII"))?;
        let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
        if text.is_empty() || text.len() > MAX_LEN || !text.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
            return Err(invalid("an `Idempotency-Key` is 1–255 visible ASCII characters but `\"`, quoted or not"));
        }
        let mut hash = Sha256::new();
        hash.update(workflow.as_str().as_bytes());
        hash.update([0]);
        hash.update(serde_json::to_vec(params).unwrap_or_default());
        let fingerprint = hex::encode(hash.finalize());
        Ok(Some(Self { key: format!("key:{caller}:{text}"), fingerprint }))
    }

    /// The request's key as the app records it: in [`KEPT`]'s scope, with the fingerprint.
    pub(crate) fn once(&self) -> OnceKey<'_> {
        OnceKey { kept: &KEPT, key: &self.key, note: &self.fingerprint }
    }

    /// The ticket an earlier request with this key opened; 422 when that request was another,
    /// 409 while it is still being opened (a copy at the same moment the store has not answered
    /// yet, or one whose record is there before its ticket: see `TicketStore::commit_once`).
    pub(crate) fn opened(&self, earlier: Earlier) -> Result<Ticket, ApiError> {
        self.same_request(earlier.note.as_deref())?;
        earlier.ticket.ok_or_else(in_use)
    }

    /// Whether the earlier request, whose record keeps `fingerprint`, was this one: 422 when it
    /// was another, 409 when its record cannot be read yet.
    fn same_request(&self, fingerprint: Option<&str>) -> Result<(), ApiError> {
        let Some(fingerprint) = fingerprint else { return Err(in_use()) };
        if fingerprint != self.fingerprint {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was sent before with another request; use a new key for a new request",
            ));
        }
        Ok(())
    }
}

fn in_use() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still being handled, or did not finish; see your tickets \
         (`docket mine`) before sending it with a new key",
    )
}

fn invalid(message: &str) -> ApiError {
    ApiError::bad_request("invalid_idempotency_key", message)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn keyed(value: &str) -> Result<Option<Keyed>, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_str(value).unwrap());
        Keyed::from_headers(&headers, "alice", &WorkflowId::new("deploy"), &RawParams::new())
    }

    #[test]
    fn a_key_is_visible_ascii_quoted_or_not() {
        assert_eq!(keyed("8e03978e-40d5").unwrap().unwrap().key, "key:alice:8e03978e-40d5");
        assert_eq!(keyed("\"8e03978e-40d5\"").unwrap().unwrap().key, "key:alice:8e03978e-40d5");
        for bad in ["", "\"\"", "has space", "a\"b", "\"open", &"x".repeat(256)] {
            assert!(keyed(bad).is_err(), "{bad:?}");
        }
        assert!(
            Keyed::from_headers(&HeaderMap::new(), "alice", &WorkflowId::new("deploy"), &RawParams::new())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_same_key_with_another_request_is_refused() {
        let first = keyed("k").unwrap().unwrap();
        assert!(first.same_request(Some(first.once().note)).is_ok());
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_static("k"));
        let params = RawParams::from([("env".to_owned(), serde_json::json!("prod"))]);
        let other = Keyed::from_headers(&headers, "alice", &WorkflowId::new("deploy"), &params).unwrap().unwrap();
        assert_eq!(other.same_request(Some(first.once().note)).unwrap_err().code(), "idempotency_key_reused");
        // Another request is refused even before the first one's ticket is stored.
        let stored_later = Earlier { note: Some(first.once().note.to_owned()), ticket: None };
        assert_eq!(other.opened(stored_later).unwrap_err().code(), "idempotency_key_reused");
        let stored_later = Earlier { note: Some(first.once().note.to_owned()), ticket: None };
        assert_eq!(first.opened(stored_later).unwrap_err().code(), "idempotency_key_in_use");
        assert_eq!(first.opened(Earlier::default()).unwrap_err().code(), "idempotency_key_in_use");
    }
}
