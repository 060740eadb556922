//! Surface state on SQLite: small keyed values the chat and web surfaces keep between requests.

use docket_app::StoreError;
use jiff::Timestamp;
use sqlx::{Row as _, SqlitePool};

use super::writer::{Args, Row, Sql, Write, bind};
use crate::rows::{db_error, nanos, to_i64, to_unsigned};

/// The value under (scope, key).
pub(super) async fn get(reader: &SqlitePool, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT value FROM surface_state WHERE scope = ? AND key = ?")
        .bind(scope)
        .bind(key)
        .fetch_optional(reader)
        .await
        .map_err(db_error)?;
    row.map(|r| r.try_get::<String, _>("value").map_err(db_error)).transpose()
}

/// Entries whose key starts with `prefix`, by key.
pub(super) async fn list(
    reader: &SqlitePool,
    scope: &str,
    prefix: &str,
    limit: u32,
) -> Result<Vec<(String, String)>, StoreError> {
    let chars = to_i64(prefix.chars().count(), "prefix length")?;
    let rows = sqlx::query(
        "SELECT key, value FROM surface_state WHERE scope = ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
    )
    .bind(scope)
    .bind(chars)
    .bind(prefix)
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(db_error)?;
    rows.iter().map(|r| Ok((r.try_get("key").map_err(db_error)?, r.try_get("value").map_err(db_error)?))).collect()
}

/// Sets a value, replacing any (`only_new: false`), or only where there is none.
#[derive(Debug)]
pub(super) struct Put {
    pub(super) scope: String,
    pub(super) key: String,
    pub(super) value: String,
    pub(super) at: Timestamp,
    pub(super) only_new: bool,
}

static PUT: Sql = Sql::new(
    "INSERT INTO surface_state (scope, key, value, updated_ns) VALUES (?, ?, ?, ?) \
     ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, updated_ns = excluded.updated_ns; \
     SELECT changes() AS n; ",
    1,
);
static PUT_NEW: Sql = Sql::new(
    "INSERT INTO surface_state (scope, key, value, updated_ns) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING; \
     SELECT changes() AS n; ",
    1,
);

impl Write for Put {
    type Output = bool;

    fn sql(&self) -> &'static Sql {
        if self.only_new { &PUT_NEW } else { &PUT }
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, self.scope.as_str())?;
        bind(args, self.key.as_str())?;
        bind(args, self.value.as_str())?;
        bind(args, nanos(self.at))
    }

    fn output(self, rows: Vec<Row>) -> Result<bool, StoreError> {
        Ok(changed(&rows)? > 0)
    }
}

/// Deletes a scope's entries stamped before a time.
#[derive(Debug)]
pub(super) struct Prune {
    pub(super) scope: String,
    pub(super) before: Timestamp,
}

static PRUNE: Sql =
    Sql::new("DELETE FROM surface_state WHERE scope = ? AND updated_ns < ?; SELECT changes() AS n; ", 1);

impl Write for Prune {
    type Output = u64;

    fn sql(&self) -> &'static Sql {
        &PRUNE
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, self.scope.as_str())?;
        bind(args, nanos(self.before))
    }

    fn output(self, rows: Vec<Row>) -> Result<u64, StoreError> {
        changed(&rows)
    }
}

/// Deletes one entry if it still holds a value.
#[derive(Debug)]
pub(super) struct Forget {
    pub(super) scope: String,
    pub(super) key: String,
    pub(super) value: String,
}

static FORGET: Sql =
    Sql::new("DELETE FROM surface_state WHERE scope = ? AND key = ? AND value = ?; SELECT changes() AS n; ", 1);

impl Write for Forget {
    type Output = bool;

    fn sql(&self) -> &'static Sql {
        &FORGET
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, self.scope.as_str())?;
        bind(args, self.key.as_str())?;
        bind(args, self.value.as_str())
    }

    fn output(self, rows: Vec<Row>) -> Result<bool, StoreError> {
        Ok(changed(&rows)? > 0)
    }
}

fn changed(rows: &[Row]) -> Result<u64, StoreError> {
    let n: i64 = rows.first().map(|r| r.try_get("n")).transpose()?.unwrap_or(0);
    to_unsigned(n, "changed rows")
}
