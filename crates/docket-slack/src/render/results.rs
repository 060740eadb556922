//! A step's result in the ticket's thread: how its work ended with the link it names (a
//! pipeline run's conclusion), a write's row count, or a report's first rows as an aligned
//! table in a code block, with the count and a note that the whole table follows as a CSV file.

use docket_app::{CHAT_ROWS, StoredResult};
use serde_json::Value;

use super::Message;
use super::blocks::{self, FALLBACK_TEXT, cut, escape};

/// The message for one step's result.
pub(crate) fn result_message(result: &StoredResult, name: &str) -> Message {
    let step = result.step + 1;
    let mut out: Vec<Value> = Vec::new();
    let mut text = format!("Result of step {step} ({name})");
    if let Some(line) = &result.result.line {
        let link = line.url.as_deref().map(|u| format!(" <{}|{}>", escape(u), escape(u))).unwrap_or_default();
        out.push(blocks::section(&format!(":white_check_mark: *{}*: {}{link}", escape(&text), escape(&line.text))));
        let plain = line.url.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
        text = format!("{text}: {}{plain}", line.text);
    }
    if let Some(n) = result.result.rows_changed {
        let changed = format!("changed {n} {}", if n == 1 { "row" } else { "rows" });
        out.push(blocks::section(&format!(":white_check_mark: *{}*: {changed}", escape(&text))));
        text = format!("{text}: {changed}");
    }
    if let Some(table) = &result.result.table {
        let count = table.count_text();
        out.push(blocks::section(&format!(":bar_chart: *{}*: {}", escape(&text), escape(&count))));
        out.push(blocks::section(&blocks::code(&table.text_lines(CHAT_ROWS), blocks::SECTION_TEXT)));
        let shown = table.rows.len().min(CHAT_ROWS);
        out.push(blocks::context(&format!("First {shown} rows shown; the whole kept table follows as a CSV file.")));
        text = format!("{text}: {count}");
    }
    Message::new(cut(&text, FALLBACK_TEXT), Value::Array(out))
}
