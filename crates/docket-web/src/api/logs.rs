//! `/tickets/{id}/logs`: a ticket's stored step output, a page at a time.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::extract::{Caller, QueryPairs, TicketPath};
use super::schema::{BadRequest, MAX_SEQ, NotFound, Unauthenticated, Unavailable};
use super::tickets::TicketIdParam;
use super::view::LogLineView;
use crate::Web;

/// Lines (or audit records) per page unless `limit` says otherwise.
const DEFAULT_PAGE: u64 = 1000;
/// The most lines (or audit records) one page may hold.
const MAX_PAGE: u64 = 10_000;

/// The query of a page of numbered entries: log lines, audit records.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SeqPage {
    /// Only entries with `seq` greater than this.
    #[param(required = false, minimum = 0, maximum = 9_223_372_036_854_775_807_i64, default = 0)]
    pub(crate) after: u64,
    /// At most this many entries.
    #[param(required = false, minimum = 1, maximum = 10000, default = 1000)]
    pub(crate) limit: u32,
}

impl SeqPage {
    /// Reads `after` and `limit`, refusing any other name and any value the document does not
    /// allow (an empty `after=` too).
    pub(crate) fn read(query: &QueryPairs) -> Result<Self, ApiError> {
        let query = query.only(&["after", "limit"])?;
        let after = query.number("after", 0, 0..=MAX_SEQ)?;
        let limit = query.number("limit", DEFAULT_PAGE, 1..=MAX_PAGE)?;
        // In 1..=10 000, as read.
        Ok(Self { after, limit: u32::try_from(limit).unwrap_or(u32::MAX) })
    }
}

/// A page of log lines.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogPage)]
pub(crate) struct LogPage {
    lines: Vec<LogLineView>,
    /// Pass as `after` to read on: the last line's `seq`, or `after` again when there was none.
    next_after: u64,
}

/// The ticket's stored step output, oldest first; pass `next_after` as `after` to read on.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/logs",
    tag = "tickets",
    operation_id = "ticket_logs",
    params(TicketIdParam, SeqPage),
    responses(
        (status = 200, description = "A page of log lines.", body = LogPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn list(
    State(web): State<Web>,
    _caller: Caller,
    TicketPath(id): TicketPath,
    query: QueryPairs,
) -> Result<Json<LogPage>, ApiError> {
    let SeqPage { after, limit } = SeqPage::read(&query)?;
    let lines = web.app.logs(&id, after, limit).await?;
    let next_after = lines.last().map_or(after, |line| line.seq);
    let lines: Vec<LogLineView> = lines.iter().map(LogLineView::from).collect();
    Ok(Json(LogPage { lines, next_after }))
}
