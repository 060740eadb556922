//! A write's plan shows a sample of the rows it changes, before → after: for an `UPDATE` or
//! `DELETE` of one table (`shape`), inside the plan's transaction that is rolled back anyway,
//! the first [`SAMPLE_ROWS`] rows its `WHERE` matches are read by their primary key before the
//! statement runs, and the same keys again after it (a key no longer found: deleted). The
//! sample is display only: it never changes the planned row count, and the run holds to that
//! count, not to the sample (`render` writes it as lines of the dry run's output).

mod render;
mod shape;

use docket_core::result::Cell;

pub(crate) use render::lines;
pub(crate) use shape::{Shape, Verb, shape};

use crate::action::Arg;
use crate::runner::SqlError;
use crate::statement::renumbered;

/// Rows a sample shows at most.
pub(crate) const SAMPLE_ROWS: usize = 20;

/// A query of the sample's own, with `$n` placeholders from `$1` and one argument each.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Query {
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
}

/// A column of a table's primary key (or SQLite's `rowid`): its name as people read it, and
/// how a query names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) sql: String,
}

/// Rows of the sample read from the table (before the statement, or again by key after it):
/// each row's key values, then all its columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Rows {
    /// The table's columns (without the key columns selected in front).
    pub(crate) columns: Vec<String>,
    /// (key values, every column's value), in key order.
    pub(crate) rows: Vec<(Vec<Cell>, Vec<Cell>)>,
}

impl Rows {
    /// Splits rows read as `keys…, table.*` into key values and the table's columns.
    pub(crate) fn split(keys: usize, columns: Vec<String>, rows: Vec<Vec<Cell>>) -> Self {
        let columns = columns.into_iter().skip(keys).collect();
        let rows = rows
            .into_iter()
            .map(|mut row| {
                let rest = row.split_off(keys.min(row.len()));
                (row, rest)
            })
            .collect();
        Self { columns, rows }
    }
}

/// One sampled row: its key, its values before, and after (`None`: not found by its key any
/// more).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sampled {
    pub(crate) key: Vec<Cell>,
    pub(crate) before: Vec<Cell>,
    pub(crate) after: Option<Vec<Cell>>,
}

/// What the plan shows: the sample, or why there is none.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Sample {
    /// The rows before and after.
    Rows {
        /// What the statement does to rows.
        verb: Verb,
        /// The key's column names.
        keys: Vec<String>,
        /// The table's column names.
        columns: Vec<String>,
        /// In key order.
        rows: Vec<Sampled>,
    },
    /// Why there is no sample, in a few words.
    None(String),
}

impl Sample {
    /// The sample of `before` given the rows read again by key `after`.
    pub(crate) fn of(verb: Verb, keys: &[Key], before: Rows, after: Rows) -> Self {
        let rows = before
            .rows
            .into_iter()
            .map(|(key, before)| {
                let after = after.rows.iter().find(|(k, _)| *k == key).map(|(_, r)| r.clone());
                Sampled { key, before, after }
            })
            .collect();
        Sample::Rows { verb, keys: keys.iter().map(|k| k.name.clone()).collect(), columns: before.columns, rows }
    }
}

/// Why a sample could not be read, from the database's error.
pub(crate) fn failed(error: impl Into<SqlError>) -> String {
    format!("reading them failed: {}", error.into())
}

/// The query that reads the first rows the statement's `WHERE` matches, keys first, with the
/// statement's own arguments; no query when the table has no key or an argument is missing.
pub(crate) fn before(shape: &Shape, keys: &[Key], args: &[Arg]) -> Result<Query, String> {
    if keys.is_empty() {
        return Err(format!("{} has no primary key", shape.table));
    }
    let order = keys.iter().map(|k| k.sql.as_str()).collect::<Vec<_>>().join(", ");
    let filter = shape.filter.as_deref().map(|f| format!(" WHERE {f}")).unwrap_or_default();
    let sql = format!(
        "SELECT {order}, {q}.* FROM {relation}{filter} ORDER BY {order} LIMIT {SAMPLE_ROWS}",
        q = shape.qualifier,
        relation = shape.relation
    );
    let (sql, taken) = renumbered(&sql);
    let args = taken
        .iter()
        .map(|&n| n.checked_sub(1).and_then(|i| args.get(i)).cloned().ok_or(format!("${n} has no value")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Query { sql, args })
}

/// The query that reads the rows with the keys of `rows` again; no query when a key value
/// cannot be bound back (NULL, binary) or there are no rows.
pub(crate) fn after(shape: &Shape, keys: &[Key], rows: &Rows) -> Result<Query, String> {
    let order = keys.iter().map(|k| k.sql.as_str()).collect::<Vec<_>>().join(", ");
    let mut args = Vec::new();
    let mut alternatives = Vec::new();
    for (values, _) in &rows.rows {
        let mut all = Vec::new();
        for (key, value) in keys.iter().zip(values) {
            args.push(argument(value).ok_or("a key value cannot be looked up again")?);
            all.push(format!("{} = ${}", key.sql, args.len()));
        }
        alternatives.push(format!("({})", all.join(" AND ")));
    }
    if alternatives.is_empty() {
        return Err("no rows to look up".to_owned());
    }
    let sql = format!(
        "SELECT {order}, {q}.* FROM {relation} WHERE {which} ORDER BY {order}",
        q = shape.qualifier,
        relation = shape.relation,
        which = alternatives.join(" OR ")
    );
    Ok(Query { sql, args })
}

/// A key's value as a bind argument.
fn argument(value: &Cell) -> Option<Arg> {
    match value {
        Cell::Int(i) => Some(Arg::Int(*i)),
        Cell::Bool(b) => Some(Arg::Bool(*b)),
        Cell::Float(f) => Some(Arg::Text(f.to_string())),
        // Binary (`\x` + hex) is not bound back as what it was.
        Cell::Text(t) if t.strip_prefix("\\x").is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit())) => None,
        Cell::Text(t) => Some(Arg::Text(t.clone())),
        Cell::Null => None,
    }
}

#[cfg(test)]
mod tests;
