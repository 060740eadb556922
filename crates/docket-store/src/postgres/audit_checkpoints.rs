//! Signed checkpoints of the audit chain on PostgreSQL.

use docket_app::StoreError;
use docket_core::checkpoint::Checkpoint;
use sqlx::PgPool;

use crate::rows::{self, db_error, time_text, to_i64};

/// Keeps one checkpoint (once).
pub(super) async fn save(pool: &PgPool, checkpoint: &Checkpoint) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, at, key, signature) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(to_i64(checkpoint.seq, "checkpoint seq")?)
    .bind(&checkpoint.hash)
    .bind(time_text(checkpoint.at))
    .bind(&checkpoint.key)
    .bind(&checkpoint.signature)
    .execute(pool)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Every checkpoint, by the head it names.
pub(super) async fn read(pool: &PgPool) -> Result<Vec<Checkpoint>, StoreError> {
    let found = sqlx::query("SELECT seq, hash, at, key, signature FROM audit_checkpoints ORDER BY seq, at")
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    found.iter().map(rows::checkpoint).collect()
}

/// The chain's last record's seq and hash.
pub(super) async fn head(pool: &PgPool) -> Result<Option<(u64, String)>, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(pool)
        .await
        .map_err(db_error)?;
    row.as_ref().map(rows::audit_head).transpose()
}
