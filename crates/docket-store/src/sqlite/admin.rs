//! API tokens and statistics on SQLite.

use docket_app::{ApiToken, Revocation, StoreError, StoreStats};
use docket_core::audit::AuditEntry;
use sqlx::SqlitePool;

use super::audit::{PendingAudit, insert_audit};
use super::writer::{Args, Head, Row, Sql, Write, bind, is_unique_violation, write_error};
use crate::rows::{self, TOKEN_COLUMNS, db_error, parse_time, time_text, to_unsigned};

/// Saves a token's record and the audit of its creation.
#[derive(Debug)]
pub(super) struct CreateToken {
    token: ApiToken,
    audit: PendingAudit,
}

impl CreateToken {
    pub(super) fn new(token: ApiToken, audit: Vec<AuditEntry>) -> Result<Self, StoreError> {
        Ok(Self { token, audit: PendingAudit::new(audit)? })
    }
}

static CREATE_TOKEN: Sql = Sql::new(
    concat!(
        "INSERT INTO api_tokens (id, hash, person, agent, name, created_by, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?); ",
        insert_audit!(),
        "; "
    ),
    0,
);

impl Write for CreateToken {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &CREATE_TOKEN
    }

    fn chain(&mut self, head: &mut Head) -> Result<(), StoreError> {
        self.audit.chain(head)
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        let token = &self.token;
        bind(args, &token.id)?;
        bind(args, &token.hash)?;
        bind(args, token.person.as_str())?;
        bind(args, token.agent.as_deref())?;
        bind(args, &token.name)?;
        bind(args, &token.created_by)?;
        bind(args, time_text(token.created_at))?;
        bind(args, token.expires_at.map(time_text))?;
        bind(args, self.audit.json())
    }

    fn output(self, _: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }

    fn error(&self, error: rusqlite::Error) -> StoreError {
        if is_unique_violation(&error) { rows::token_exists() } else { write_error(error) }
    }
}

/// Revokes a token (unless it already is) with the audit of it.
#[derive(Debug)]
pub(super) struct RevokeToken {
    id: String,
    revocation: Revocation,
    audit: PendingAudit,
}

impl RevokeToken {
    pub(super) fn new(id: &str, revocation: &Revocation, audit: Vec<AuditEntry>) -> Result<Self, StoreError> {
        Ok(Self { id: id.to_owned(), revocation: revocation.clone(), audit: PendingAudit::new(audit)? })
    }
}

static REVOKE_TOKEN: Sql = Sql::new(
    concat!(
        "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL; ",
        insert_audit!(),
        "; "
    ),
    0,
);

impl Write for RevokeToken {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &REVOKE_TOKEN
    }

    fn chain(&mut self, head: &mut Head) -> Result<(), StoreError> {
        self.audit.chain(head)
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, time_text(self.revocation.at))?;
        bind(args, &self.revocation.by)?;
        bind(args, &self.id)?;
        bind(args, self.audit.json())
    }

    fn output(self, _: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Records a token's last use.
#[derive(Debug)]
pub(super) struct TokenUsed {
    pub(super) id: String,
    pub(super) at: jiff::Timestamp,
}

static TOKEN_USED: Sql = Sql::new("UPDATE api_tokens SET last_used_at = ? WHERE id = ?; ", 0);

impl Write for TokenUsed {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &TOKEN_USED
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, time_text(self.at))?;
        bind(args, &self.id)
    }

    fn output(self, _: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A token's record by its hash or its id (`column`).
pub(super) async fn token(reader: &SqlitePool, column: TokenKey, key: &str) -> Result<Option<ApiToken>, StoreError> {
    let sql = match column {
        TokenKey::Hash => format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?"),
        TokenKey::Id => format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?"),
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(reader).await.map_err(db_error)?;
    row.as_ref().map(rows::api_token).transpose()
}

/// Every token's record, newest first.
pub(super) async fn tokens(reader: &SqlitePool) -> Result<Vec<ApiToken>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(reader).await.map_err(db_error)?;
    found.iter().map(rows::api_token).collect()
}

/// Which column finds a token.
#[derive(Clone, Copy, Debug)]
pub(super) enum TokenKey {
    /// The SHA-256 of the token.
    Hash,
    /// Its public id.
    Id,
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
