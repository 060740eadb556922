//! A report's result: columns, the rows kept (at most the database's `max_rows`), how many
//! rows there were in all, and whether the rest was cut. Each value is a [`Cell`] that reads the
//! same in every surface and round-trips exactly as text (exact numerics such as `numeric` and
//! `decimal` are kept as their text, every digit; binary is hex; NULL is told apart from empty
//! text).

use serde::{Deserialize, Serialize};

/// One column: its name and its database type's name (`int4`, `numeric`, `text`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The column's name as the statement gave it.
    pub name: String,
    /// The engine's type name, lower-case.
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
    /// A floating-point number (shown with the fewest digits that read back the same).
    Float(f64),
    /// Anything else as text: strings, exact numerics (`1234.50`), dates and times (ISO 8601),
    /// UUIDs, binary as `\x` + hex, JSON documents as their text.
    Text(String),
}

impl Cell {
    /// Binary data as `\x` followed by lower-case hex (PostgreSQL's own text form).
    pub fn bytes(bytes: &[u8]) -> Self {
        Cell::Text(format!("\\x{}", hex::encode(bytes)))
    }

    /// The value as one line of text for a table; NULL reads `NULL`.
    pub fn shown(&self) -> String {
        match self {
            Cell::Null => "NULL".to_owned(),
            Cell::Bool(b) => b.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Text(t) => t.replace(['\n', '\r', '\t'], " "),
        }
    }
}

/// A report's result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows kept, in order.
    pub rows: Vec<Vec<Cell>>,
    /// How many rows the statement returned in all.
    pub row_count: u64,
    /// Whether rows were left out (more than `max_rows`).
    pub truncated: bool,
}

/// Longest a value is shown in a text table before it is cut.
const CELL_WIDTH: usize = 60;

impl Table {
    /// The first `rows` rows as an aligned text table, a line each, with a header and a rule.
    pub fn text_lines(&self, rows: usize) -> Vec<String> {
        let shown: Vec<Vec<String>> =
            self.rows.iter().take(rows).map(|row| row.iter().map(|c| cut(&c.shown())).collect()).collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.name.chars().count()).collect();
        for row in &shown {
            for (i, value) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(value.chars().count());
                }
            }
        }
        let line = |values: Vec<&str>| -> String {
            values
                .iter()
                .zip(&widths)
                .map(|(v, w)| format!("{v:<w$}", w = *w))
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

    /// "3 rows", "1 row", "1,000 of 1,000,000 rows (cut at 1,000)".
    pub fn count_text(&self) -> String {
        let noun = if self.row_count == 1 { "row" } else { "rows" };
        if self.truncated {
            format!("{} of {} {noun} kept (cut at {})", self.rows.len(), self.row_count, self.rows.len())
        } else {
            format!("{} {noun}", self.row_count)
        }
    }
}

fn cut(text: &str) -> String {
    if text.chars().count() <= CELL_WIDTH {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(CELL_WIDTH - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_reads_aligned_with_nulls_told_apart() {
        let table = Table {
            columns: vec![
                Column { name: "region".into(), kind: "text".into() },
                Column { name: "total".into(), kind: "numeric".into() },
            ],
            rows: vec![vec![Cell::Text("emea".into()), Cell::Text("1234.50".into())], vec![Cell::Null, Cell::Int(7)]],
            row_count: 2,
            truncated: false,
        };
        assert_eq!(table.text_lines(10), ["region  total", "------  -------", "emea    1234.50", "NULL    7"]);
        assert_eq!(table.count_text(), "2 rows");
        assert_eq!(serde_json::to_string(&table.rows[1]).unwrap(), r#"[null,7]"#);
    }
}
