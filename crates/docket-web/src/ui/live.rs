//! `GET /tickets/{id}/events` for the pages: the same stream as the API's
//! `/api/v1/tickets/{id}/events`, authenticated by the session cookie, since `EventSource`
//! cannot send a bearer token.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::Viewer;
use super::form::UiQuery;
use super::page::UiError;
use super::ticket::parse_id;
use crate::Web;

#[derive(Debug, Deserialize, Default)]
pub(crate) struct After {
    #[serde(default)]
    after: u64,
}

/// `GET /tickets/{id}/events?after=…` (or `Last-Event-ID` when the browser reconnects).
pub(crate) async fn stream(
    State(web): State<Web>,
    _viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    UiQuery(query): UiQuery<After>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let after = last.unwrap_or(query.after);
    match crate::api::events::open(&web, id, after).await {
        Ok(sse) => Ok(sse.into_response()),
        Err(error) => Ok(error.into_response()),
    }
}
