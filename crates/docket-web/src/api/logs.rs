//! `/tickets/{id}/logs`: a ticket's stored step output, a page at a time.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Caller, QueryPairs, TicketPath};
use super::view::LogLineView;
use crate::Web;

/// Lines per page unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 1000;
/// The most lines one page may hold.
const MAX_PAGE: u32 = 10_000;

/// `GET /tickets/{id}/logs?after=0&limit=1000` → `{"lines": [...], "next_after": n}`; pass
/// `next_after` as `after` to read on.
pub(crate) async fn list(
    State(web): State<Web>,
    _caller: Caller,
    TicketPath(id): TicketPath,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let query = query.only(&["after", "limit"])?;
    let after = query.number("after", 0u64)?;
    let limit = query.number("limit", DEFAULT_PAGE)?;
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", format!("`limit` must be 1 to {MAX_PAGE}"))
            .with_details(json!({ "param": "limit" })));
    }
    let lines = web.app.logs(&id, after, limit).await?;
    let next_after = lines.last().map_or(after, |line| line.seq);
    let lines: Vec<LogLineView> = lines.iter().map(LogLineView::from).collect();
    Ok(Json(json!({ "lines": lines, "next_after": next_after })))
}
