//! SQLite: reports on a read-only connection, writes on the one writing connection. `$n`
//! placeholders become SQLite's numbered `?n`. SQLite has no server to stop a long statement;
//! the runner stops waiting at the time limit.

use futures_util::TryStreamExt as _;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments as _, Column as _, Executor as _, Row as _, SqlitePool, TypeInfo as _, ValueRef as _};

use super::engine::{Collector, Request, SqlError};
use crate::action::Arg;
use crate::statement::numbered_question_marks;
use docket_core::result::{Cell, Column, Table};

pub(crate) async fn read(pool: &SqlitePool, request: &Request<'_>) -> Result<Table, SqlError> {
    let mut conn = pool.acquire().await?;
    let sql = numbered_question_marks(request.statement);
    let statement = conn.prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(sql.clone()))).await?;
    let columns = sqlx::Statement::columns(&statement)
        .iter()
        .map(|c| Column { name: c.name().to_owned(), kind: c.type_info().name().to_ascii_lowercase() })
        .collect();
    let mut collector = Collector::new(columns, request.max_rows);
    let mut rows = sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), arguments(&request.args)?).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        collector.row(|| cells(&row));
    }
    Ok(collector.table)
}

pub(crate) async fn write(
    pool: &SqlitePool,
    request: &Request<'_>,
    commit: &(dyn Fn(u64) -> bool + Sync),
) -> Result<u64, SqlError> {
    let mut tx = pool.begin().await?;
    let sql = numbered_question_marks(request.statement);
    let changed = sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), arguments(&request.args)?)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if commit(changed) {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(changed)
}

fn arguments(args: &[Arg]) -> Result<SqliteArguments, SqlError> {
    let mut out = SqliteArguments::default();
    for (i, arg) in args.iter().enumerate() {
        let added = match arg {
            Arg::Int(n) => out.add(*n),
            Arg::Bool(b) => out.add(*b),
            Arg::Text(t) => out.add(t.clone()),
        };
        added.map_err(|e| SqlError::Argument { index: i + 1, message: e.to_string() })?;
    }
    Ok(out)
}

fn cells(row: &SqliteRow) -> Vec<Cell> {
    (0..row.columns().len()).map(|i| cell(row, i)).collect()
}

/// A value by what it holds (SQLite's types are per value, not per column).
fn cell(row: &SqliteRow, i: usize) -> Cell {
    let Ok(raw) = row.try_get_raw(i) else { return Cell::Null };
    if raw.is_null() {
        return Cell::Null;
    }
    let held = raw.type_info().name().to_owned();
    let read = || -> Result<Cell, sqlx::Error> {
        Ok(match held.as_str() {
            "INTEGER" => Cell::Int(row.try_get::<i64, _>(i)?),
            "REAL" => Cell::float(row.try_get::<f64, _>(i)?),
            "BLOB" => Cell::bytes(&row.try_get::<Vec<u8>, _>(i)?),
            _ => Cell::Text(row.try_get::<String, _>(i)?),
        })
    };
    read().unwrap_or_else(|_| Cell::Text(format!("({} value)", held.to_ascii_lowercase())))
}
