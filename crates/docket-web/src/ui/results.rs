//! Step results on the ticket page — a report's table (its first rows), the rows a write
//! changed —, the same part of the page alone (`GET /tickets/{id}/results`, which the page's
//! script puts in place when the event stream announces a result, so it appears without a
//! reload), and the download of a step's whole kept table as CSV.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use docket_app::StoredResult;
use docket_core::Ticket;
use docket_core::result::{Cell, Table};

use super::auth::Viewer;
use super::form::UiQuery;
use super::page::{UiError, render};
use super::ticket::parse_id;
use crate::Web;
use crate::api::results::{csv_response, table_csv};

/// Rows of a table the page shows; the CSV has them all.
pub(crate) const PAGE_ROWS: usize = 200;

/// One value as the page shows it.
#[derive(Debug)]
pub(crate) struct Value {
    pub(crate) text: String,
    pub(crate) null: bool,
    /// In a column of numbers (right-aligned).
    pub(crate) num: bool,
}

/// One step's result on the page.
#[derive(Debug)]
pub(crate) struct ResultPane {
    /// The step's number, from 1.
    pub(crate) step: usize,
    pub(crate) name: String,
    pub(crate) run: u32,
    /// "3 rows", "1,000 of 1,000,000 rows kept (cut at 1,000)"; empty for a write.
    pub(crate) count: String,
    /// "Showing the first 200; the CSV has all 1,000." when the page shows fewer than kept.
    pub(crate) shown: String,
    /// Column names, and whether each holds numbers (right-aligned).
    pub(crate) columns: Vec<(String, String, bool)>,
    pub(crate) rows: Vec<Vec<Value>>,
    /// "Changed 3 rows." for a write.
    pub(crate) changed: String,
    /// The CSV download, for a table.
    pub(crate) csv: String,
}

/// A ticket's results alone, as the page shows them.
#[derive(Template)]
#[template(path = "ticket_results.html")]
struct ResultsFragment {
    results: Vec<ResultPane>,
    results_shown: String,
}

/// `GET /tickets/{id}/results`: the results part of the ticket page as it is now.
pub(crate) async fn fragment(
    State(web): State<Web>,
    _viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let (ticket, results) = tokio::try_join!(web.app.ticket(&id), web.app.results(&id))?;
    render(
        &ResultsFragment { results_shown: shown_results(&results), results: panes(&ticket, &results) },
        StatusCode::OK,
    )
}

/// The results shown, as `run:step` pairs (step from 0, as the event stream numbers them),
/// separated by spaces.
pub(crate) fn shown_results(results: &[StoredResult]) -> String {
    results.iter().map(|r| format!("{}:{}", r.run, r.step)).collect::<Vec<_>>().join(" ")
}

/// The panes of `results`, in step order.
pub(crate) fn panes(ticket: &Ticket, results: &[StoredResult]) -> Vec<ResultPane> {
    results.iter().map(|r| pane(ticket, r)).collect()
}

fn pane(ticket: &Ticket, kept: &StoredResult) -> ResultPane {
    let step = kept.step + 1;
    let name = ticket.plan.as_ref().and_then(|p| p.steps.get(kept.step)).map(|s| s.name.clone());
    let changed = kept
        .result
        .rows_changed
        .map_or_else(String::new, |n| format!("Changed {n} {}.", if n == 1 { "row" } else { "rows" }));
    let changed = match &kept.result.line {
        Some(line) if changed.is_empty() => {
            line.url.as_deref().map_or_else(|| line.text.clone(), |u| format!("{}: {u}", line.text))
        }
        _ => changed,
    };
    let mut pane = ResultPane {
        step,
        name: name.unwrap_or_else(|| format!("step {step}")),
        run: kept.run,
        count: String::new(),
        shown: String::new(),
        columns: Vec::new(),
        rows: Vec::new(),
        changed,
        csv: String::new(),
    };
    if let Some(table) = &kept.result.table {
        fill(&mut pane, table);
        pane.csv = format!("/tickets/{}/results.csv?step={step}", ticket.id);
    }
    pane
}

fn fill(pane: &mut ResultPane, table: &Table) {
    pane.count = table.count_text();
    if table.rows.len() > PAGE_ROWS {
        pane.shown = format!("Showing the first {PAGE_ROWS}; the CSV has all {} kept.", table.rows.len());
    }
    pane.columns = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let numbers = table.rows.iter().filter_map(|r| r.get(i)).filter(|c| !matches!(c, Cell::Null));
            let mut numbers = numbers.peekable();
            let numeric = numbers.peek().is_some() && numbers.all(|c| matches!(c, Cell::Int(_) | Cell::Float(_)));
            (c.name.clone(), c.kind.clone(), numeric)
        })
        .collect();
    pane.rows = table
        .rows
        .iter()
        .take(PAGE_ROWS)
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, cell)| {
                    let num = pane.columns.get(i).is_some_and(|c| c.2);
                    match cell {
                        Cell::Null => Value { text: "NULL".to_owned(), null: true, num },
                        other => Value { text: other.exact().unwrap_or_default(), null: false, num },
                    }
                })
                .collect()
        })
        .collect();
}

/// `GET /tickets/{id}/results.csv?step=N`: a step's whole kept table as CSV.
pub(crate) async fn csv(
    State(web): State<Web>,
    _viewer: Viewer,
    Path(id): Path<String>,
    UiQuery(query): UiQuery<StepParam>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let results = web.app.results(&id).await?;
    let (name, csv) = table_csv(&results, &id, query.step.unwrap_or(0)).map_err(UiError::NotFound)?;
    Ok(csv_response(&name, csv))
}

/// The query of the CSV download.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct StepParam {
    /// The step's number, from 1.
    step: Option<u64>,
}
