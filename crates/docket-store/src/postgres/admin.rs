//! API tokens and statistics on PostgreSQL; a token's creation and revocation are writes of the
//! writer's batch, with their audit records.

use async_trait::async_trait;
use docket_app::{ApiToken, Revocation, StoreError, StoreStats};
use docket_core::audit::{AuditEntry, AuditRecord};
use jiff::Timestamp;
use sqlx::{PgConnection, PgPool};

use super::writer::{Failure, Write};
use crate::rows::{self, TOKEN_COLUMNS, db_error, parse_time, time_text, to_unsigned};

/// Saves a token's record with the audit of its creation; a taken hash or id saves nothing.
#[derive(Debug)]
pub(super) struct CreateToken {
    pub(super) token: ApiToken,
    pub(super) audit: Vec<AuditEntry>,
}

#[async_trait]
impl Write for CreateToken {
    type Output = ();

    async fn apply(&mut self, conn: &mut PgConnection) -> Result<(), Failure> {
        let token = &self.token;
        let saved = sqlx::query(
            "INSERT INTO api_tokens (id, hash, person, agent, name, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(&token.id)
        .bind(&token.hash)
        .bind(token.person.as_str())
        .bind(token.agent.as_deref())
        .bind(&token.name)
        .bind(&token.created_by)
        .bind(time_text(token.created_at))
        .bind(token.expires_at.map(time_text))
        .fetch_optional(conn)
        .await;
        match saved {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Failure::Refused(rows::token_exists())),
            Err(e) => Err(Failure::Failed(db_error(e))),
        }
    }

    fn take_audit(&mut self) -> Vec<AuditEntry> {
        std::mem::take(&mut self.audit)
    }

    fn output(self, _: Vec<AuditRecord>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Revokes a token (unless it already is) with the audit of it.
#[derive(Debug)]
pub(super) struct RevokeToken {
    pub(super) id: String,
    pub(super) revocation: Revocation,
    pub(super) audit: Vec<AuditEntry>,
}

#[async_trait]
impl Write for RevokeToken {
    type Output = ();

    async fn apply(&mut self, conn: &mut PgConnection) -> Result<(), Failure> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(time_text(self.revocation.at))
            .bind(&self.revocation.by)
            .bind(&self.id)
            .execute(conn)
            .await
            .map_err(|e| Failure::Failed(db_error(e)))?;
        Ok(())
    }

    fn take_audit(&mut self) -> Vec<AuditEntry> {
        std::mem::take(&mut self.audit)
    }

    fn output(self, _: Vec<AuditRecord>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Records a token's last use.
pub(super) async fn token_used(writer: &PgPool, id: &str, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(time_text(at))
        .bind(id)
        .execute(writer)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// A token's record by `column` (`hash` or `id`, never anything a caller typed).
pub(super) async fn token(reader: &PgPool, column: &'static str, key: &str) -> Result<Option<ApiToken>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE {column} = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(reader).await.map_err(db_error)?;
    row.as_ref().map(rows::api_token).transpose()
}

/// Every token's record, newest first.
pub(super) async fn tokens(reader: &PgPool) -> Result<Vec<ApiToken>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(reader).await.map_err(db_error)?;
    found.iter().map(rows::api_token).collect()
}

/// Tickets per state, unclaimed queue entries, and the oldest pending notification.
pub(super) async fn stats(reader: &PgPool) -> Result<StoreStats, StoreError> {
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
        "SELECT created_at FROM outbox WHERE delivered_at IS NULL AND NOT gave_up ORDER BY id LIMIT 1",
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
