//! PostgreSQL: `SET TRANSACTION READ ONLY` and `SET LOCAL statement_timeout` inside the
//! transaction, so the server itself stops a statement that runs too long. The statement is
//! prepared first: its parameter types tell how each argument is bound (`day = $1` with a date
//! column gets a date), and its columns name the result even when it has no rows.

use futures_util::TryStreamExt as _;
use sqlx::postgres::{PgArguments, PgRow, PgTypeInfo, PgValueFormat};
use sqlx::{Arguments as _, Column as _, Executor as _, PgPool, Postgres, Row as _, Statement as _, TypeInfo as _};

use super::engine::{Collector, Request, Session, SqlError};
use crate::action::Arg;
use crate::sample::{self, Key, Query, Rows, SAMPLE_ROWS, Sample, Shape};
use docket_core::result::{Cell, Column};

pub(crate) async fn read(pool: &PgPool, request: &Request<'_>) -> Result<docket_core::result::Table, SqlError> {
    let mut tx = pool.begin().await?;
    tx.execute("SET TRANSACTION READ ONLY").await?;
    begun(&mut tx, request).await?;
    let statement =
        tx.prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(request.statement.to_owned()))).await?;
    let columns = statement.columns().iter().map(|c| column(c.name(), c.type_info())).collect();
    let args = arguments(&request.args, statement.parameters())?;
    let mut collector = Collector::new(columns, request.max_rows);
    {
        let mut rows = sqlx::query_with(sqlx::AssertSqlSafe(request.statement), args).fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            collector.row(|| cells(&row));
        }
    }
    tx.rollback().await?;
    Ok(collector.table)
}

pub(crate) async fn write(
    pool: &PgPool,
    request: &Request<'_>,
    commit: &(dyn Fn(u64) -> bool + Sync),
) -> Result<u64, SqlError> {
    let mut tx = pool.begin().await?;
    begun(&mut tx, request).await?;
    let statement =
        tx.prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(request.statement.to_owned()))).await?;
    let args = arguments(&request.args, statement.parameters())?;
    let changed =
        sqlx::query_with(sqlx::AssertSqlSafe(request.statement), args).execute(&mut *tx).await?.rows_affected();
    if commit(changed) {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(changed)
}

/// Plans a write: runs it in a transaction that is rolled back, with a sample of the rows it
/// changes read around it. Each of the sample's queries runs under a savepoint (a failed one,
/// say for want of `SELECT` on the table, must not abort the transaction) with a quarter of the
/// statement's time limit.
pub(crate) async fn plan(
    pool: &PgPool,
    request: &Request<'_>,
    shape: Result<&Shape, &str>,
) -> Result<(u64, Sample), SqlError> {
    let mut tx = pool.begin().await?;
    begun(&mut tx, request).await?;
    let found = match shape {
        Ok(shape) => {
            guard(&mut tx, request).await?;
            let found = before(&mut tx, shape, &request.args).await;
            unguard(&mut tx, request, found.is_ok()).await?;
            found
        }
        Err(why) => Err(why.to_owned()),
    };
    let statement =
        tx.prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(request.statement.to_owned()))).await?;
    let args = arguments(&request.args, statement.parameters())?;
    let changed =
        sqlx::query_with(sqlx::AssertSqlSafe(request.statement), args).execute(&mut *tx).await?.rows_affected();
    let sample = match (found, shape) {
        (Ok((keys, rows)), Ok(shape)) if rows.rows.is_empty() => Sample::of(shape.verb, &keys, rows, Rows::default()),
        (Ok((keys, rows)), Ok(shape)) => {
            guard(&mut tx, request).await?;
            let again = after(&mut tx, shape, &keys, &rows).await;
            unguard(&mut tx, request, again.is_ok()).await?;
            again.map_or_else(Sample::None, |again| Sample::of(shape.verb, &keys, rows, again))
        }
        (Err(why), _) => Sample::None(why),
        (_, Err(why)) => Sample::None(why.to_owned()),
    };
    tx.rollback().await?;
    Ok((changed, sample))
}

type Tx<'c> = sqlx::Transaction<'c, Postgres>;

/// Before a read of the sample: a savepoint, and the sample's time limit.
async fn guard(tx: &mut Tx<'_>, request: &Request<'_>) -> Result<(), SqlError> {
    tx.execute("SAVEPOINT docket_sample").await?;
    limit(tx, request.sample_timeout()).await
}

/// After it: the savepoint released, or rolled back to when the read failed (what it could not
/// do is a reason for no sample, not an error of the plan), and the statement's limit back.
async fn unguard(tx: &mut Tx<'_>, request: &Request<'_>, read: bool) -> Result<(), SqlError> {
    tx.execute(if read { "RELEASE SAVEPOINT docket_sample" } else { "ROLLBACK TO SAVEPOINT docket_sample" }).await?;
    limit(tx, request.timeout).await
}

/// The primary key of `shape`'s table, then its first rows the statement's `WHERE` matches.
async fn before(tx: &mut Tx<'_>, shape: &Shape, args: &[Arg]) -> Result<(Vec<Key>, Rows), String> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_index i \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
         WHERE i.indrelid = CAST($1 AS regclass) AND i.indisprimary \
         ORDER BY array_position(i.indkey::int2[], a.attnum)",
    )
    .bind(shape.table.as_str())
    .fetch_all(&mut **tx)
    .await
    .map_err(sample::failed)?;
    let keys: Vec<Key> = names.into_iter().map(|name| Key { sql: quoted(&name), name }).collect();
    let query = sample::before(shape, &keys, args)?;
    let (columns, rows) = select(tx, &query).await.map_err(sample::failed)?;
    Ok((keys.clone(), Rows::split(keys.len(), columns, rows)))
}

/// The sampled rows read again by their keys.
async fn after(tx: &mut Tx<'_>, shape: &Shape, keys: &[Key], rows: &Rows) -> Result<Rows, String> {
    let query = sample::after(shape, keys, rows)?;
    let (columns, again) = select(tx, &query).await.map_err(sample::failed)?;
    Ok(Rows::split(keys.len(), columns, again))
}

/// At most a sample's rows of `query`, with their column names.
async fn select(tx: &mut Tx<'_>, query: &Query) -> Result<(Vec<String>, Vec<Vec<Cell>>), SqlError> {
    let statement = tx.prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(query.sql.clone()))).await?;
    let columns = statement.columns().iter().map(|c| c.name().to_owned()).collect();
    let args = arguments(&query.args, statement.parameters())?;
    let mut rows = Vec::new();
    let mut stream = sqlx::query_with(sqlx::AssertSqlSafe(query.sql.as_str()), args).fetch(&mut **tx);
    while let Some(row) = stream.try_next().await? {
        if rows.len() < SAMPLE_ROWS {
            rows.push(cells(&row));
        }
    }
    Ok((columns, rows))
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Says which backend runs the statement (so a cancel reaches it) and sets its time limit.
async fn begun(tx: &mut sqlx::Transaction<'_, Postgres>, request: &Request<'_>) -> Result<(), SqlError> {
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut **tx).await?;
    request.stop.started(Session::Postgres(pid))?;
    limit(tx, request.timeout).await
}

/// The server's time limit for the transaction's next statements.
async fn limit(tx: &mut Tx<'_>, limit: std::time::Duration) -> Result<(), SqlError> {
    let millis = limit.as_millis().max(1);
    tx.execute(sqlx::AssertSqlSafe(format!("SET LOCAL statement_timeout = {millis}"))).await?;
    Ok(())
}

fn column(name: &str, kind: &PgTypeInfo) -> Column {
    Column { name: name.to_owned(), kind: kind.name().to_ascii_lowercase() }
}

/// Binds each argument as the type the statement expects there, when the text reads as one.
fn arguments(args: &[Arg], expected: Option<sqlx::Either<&[PgTypeInfo], usize>>) -> Result<PgArguments, SqlError> {
    let types: &[PgTypeInfo] = match expected {
        Some(sqlx::Either::Left(types)) => types,
        _ => &[],
    };
    let mut out = PgArguments::default();
    for (i, arg) in args.iter().enumerate() {
        let wanted = types.get(i).map_or("TEXT", |t| t.name());
        let bad = |message: String| SqlError::Argument { index: i + 1, message };
        let added = match (arg, wanted) {
            (Arg::Int(n), "INT2") => out.add(i16::try_from(*n).map_err(|_| bad(format!("{n} is too large for int2")))?),
            (Arg::Int(n), "INT4") => out.add(i32::try_from(*n).map_err(|_| bad(format!("{n} is too large for int4")))?),
            (Arg::Int(n), "FLOAT4" | "FLOAT8") => out.add(*n as f64),
            (Arg::Int(n), "NUMERIC") => out.add(sqlx::types::BigDecimal::from(*n)),
            (Arg::Int(n), "TEXT" | "VARCHAR" | "BPCHAR" | "NAME") => out.add(n.to_string()),
            (Arg::Int(n), _) => out.add(*n),
            (Arg::Bool(b), "TEXT" | "VARCHAR") => out.add(b.to_string()),
            (Arg::Bool(b), _) => out.add(*b),
            (Arg::Text(t), kind) => add_text(&mut out, t, kind).map_err(bad)?,
        };
        added.map_err(|e| bad(e.to_string()))?;
    }
    Ok(out)
}

type Added = Result<(), sqlx::error::BoxDynError>;

/// Text parsed as the type `kind` the statement expects; unknown kinds are bound as text.
fn add_text(out: &mut PgArguments, text: &str, kind: &str) -> Result<Added, String> {
    let not = |what: &str| format!("`{}` is not {what}", text.chars().take(60).collect::<String>());
    Ok(match kind {
        "INT2" => out.add(text.trim().parse::<i16>().map_err(|_| not("a small integer"))?),
        "INT4" => out.add(text.trim().parse::<i32>().map_err(|_| not("an integer"))?),
        "INT8" => out.add(text.trim().parse::<i64>().map_err(|_| not("an integer"))?),
        "FLOAT4" | "FLOAT8" => out.add(text.trim().parse::<f64>().map_err(|_| not("a number"))?),
        "NUMERIC" => out.add(text.trim().parse::<sqlx::types::BigDecimal>().map_err(|_| not("a number"))?),
        "BOOL" => out.add(match text.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "1" => true,
            "false" | "f" | "no" | "0" => false,
            _ => return Err(not("true or false")),
        }),
        "DATE" => out.add(time::Date::parse(text.trim(), DATE).map_err(|_| not("a date (YYYY-MM-DD)"))?),
        "TIMESTAMPTZ" => out.add(
            time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
                .map_err(|_| not("a time with offset (RFC 3339)"))?,
        ),
        "UUID" => out.add(text.trim().parse::<sqlx::types::Uuid>().map_err(|_| not("a UUID"))?),
        "JSON" | "JSONB" => {
            out.add(serde_json::from_str::<serde_json::Value>(text).map_err(|_| not("a JSON document"))?)
        }
        _ => out.add(text.to_owned()),
    })
}

const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// A row's values, each read by its column's type.
fn cells(row: &PgRow) -> Vec<Cell> {
    (0..row.columns().len()).map(|i| cell(row, i)).collect()
}

fn cell(row: &PgRow, i: usize) -> Cell {
    let kind = row.column(i).type_info().name().to_owned();
    let read = || -> Result<Cell, sqlx::Error> {
        Ok(match kind.as_str() {
            "BOOL" => row.try_get::<Option<bool>, _>(i)?.map_or(Cell::Null, Cell::Bool),
            "INT2" => row.try_get::<Option<i16>, _>(i)?.map_or(Cell::Null, |v| Cell::Int(v.into())),
            "INT4" => row.try_get::<Option<i32>, _>(i)?.map_or(Cell::Null, |v| Cell::Int(v.into())),
            "INT8" => row.try_get::<Option<i64>, _>(i)?.map_or(Cell::Null, Cell::Int),
            "FLOAT4" => row.try_get::<Option<f32>, _>(i)?.map_or(Cell::Null, |v| Cell::float(super::times::single(v))),
            "FLOAT8" => row.try_get::<Option<f64>, _>(i)?.map_or(Cell::Null, Cell::float),
            "NUMERIC" => {
                let raw = row.try_get_raw(i)?;
                if sqlx::ValueRef::is_null(&raw) {
                    Cell::Null
                } else {
                    let text = raw.as_str().ok().filter(|_| raw.format() == PgValueFormat::Text).map(str::to_owned);
                    let bytes = raw.as_bytes().map_err(sqlx::Error::Decode)?;
                    let text = text.or_else(|| super::numeric::text(bytes));
                    text.map_or_else(|| Cell::Text("(numeric value)".to_owned()), Cell::Text)
                }
            }
            "BYTEA" => row.try_get::<Option<Vec<u8>>, _>(i)?.map_or(Cell::Null, |v| Cell::bytes(&v)),
            "JSON" | "JSONB" => {
                row.try_get::<Option<serde_json::Value>, _>(i)?.map_or(Cell::Null, |v| Cell::Text(v.to_string()))
            }
            "UUID" => row.try_get::<Option<sqlx::types::Uuid>, _>(i)?.map_or(Cell::Null, |v| Cell::Text(v.to_string())),
            "DATE" => {
                row.try_get::<Option<time::Date>, _>(i)?.map_or(Cell::Null, |v| Cell::Text(super::times::date(v)))
            }
            "TIME" => {
                row.try_get::<Option<time::Time>, _>(i)?.map_or(Cell::Null, |v| Cell::Text(super::times::clock(v)))
            }
            "TIMESTAMP" => row
                .try_get::<Option<time::PrimitiveDateTime>, _>(i)?
                .map_or(Cell::Null, |v| Cell::Text(super::times::local(v))),
            "TIMESTAMPTZ" => row
                .try_get::<Option<time::OffsetDateTime>, _>(i)?
                .map_or(Cell::Null, |v| Cell::Text(super::times::zoned(v))),
            _ => row.try_get::<Option<String>, _>(i)?.map_or(Cell::Null, Cell::Text),
        })
    };
    read().unwrap_or_else(|_| match row.try_get_raw(i) {
        Ok(value) if sqlx::ValueRef::is_null(&value) => Cell::Null,
        _ => Cell::Text(format!("({} value)", kind.to_ascii_lowercase())),
    })
}
