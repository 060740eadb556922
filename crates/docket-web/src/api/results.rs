//! `/tickets/{id}/results`: what a ticket's steps left besides their log — a report's table,
//! the rows a write changed — as JSON, and one step's table as CSV (the whole kept result).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use docket_app::StoredResult;
use docket_core::{Ticket, TicketId};
use serde::Serialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::extract::{Caller, QueryPairs, TicketPath};
use super::schema::{BadRequest, NotFound, Unauthenticated, Unavailable};
use super::tickets::TicketIdParam;
use crate::Web;

/// Steps a workflow may have, as far as a `step` query goes.
const MAX_STEP: u64 = 10_000;

/// A ticket's step results.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StepResults)]
pub(crate) struct ResultsView {
    /// One entry per step that left a result, in step order: the latest run's.
    results: Vec<StepResultView>,
}

/// One step's result.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StepResult)]
pub(crate) struct StepResultView {
    /// The step's number in the workflow, from 1.
    step: u64,
    /// The step's name.
    name: String,
    /// The run that left it, from 1.
    run: u32,
    /// A report's columns, in order; null for a result without a table.
    columns: Option<Vec<ColumnView>>,
    /// The rows kept (at most the database's `max_rows`), each a list of values in column
    /// order: null for SQL NULL, a boolean, a whole number, a finite number, or text (exact
    /// numerics, dates and times in ISO 8601, binary as `\x` + hex, JSON as its text, `NaN`).
    #[schema(schema_with = rows_schema)]
    rows: Option<Vec<Vec<docket_core::result::Cell>>>,
    /// How many rows the statement returned in all.
    row_count: Option<u64>,
    /// Whether rows were left out (more than `max_rows`).
    truncated: Option<bool>,
    /// Rows a write changed; null for a report.
    rows_changed: Option<u64>,
    /// When it was kept.
    #[schema(format = DateTime)]
    at: String,
    /// The whole kept table as CSV; null for a result without a table.
    csv: Option<String>,
}

/// A result table's column.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ResultColumn)]
pub(crate) struct ColumnView {
    /// The column's name.
    name: String,
    /// The database's type name, lower-case (`int4`, `numeric`, `text`).
    #[serde(rename = "type")]
    kind: String,
}

fn rows_schema() -> Schema {
    let value = ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Null, Type::Boolean, Type::Number, Type::String]))
        .description(Some("null (SQL NULL), a boolean, a number (whole or finite), or text"));
    let row = ArrayBuilder::new().items(value);
    Schema::Array(
        ArrayBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
            .items(row)
            .description(Some("The rows kept, or null for a result without a table."))
            .build(),
    )
}

impl StepResultView {
    fn new(ticket: &Ticket, kept: &StoredResult) -> Self {
        let step = kept.step as u64 + 1;
        let name = ticket.plan.as_ref().and_then(|p| p.steps.get(kept.step)).map(|s| s.name.clone());
        let table = kept.result.table.as_ref();
        Self {
            step,
            name: name.unwrap_or_else(|| format!("step {step}")),
            run: kept.run,
            columns: table
                .map(|t| t.columns.iter().map(|c| ColumnView { name: c.name.clone(), kind: c.kind.clone() }).collect()),
            rows: table.map(|t| t.rows.clone()),
            row_count: table.map(|t| t.row_count),
            truncated: table.map(|t| t.truncated),
            rows_changed: kept.result.rows_changed,
            at: kept.at.to_string(),
            csv: table.map(|_| format!("/api/v1/tickets/{}/results.csv?step={step}", ticket.id)),
        }
    }
}

/// The query of the CSV download.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StepQuery {
    /// The step's number (from 1); by default the first step that left a table.
    #[param(required = false, minimum = 1, maximum = 10000)]
    pub(crate) step: u64,
}

impl StepQuery {
    /// Reads `step` (0 when absent), refusing any other name and any value out of range.
    fn read(query: &QueryPairs) -> Result<Self, ApiError> {
        Ok(Self { step: query.only(&["step"])?.number("step", 0, 1..=MAX_STEP)? })
    }
}

/// The results the ticket's steps left: a report's table (columns, rows, row count, whether it
/// was cut), the rows a write changed.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/results",
    tag = "tickets",
    operation_id = "ticket_results",
    params(TicketIdParam),
    responses(
        (status = 200, description = "Each step's result.", body = ResultsView),
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
) -> Result<Json<ResultsView>, ApiError> {
    query.only(&[])?;
    let ticket = web.app.ticket(&id).await?;
    let results = web.app.results(&id).await?;
    Ok(Json(ResultsView { results: results.iter().map(|r| StepResultView::new(&ticket, r)).collect() }))
}

/// One step's whole kept table as CSV (RFC 4180, a header line): an empty field is NULL, `""`
/// is empty text, every other value its exact text.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/results.csv",
    tag = "tickets",
    operation_id = "ticket_result_csv",
    params(TicketIdParam, StepQuery),
    responses(
        (status = 200, description = "The table as CSV.", body = String, content_type = "text/csv; charset=utf-8"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn csv(
    State(web): State<Web>,
    _caller: Caller,
    TicketPath(id): TicketPath,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let StepQuery { step } = StepQuery::read(&query)?;
    let results = web.app.results(&id).await?;
    let (name, csv) = table_csv(&results, &id, step).map_err(ApiError::not_found)?;
    Ok(csv_response(&name, csv))
}

/// The CSV of step `step`'s table among `results` (0: the first step with one) and a file name
/// for it, or what is missing.
pub(crate) fn table_csv(results: &[StoredResult], id: &TicketId, step: u64) -> Result<(String, String), String> {
    let found = results.iter().filter(|r| r.result.table.is_some()).find(|r| step == 0 || r.step as u64 + 1 == step);
    let Some((number, table)) = found.and_then(|r| r.result.table.as_ref().map(|t| (r.step + 1, t))) else {
        let which = if step == 0 { "No step".to_owned() } else { format!("Step {step}") };
        return Err(format!("{which} of {id} left a result table."));
    };
    Ok((format!("{id}-step{number}.csv"), table.csv()))
}

/// `csv` as a download named `name`.
pub(crate) fn csv_response(name: &str, csv: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        csv,
    )
        .into_response()
}
