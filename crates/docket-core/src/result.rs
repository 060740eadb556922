//! What a step leaves behind besides its log: a result [`Table`] (a report's columns and rows),
//! for a write the rows it changed, and a [`ResultLine`] (how its work ended, and where to see
//! it). Every surface shows a result through these values, so a table reads the same in the
//! web, the API, the CLI and the chats without any of them knowing the step kind that made it.
//!
//! Each value is a [`Cell`] that reads the same everywhere and round-trips exactly as text:
//! exact numerics are kept as their text (every digit), binary as `\x` + hex, dates and times as
//! ISO 8601, JSON documents as their text, and NULL is told apart from empty text — in CSV an
//! unquoted empty field is NULL and `""` is empty text, as PostgreSQL's `COPY … CSV` reads them.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// One column: its name and its database type's name (`int4`, `numeric`, `text`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The column's name as the statement gave it.
    pub name: String,
    /// The engine's type name, lower-case.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A finite floating-point number (shown with the fewest digits that read back the same).
    Float(f64),
    /// Anything else as text: strings, exact numerics (`1234.50`), dates and times (ISO 8601),
    /// UUIDs, binary as `\x` + hex, JSON documents as their text, `NaN` and `Infinity`.
    Text(String),
}

impl Cell {
    /// Binary data as `\x` followed by lower-case hex (PostgreSQL's own text form).
    pub fn bytes(bytes: &[u8]) -> Self {
        Cell::Text(format!("\\x{}", hex::encode(bytes)))
    }

    /// A floating-point number; one that is not finite is kept as text (`NaN`, `Infinity`,
    /// `-Infinity`), which JSON can carry and databases read back.
    pub fn float(value: f64) -> Self {
        if value.is_finite() {
            Cell::Float(value)
        } else if value.is_nan() {
            Cell::Text("NaN".to_owned())
        } else if value > 0.0 {
            Cell::Text("Infinity".to_owned())
        } else {
            Cell::Text("-Infinity".to_owned())
        }
    }

    /// The value as one line of text for a table; NULL reads `NULL`, line breaks and tabs read
    /// as spaces.
    pub fn shown(&self) -> String {
        match self {
            Cell::Null => "NULL".to_owned(),
            Cell::Text(t) => t.replace(['\n', '\r', '\t'], " "),
            other => other.exact().unwrap_or_default(),
        }
    }

    /// The value's exact text (`None` for NULL).
    pub fn exact(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Bool(b) => Some(b.to_string()),
            Cell::Int(i) => Some(i.to_string()),
            Cell::Float(f) => Some(f.to_string()),
            Cell::Text(t) => Some(t.clone()),
        }
    }
}

/// A result table: columns, the rows kept, how many rows there were in all, and whether the
/// rest was cut.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows kept, in order.
    pub rows: Vec<Vec<Cell>>,
    /// How many rows the statement returned in all.
    pub row_count: u64,
    /// Whether rows were left out (more than the database's `max_rows`).
    pub truncated: bool,
}

/// Longest a value is shown in a text table before it is cut.
const CELL_WIDTH: usize = 60;

impl Table {
    /// The first `rows` rows as an aligned text table, a line each, with a header and a rule.
    pub fn text_lines(&self, rows: usize) -> Vec<String> {
        let shown: Vec<Vec<String>> =
            self.rows.iter().take(rows).map(|row| row.iter().map(|c| cut(&c.shown(), CELL_WIDTH)).collect()).collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.name.chars().count()).collect();
        for row in &shown {
            for (i, value) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(value.chars().count());
                }
            }
        }
        let numeric: Vec<bool> = (0..widths.len()).map(|i| self.numeric(i)).collect();
        let line = |values: Vec<&str>| -> String {
            values
                .iter()
                .zip(&widths)
                .zip(&numeric)
                .map(|((v, w), right)| if *right { format!("{v:>w$}", w = *w) } else { format!("{v:<w$}", w = *w) })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        };
        let mut out = vec![line(self.columns.iter().map(|c| c.name.as_str()).collect())];
        out.push(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        out.extend(shown.iter().map(|row| line(row.iter().map(String::as_str).collect())));
        out
    }

    /// Whether column `i` holds only numbers (and NULLs), so it reads right-aligned.
    fn numeric(&self, i: usize) -> bool {
        let mut any = false;
        for cell in self.rows.iter().filter_map(|r| r.get(i)) {
            match cell {
                Cell::Int(_) | Cell::Float(_) => any = true,
                Cell::Null => {}
                _ => return false,
            }
        }
        any
    }

    /// "3 rows", "1 row", "1,000 of 1,000,000 rows kept (cut at 1,000)".
    pub fn count_text(&self) -> String {
        let noun = if self.row_count == 1 { "row" } else { "rows" };
        if self.truncated {
            let kept = grouped(self.rows.len() as u64);
            format!("{kept} of {} {noun} kept (cut at {kept})", grouped(self.row_count))
        } else {
            format!("{} {noun}", grouped(self.row_count))
        }
    }

    /// The whole table as CSV (RFC 4180, CRLF line ends, a header line): a NULL is an empty
    /// field, empty text is `""`, and every other value its exact text, quoted when it holds a
    /// comma, a quote, a line break or blanks at either end.
    pub fn csv(&self) -> String {
        let mut out = String::with_capacity(64 + self.rows.len() * self.columns.len() * 12);
        let header: Vec<Cell> = self.columns.iter().map(|c| Cell::Text(c.name.clone())).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                csv_field(&mut out, cell);
            }
            out.push_str("\r\n");
        }
        out
    }
}

fn csv_field(out: &mut String, cell: &Cell) {
    match cell {
        Cell::Null => {}
        Cell::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Cell::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Cell::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Cell::Text(t) => {
            let quote = t.is_empty()
                || t.contains([',', '"', '\n', '\r'])
                || t.starts_with(char::is_whitespace)
                || t.ends_with(char::is_whitespace);
            if quote {
                out.push('"');
                out.push_str(&t.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(t);
            }
        }
    }
}

/// What a step left behind for people to read, kept with the step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// A report's table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
    /// Rows a write changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_changed: Option<u64>,
    /// How the step's work ended, in one line, and where to see it (a pipeline run's
    /// conclusion and address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<ResultLine>,
}

/// One line a step ends with, and the address it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultLine {
    /// What happened: `run 9 attempt 2 completed: success`.
    pub text: String,
    /// Where to see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl StepResult {
    /// A report's result.
    pub fn table(table: Table) -> Self {
        Self { table: Some(table), ..Self::default() }
    }

    /// A write's result.
    pub fn rows_changed(rows: u64) -> Self {
        Self { rows_changed: Some(rows), ..Self::default() }
    }

    /// A line and the address it names.
    pub fn line(text: impl Into<String>, url: Option<String>) -> Self {
        Self { line: Some(ResultLine { text: text.into(), url }), ..Self::default() }
    }

    /// The same with every text masked by `mask` (column names and text values).
    pub fn masked(mut self, mask: impl Fn(&str) -> String) -> Self {
        if let Some(line) = &mut self.line {
            line.text = mask(&line.text);
            line.url = line.url.as_deref().map(&mask);
        }
        if let Some(table) = &mut self.table {
            for column in &mut table.columns {
                column.name = mask(&column.name);
            }
            for cell in table.rows.iter_mut().flatten() {
                if let Cell::Text(text) = cell {
                    *text = mask(text);
                }
            }
        }
        self
    }
}

/// `text` cut to `width` characters, the last one `…` when cut.
pub fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        Table {
            columns: vec![
                Column { name: "region".into(), kind: "text".into() },
                Column { name: "total".into(), kind: "numeric".into() },
                Column { name: "n".into(), kind: "int8".into() },
            ],
            rows: vec![
                vec![Cell::Text("emea".into()), Cell::Text("1234.50".into()), Cell::Int(12)],
                vec![Cell::Null, Cell::Text(String::new()), Cell::Int(7)],
                vec![Cell::Text("a,\"b\"\nc".into()), Cell::Text(" x".into()), Cell::Null],
            ],
            row_count: 3,
            truncated: false,
        }
    }

    #[test]
    fn a_table_reads_aligned_with_nulls_told_apart_and_numbers_right() {
        assert_eq!(
            sample().text_lines(2),
            ["region  total     n", "------  -------  --", "emea    1234.50  12", "NULL              7"]
        );
        assert_eq!(sample().count_text(), "3 rows");
        let cut = Table { rows: vec![], row_count: 1_000_000, truncated: true, ..sample() };
        assert_eq!(cut.count_text(), "0 of 1,000,000 rows kept (cut at 0)");
    }

    #[test]
    fn csv_tells_null_from_empty_and_quotes_what_needs_it() {
        assert_eq!(sample().csv(), "region,total,n\r\nemea,1234.50,12\r\n,\"\",7\r\n\"a,\"\"b\"\"\nc\",\" x\",\r\n");
    }

    #[test]
    fn results_keep_their_types_through_json() {
        let result = StepResult::table(sample());
        let json = serde_json::to_string(&result).unwrap();
        assert!(json.contains(r#""columns":[{"name":"region","type":"text"}"#), "{json}");
        assert_eq!(serde_json::from_str::<StepResult>(&json).unwrap(), result);
        assert_eq!(Cell::float(f64::NAN), Cell::Text("NaN".into()));
        assert_eq!(Cell::float(f64::NEG_INFINITY), Cell::Text("-Infinity".into()));
        assert_eq!(serde_json::from_str::<Cell>("2.0").unwrap(), Cell::Float(2.0));
    }
}
