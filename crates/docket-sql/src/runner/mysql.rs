//! MySQL and MariaDB: `START TRANSACTION READ ONLY` for reports; the server's own time limit per
//! statement (`max_execution_time` on MySQL, `max_statement_time` on MariaDB, whichever the
//! server has). `$n` placeholders become `?`, bound in the order they appear.

use futures_util::TryStreamExt as _;
use sqlx::mysql::{MySqlArguments, MySqlRow};
use sqlx::{Arguments as _, Column as _, Executor as _, MySqlPool, Row as _, TypeInfo as _};

use super::engine::{Collector, Request, Session, SqlError};
use crate::action::Arg;
use crate::sample::{self, Key, Query, Rows, SAMPLE_ROWS, Sample, Shape};
use crate::statement::question_marks;
use docket_core::result::{Cell, Column, Table};

pub(crate) async fn read(pool: &MySqlPool, request: &Request<'_>) -> Result<Table, SqlError> {
    let mut conn = pool.acquire().await?;
    begun(&mut conn, request).await?;
    conn.execute("START TRANSACTION READ ONLY").await?;
    let result = query(&mut conn, request).await;
    conn.execute("ROLLBACK").await?;
    result
}

async fn query(conn: &mut sqlx::MySqlConnection, request: &Request<'_>) -> Result<Table, SqlError> {
    let (sql, order) = question_marks(request.statement);
    let args = arguments(&request.args, &order)?;
    let mut collector: Option<Collector> = None;
    let mut rows = sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), args).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let collector = collector.get_or_insert_with(|| Collector::new(columns(&row), request.max_rows));
        collector.row(|| cells(&row));
    }
    Ok(collector.map_or_else(Table::default, |c| c.table))
}

pub(crate) async fn write(
    pool: &MySqlPool,
    request: &Request<'_>,
    commit: &(dyn Fn(u64) -> bool + Sync),
) -> Result<u64, SqlError> {
    let mut conn = pool.acquire().await?;
    begun(&mut conn, request).await?;
    let (sql, order) = question_marks(request.statement);
    let args = arguments(&request.args, &order)?;
    conn.execute("START TRANSACTION").await?;
    let changed = match sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), args).execute(&mut *conn).await {
        Ok(done) => done.rows_affected(),
        Err(error) => {
            conn.execute("ROLLBACK").await?;
            return Err(error.into());
        }
    };
    conn.execute(if commit(changed) { "COMMIT" } else { "ROLLBACK" }).await?;
    Ok(changed)
}

/// Plans a write: runs it in a transaction that is rolled back, with a sample of the rows it
/// changes read around it, each of the sample's queries with a quarter of the statement's time
/// limit (a failed query does not end a MySQL transaction).
pub(crate) async fn plan(
    pool: &MySqlPool,
    request: &Request<'_>,
    shape: Result<&Shape, &str>,
) -> Result<(u64, Sample), SqlError> {
    let mut conn = pool.acquire().await?;
    begun(&mut conn, request).await?;
    conn.execute("START TRANSACTION").await?;
    let planned = planned(&mut conn, request, shape).await;
    conn.execute("ROLLBACK").await?;
    planned
}

async fn planned(
    conn: &mut sqlx::MySqlConnection,
    request: &Request<'_>,
    shape: Result<&Shape, &str>,
) -> Result<(u64, Sample), SqlError> {
    let found = match shape {
        Ok(shape) => {
            limit(conn, request.sample_timeout()).await;
            let found = before(conn, shape, &request.args).await;
            limit(conn, request.timeout).await;
            found
        }
        Err(why) => Err(why.to_owned()),
    };
    let (sql, order) = question_marks(request.statement);
    let args = arguments(&request.args, &order)?;
    let changed = sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), args).execute(&mut *conn).await?.rows_affected();
    let sample = match (found, shape) {
        (Ok((keys, rows)), Ok(shape)) if rows.rows.is_empty() => Sample::of(shape.verb, &keys, rows, Rows::default()),
        (Ok((keys, rows)), Ok(shape)) => {
            limit(conn, request.sample_timeout()).await;
            let again = after(conn, shape, &keys, &rows).await;
            again.map_or_else(Sample::None, |again| Sample::of(shape.verb, &keys, rows, again))
        }
        (Err(why), _) => Sample::None(why),
        (_, Err(why)) => Sample::None(why.to_owned()),
    };
    Ok((changed, sample))
}

/// The primary key of `shape`'s table, then its first rows the statement's `WHERE` matches.
async fn before(conn: &mut sqlx::MySqlConnection, shape: &Shape, args: &[Arg]) -> Result<(Vec<Key>, Rows), String> {
    let (schema, table) = match shape.name.as_slice() {
        [table] => (None, table),
        [schema, table] => (Some(schema), table),
        _ => return Err(format!("{} is not a table name MySQL knows", shape.table)),
    };
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.KEY_COLUMN_USAGE \
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' \
         ORDER BY ORDINAL_POSITION",
    )
    .bind(schema.map(String::as_str))
    .bind(table.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(sample::failed)?;
    let keys: Vec<Key> =
        names.into_iter().map(|name| Key { sql: format!("`{}`", name.replace('`', "``")), name }).collect();
    let query = sample::before(shape, &keys, args)?;
    let (columns, rows) = select(conn, &query).await.map_err(sample::failed)?;
    Ok((keys.clone(), Rows::split(keys.len(), columns, rows)))
}

/// The sampled rows read again by their keys.
async fn after(conn: &mut sqlx::MySqlConnection, shape: &Shape, keys: &[Key], rows: &Rows) -> Result<Rows, String> {
    let query = sample::after(shape, keys, rows)?;
    let (columns, again) = select(conn, &query).await.map_err(sample::failed)?;
    Ok(Rows::split(keys.len(), columns, again))
}

/// At most a sample's rows of `query`, with their column names.
async fn select(conn: &mut sqlx::MySqlConnection, query: &Query) -> Result<(Vec<String>, Vec<Vec<Cell>>), SqlError> {
    let (sql, order) = question_marks(&query.sql);
    let args = arguments(&query.args, &order)?;
    let mut columns = Vec::new();
    let mut rows = Vec::new();
    let mut stream = sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), args).fetch(&mut *conn);
    while let Some(row) = stream.try_next().await? {
        if rows.len() < SAMPLE_ROWS {
            columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
            rows.push(cells(&row));
        }
    }
    Ok((columns, rows))
}

/// Says which connection runs the statement (so a cancel reaches it) and sets the server's
/// per-statement limit; each server knows one of the two variables, and the other one's "unknown
/// system variable" is expected.
async fn begun(conn: &mut sqlx::MySqlConnection, request: &Request<'_>) -> Result<(), SqlError> {
    let id: u64 = sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS UNSIGNED)").fetch_one(&mut *conn).await?;
    request.stop.started(Session::MySql(id))?;
    limit(conn, request.timeout).await;
    Ok(())
}

/// The server's per-statement limit for the connection's next statements.
async fn limit(conn: &mut sqlx::MySqlConnection, limit: std::time::Duration) {
    let millis = limit.as_millis().max(1);
    let seconds = (millis as f64 / 1000.0).max(0.001);
    let _ = conn.execute(sqlx::AssertSqlSafe(format!("SET SESSION max_execution_time = {millis}"))).await;
    let _ = conn.execute(sqlx::AssertSqlSafe(format!("SET SESSION max_statement_time = {seconds}"))).await;
}

/// The arguments in the order the `?` take them.
fn arguments(args: &[Arg], order: &[usize]) -> Result<MySqlArguments, SqlError> {
    let mut out = MySqlArguments::default();
    for &n in order {
        let arg =
            args.get(n.wrapping_sub(1)).ok_or(SqlError::Argument { index: n, message: "has no value".to_owned() })?;
        let added = match arg {
            Arg::Int(i) => out.add(*i),
            Arg::Bool(b) => out.add(*b),
            Arg::Text(t) => out.add(t.clone()),
        };
        added.map_err(|e| SqlError::Argument { index: n, message: e.to_string() })?;
    }
    Ok(out)
}

fn columns(row: &MySqlRow) -> Vec<Column> {
    row.columns()
        .iter()
        .map(|c| Column { name: c.name().to_owned(), kind: c.type_info().name().to_ascii_lowercase() })
        .collect()
}

fn cells(row: &MySqlRow) -> Vec<Cell> {
    (0..row.columns().len()).map(|i| cell(row, i)).collect()
}

fn cell(row: &MySqlRow, i: usize) -> Cell {
    let kind = row.column(i).type_info().name().to_owned();
    let read = || -> Result<Cell, sqlx::Error> {
        Ok(match kind.as_str() {
            "BOOLEAN" => row.try_get::<Option<bool>, _>(i)?.map_or(Cell::Null, Cell::Bool),
            "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
                row.try_get::<Option<i64>, _>(i)?.map_or(Cell::Null, Cell::Int)
            }
            k if k.ends_with("UNSIGNED") => row
                .try_get::<Option<u64>, _>(i)?
                .map_or(Cell::Null, |v| i64::try_from(v).map_or_else(|_| Cell::Text(v.to_string()), Cell::Int)),
            "FLOAT" => row.try_get::<Option<f32>, _>(i)?.map_or(Cell::Null, |v| Cell::float(super::times::single(v))),
            "DOUBLE" => row.try_get::<Option<f64>, _>(i)?.map_or(Cell::Null, Cell::float),
            "DECIMAL" => row
                .try_get::<Option<sqlx::types::BigDecimal>, _>(i)?
                .map_or(Cell::Null, |v| Cell::Text(v.to_plain_string())),
            "DATE" => {
                row.try_get::<Option<time::Date>, _>(i)?.map_or(Cell::Null, |v| Cell::Text(super::times::date(v)))
            }
            "TIME" => {
                row.try_get::<Option<time::Time>, _>(i)?.map_or(Cell::Null, |v| Cell::Text(super::times::clock(v)))
            }
            "DATETIME" => row
                .try_get::<Option<time::PrimitiveDateTime>, _>(i)?
                .map_or(Cell::Null, |v| Cell::Text(super::times::local(v))),
            "TIMESTAMP" => row
                .try_get::<Option<time::OffsetDateTime>, _>(i)?
                .map_or(Cell::Null, |v| Cell::Text(super::times::zoned(v))),
            "JSON" => row.try_get::<Option<serde_json::Value>, _>(i)?.map_or(Cell::Null, |v| Cell::Text(v.to_string())),
            "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY" | "BIT" => {
                row.try_get::<Option<Vec<u8>>, _>(i)?.map_or(Cell::Null, |v| Cell::bytes(&v))
            }
            _ => row.try_get::<Option<String>, _>(i)?.map_or(Cell::Null, Cell::Text),
        })
    };
    read().unwrap_or_else(|_| match row.try_get::<Option<Vec<u8>>, _>(i) {
        Ok(None) => Cell::Null,
        Ok(Some(bytes)) => String::from_utf8(bytes).map_or_else(|e| Cell::bytes(e.as_bytes()), Cell::Text),
        Err(_) => Cell::Text(format!("({} value)", kind.to_ascii_lowercase())),
    })
}
