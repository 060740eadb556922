//! SQLite: reports on a read-only connection, writes on the one writing connection. `$n`
//! placeholders become SQLite's numbered `?n`. SQLite has no server to stop a long statement:
//! each use of a connection gives it a progress handler that interrupts the statement at its
//! time limit or when the step is cancelled (SQLite checks it every few thousand instructions).

use futures_util::TryStreamExt as _;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{
    Arguments as _, Column as _, Connection as _, Executor as _, Row as _, SqlitePool, TypeInfo as _, ValueRef as _,
};

use super::engine::{Collector, Request, SqlError};
use crate::action::Arg;
use crate::sample::{self, Key, Query, Rows, SAMPLE_ROWS, Sample, Shape};
use crate::statement::numbered_question_marks;
use docket_core::result::{Cell, Column, Table};

/// Virtual machine instructions between two looks at the time limit and the step's cancel.
const CHECK_EVERY: i32 = 10_000;

pub(crate) async fn read(pool: &SqlitePool, request: &Request<'_>) -> Result<Table, SqlError> {
    let mut conn = pool.acquire().await?;
    interruptible(&mut conn, request, request.timeout).await?;
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
    let mut conn = pool.acquire().await?;
    interruptible(&mut conn, request, request.timeout).await?;
    let mut tx = conn.begin().await?;
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

/// Plans a write: runs it in a transaction that is rolled back, with a sample of the rows it
/// changes read around it (a failed query does not end a SQLite transaction). The sample's
/// reads may take half as long again as the statement's limit.
pub(crate) async fn plan(
    pool: &SqlitePool,
    request: &Request<'_>,
    shape: Result<&Shape, &str>,
) -> Result<(u64, Sample), SqlError> {
    let mut conn = pool.acquire().await?;
    interruptible(&mut conn, request, request.timeout + request.sample_timeout() * 2).await?;
    let mut tx = conn.begin().await?;
    let found = match shape {
        Ok(shape) => before(&mut tx, shape, &request.args).await,
        Err(why) => Err(why.to_owned()),
    };
    let sql = numbered_question_marks(request.statement);
    let changed = sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), arguments(&request.args)?)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let sample = match (found, shape) {
        (Ok((keys, rows)), Ok(shape)) if rows.rows.is_empty() => Sample::of(shape.verb, &keys, rows, Rows::default()),
        (Ok((keys, rows)), Ok(shape)) => match after(&mut tx, shape, &keys, &rows).await {
            Ok(again) => Sample::of(shape.verb, &keys, rows, again),
            Err(why) => Sample::None(why),
        },
        (Err(why), _) => Sample::None(why),
        (_, Err(why)) => Sample::None(why.to_owned()),
    };
    tx.rollback().await?;
    Ok((changed, sample))
}

/// The primary key of `shape`'s table (its `rowid` when it declares none), then its first rows
/// the statement's `WHERE` matches.
async fn before(conn: &mut sqlx::SqliteConnection, shape: &Shape, args: &[Arg]) -> Result<(Vec<Key>, Rows), String> {
    let (schema, table) = match shape.name.as_slice() {
        [table] => ("main", table),
        [schema, table] => (schema.as_str(), table),
        _ => return Err(format!("{} is not a table name SQLite knows", shape.table)),
    };
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1, ?2) WHERE pk > 0 ORDER BY pk")
        .bind(table.as_str())
        .bind(schema)
        .fetch_all(&mut *conn)
        .await
        .map_err(sample::failed)?;
    let keys: Vec<Key> = if names.is_empty() {
        vec![Key { name: "rowid".to_owned(), sql: "rowid".to_owned() }]
    } else {
        names.into_iter().map(|name| Key { sql: format!("\"{}\"", name.replace('"', "\"\"")), name }).collect()
    };
    let query = sample::before(shape, &keys, args)?;
    let (columns, rows) = select(conn, &query).await.map_err(sample::failed)?;
    Ok((keys.clone(), Rows::split(keys.len(), columns, rows)))
}

/// The sampled rows read again by their keys.
async fn after(conn: &mut sqlx::SqliteConnection, shape: &Shape, keys: &[Key], rows: &Rows) -> Result<Rows, String> {
    let query = sample::after(shape, keys, rows)?;
    let (columns, again) = select(conn, &query).await.map_err(sample::failed)?;
    Ok(Rows::split(keys.len(), columns, again))
}

/// At most a sample's rows of `query`, with their column names.
async fn select(conn: &mut sqlx::SqliteConnection, query: &Query) -> Result<(Vec<String>, Vec<Vec<Cell>>), SqlError> {
    let sql = numbered_question_marks(&query.sql);
    let mut columns = Vec::new();
    let mut rows = Vec::new();
    let mut stream = sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), arguments(&query.args)?).fetch(&mut *conn);
    while let Some(row) = stream.try_next().await? {
        if rows.len() < SAMPLE_ROWS {
            columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
            rows.push(cells(&row));
        }
    }
    Ok((columns, rows))
}

/// Gives the connection a progress handler that interrupts its statement once the step is
/// cancelled or its time limit has passed. Every use of a pooled connection sets its own (a new
/// handler replaces the one before).
async fn interruptible(
    conn: &mut sqlx::SqliteConnection,
    request: &Request<'_>,
    limit: std::time::Duration,
) -> Result<(), SqlError> {
    let stop = request.stop.token.clone();
    let deadline = std::time::Instant::now() + limit;
    conn.lock_handle()
        .await?
        .set_progress_handler(CHECK_EVERY, move || !stop.is_cancelled() && std::time::Instant::now() < deadline);
    Ok(())
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
