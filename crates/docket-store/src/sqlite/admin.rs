//! API tokens and statistics on SQLite.

use docket_app::{ApiToken, StoreError, StoreStats};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteArguments, SqliteRow};

use super::writer::{Sql, Write, bind};
use crate::rows::{self, db_error, is_unique_violation, parse_time, time_text, to_unsigned};

/// Saves a token's record.
#[derive(Debug)]
pub(super) struct CreateToken(pub(super) ApiToken);

static CREATE_TOKEN: Sql = Sql::new("INSERT INTO api_tokens (hash, person, name, created_at) VALUES (?, ?, ?, ?); ", 0);

impl Write for CreateToken {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &CREATE_TOKEN
    }

    fn bind(&self, args: &mut SqliteArguments) -> Result<(), StoreError> {
        let token = &self.0;
        bind(args, &token.hash)?;
        bind(args, token.person.as_str())?;
        bind(args, &token.name)?;
        bind(args, time_text(token.created_at))
    }

    fn output(self, _: Vec<SqliteRow>) -> Result<(), StoreError> {
        Ok(())
    }

    fn error(&self, error: sqlx::Error) -> StoreError {
        if is_unique_violation(&error) { rows::token_exists() } else { db_error(error) }
    }
}

/// A token's record by its hash.
pub(super) async fn token(reader: &SqlitePool, hash: &str) -> Result<Option<ApiToken>, StoreError> {
    let row = sqlx::query("SELECT hash, person, name, created_at FROM api_tokens WHERE hash = ?")
        .bind(hash)
        .fetch_optional(reader)
        .await
        .map_err(db_error)?;
    row.as_ref().map(rows::api_token).transpose()
}

/// Tickets per state, unclaimed queue entries, and the oldest pending notification.
pub(super) async fn stats(reader: &SqlitePool) -> Result<StoreStats, StoreError> {
    let by_state = sqlx::query("SELECT state, COUNT(*) AS n FROM tickets GROUP BY state ORDER BY state")
        .fetch_all(reader)
        .await
        .map_err(db_error)?;
    let mut tickets_by_state = by_state.iter().map(rows::state_count).collect::<Result<Vec<_>, _>>()?;
    tickets_by_state.sort();
    let depth: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM run_queue WHERE holder IS NULL")
        .fetch_one(reader)
        .await
        .map_err(db_error)?;
    let oldest: Option<String> = sqlx::query_scalar(
        "SELECT created_at FROM outbox WHERE delivered_at IS NULL AND gave_up = 0 ORDER BY id LIMIT 1",
    )
    .fetch_optional(reader)
    .await
    .map_err(db_error)?;
    Ok(StoreStats {
        tickets_by_state,
        queue_depth: to_unsigned(depth, "queue depth")?,
        oldest_undelivered: oldest.map(|t| parse_time(&t, "outbox time")).transpose()?,
    })
}
