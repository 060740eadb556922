//! The reply to a change that ends a run, when its steps left results: the key events, then
//! each result — how its work ended with the link it names, a write's row count, or a report's first rows as an Adaptive Card `Table`
//! (header row, numbers right-aligned) — and a button to the ticket's page, where the whole
//! table and its CSV are.

use docket_app::{CHAT_ROWS, StoredResult};
use docket_core::result::{Cell, Table};
use serde_json::{Value, json};

use super::{MAX_VALUE_CHARS, card, escape_markdown, open_url, subtle, text};

/// Columns a card's table shows; the page has them all.
const MAX_COLUMNS: usize = 8;

/// The reply card: `said` (the key events in words), then each result, then the page's link.
pub fn results_card(said: &str, results: &[(String, &StoredResult)], url: Option<&str>) -> Value {
    let mut body = vec![text(said)];
    for (name, result) in results {
        let step = result.step + 1;
        let name = escape_markdown(name);
        if let Some(line) = &result.result.line {
            let link = line.url.as_deref().map(|u| format!(" [{}]({u})", escape_markdown(u))).unwrap_or_default();
            body.push(text(&format!("**Result of step {step} ({name})**: {}{link}", escape_markdown(&line.text))));
        }
        if let Some(n) = result.result.rows_changed {
            body.push(text(&format!("**Result of step {step} ({name})**: changed {n} {}", rows(n))));
        }
        if let Some(table) = &result.result.table {
            body.push(text(&format!("**Result of step {step} ({name})**: {}", table.count_text())));
            body.push(table_element(table));
            let shown = table.rows.len().min(CHAT_ROWS);
            let columns = if table.columns.len() > MAX_COLUMNS {
                format!(" and {MAX_COLUMNS} of {} columns", table.columns.len())
            } else {
                String::new()
            };
            body.push(subtle(&format!(
                "First {shown} rows{columns} shown; the ticket's page has the whole table as CSV."
            )));
        }
    }
    let actions = url.map(|u| vec![open_url("Open the ticket", u)]).unwrap_or_default();
    card(body, actions)
}

/// A report's first rows as a `Table` with a header row.
fn table_element(table: &Table) -> Value {
    let columns = table.columns.len().min(MAX_COLUMNS);
    let numeric: Vec<bool> = (0..columns)
        .map(|i| {
            let mut values = table.rows.iter().filter_map(|r| r.get(i)).filter(|c| !matches!(c, Cell::Null)).peekable();
            values.peek().is_some() && values.all(|c| matches!(c, Cell::Int(_) | Cell::Float(_)))
        })
        .collect();
    let cell = |content: String, bold: bool, right: bool| {
        let mut block = json!({ "type": "TextBlock", "text": content, "wrap": true });
        if bold {
            block["weight"] = json!("Bolder");
        }
        if right {
            block["horizontalAlignment"] = json!("Right");
        }
        json!({ "type": "TableCell", "items": [block] })
    };
    let header: Vec<Value> =
        table.columns.iter().take(columns).zip(&numeric).map(|(c, right)| cell(cut(&c.name), true, *right)).collect();
    let mut rows = vec![json!({ "type": "TableRow", "cells": header })];
    for row in table.rows.iter().take(CHAT_ROWS) {
        let cells: Vec<Value> =
            row.iter().take(columns).zip(&numeric).map(|(c, right)| cell(cut(&c.shown()), false, *right)).collect();
        rows.push(json!({ "type": "TableRow", "cells": cells }));
    }
    json!({
        "type": "Table",
        "columns": (0..columns).map(|_| json!({ "width": 1 })).collect::<Vec<_>>(),
        "rows": rows,
        "firstRowAsHeader": true,
        "showGridLines": true,
    })
}

/// A value cut to a card's limit and shown as written, not as markdown.
fn cut(value: &str) -> String {
    escape_markdown(&docket_core::result::cut(value, MAX_VALUE_CHARS))
}

fn rows(n: u64) -> &'static str {
    if n == 1 { "row" } else { "rows" }
}
