//! Step results in the terminal: `docket show` ends with each report's first rows as an
//! aligned table, and `docket result ID [--step N] [--csv]` prints one step's whole kept table,
//! aligned or as CSV (exactly the server's, for a file or a spreadsheet).

use std::io::Write;

use anyhow::bail;
use docket_core::result::Table;
use serde::Deserialize;

use super::Outcome;
use super::http::Api;
use super::style::Ui;
use crate::cli::ResultArgs;

/// Rows of each table `docket show` prints.
const SHOW_ROWS: usize = 20;

/// `GET /tickets/{id}/results`.
#[derive(Debug, Deserialize)]
pub(crate) struct Results {
    pub(crate) results: Vec<StepResult>,
}

/// One step's result as the API gives it; the table's fields read as core's table.
#[derive(Debug, Deserialize)]
pub(crate) struct StepResult {
    pub(crate) step: u64,
    pub(crate) name: String,
    pub(crate) run: u32,
    #[serde(default)]
    columns: Option<Vec<docket_core::result::Column>>,
    #[serde(default)]
    rows: Option<Vec<Vec<docket_core::result::Cell>>>,
    #[serde(default)]
    row_count: Option<u64>,
    #[serde(default)]
    truncated: Option<bool>,
    #[serde(default)]
    pub(crate) rows_changed: Option<u64>,
}

impl StepResult {
    /// The table, when the step left one.
    pub(crate) fn table(&self) -> Option<Table> {
        Some(Table {
            columns: self.columns.clone()?,
            rows: self.rows.clone()?,
            row_count: self.row_count.unwrap_or_default(),
            truncated: self.truncated.unwrap_or_default(),
        })
    }
}

/// Writes each result after a ticket: a heading, the count, the first `SHOW_ROWS` rows.
pub(crate) fn write_results(out: &mut dyn Write, ui: &Ui, id: &str, results: &Results) -> std::io::Result<()> {
    for result in &results.results {
        writeln!(out)?;
        writeln!(
            out,
            "{} {}. {} {}",
            ui.bold("Result"),
            result.step,
            result.name,
            ui.dim(&format!("(run {})", result.run))
        )?;
        if let Some(n) = result.rows_changed {
            writeln!(out, "  changed {n} {}", if n == 1 { "row" } else { "rows" })?;
        }
        if let Some(table) = result.table() {
            for line in table.text_lines(SHOW_ROWS) {
                writeln!(out, "  {line}")?;
            }
            let mut count = table.count_text();
            if table.rows.len() > SHOW_ROWS {
                count.push_str(&format!("; the first {SHOW_ROWS} are shown"));
            }
            writeln!(out, "  {}", ui.dim(&format!("{count} — all of it: docket result {id} --step {}", result.step)))?;
        }
    }
    Ok(())
}

/// `docket result ID [--step N] [--csv]`
pub(crate) async fn result(api: &Api, args: &ResultArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    if args.csv {
        let csv = api.result_csv(&args.ticket, args.step).await?;
        out.write_all(csv.as_bytes())?;
        return Ok(Outcome::Success);
    }
    let results = api.results(&args.ticket).await?;
    let found = results.results.iter().filter(|r| r.table().is_some() || args.step.is_some());
    let Some(result) = found.into_iter().find(|r| args.step.is_none_or(|s| s == r.step)) else {
        match args.step {
            Some(step) => bail!("step {step} of {} left no result", args.ticket),
            None => bail!("no step of {} left a result table", args.ticket),
        }
    };
    match result.table() {
        Some(table) => {
            for line in table.text_lines(table.rows.len()) {
                writeln!(out, "{line}")?;
            }
            writeln!(out, "{}", ui.dim(&table.count_text()))?;
        }
        None => {
            let n = result.rows_changed.unwrap_or_default();
            writeln!(out, "changed {n} {}", if n == 1 { "row" } else { "rows" })?;
        }
    }
    Ok(Outcome::Success)
}
