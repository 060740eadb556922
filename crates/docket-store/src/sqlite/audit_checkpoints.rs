//! Signed checkpoints of the audit chain on SQLite: written through the writer like every
//! other write, read from the reader pool.

use docket_app::StoreError;
use docket_core::checkpoint::Checkpoint;
use sqlx::SqlitePool;

use super::writer::{Args, Row, Sql, Write, bind};
use crate::rows::{self, db_error, time_text, to_i64};

/// Keeps one checkpoint (once).
#[derive(Debug)]
pub(super) struct Save(pub(super) Checkpoint);

/// Parameters: seq, hash, at, key, signature.
static SAVE: Sql = Sql::new(
    "INSERT INTO audit_checkpoints (seq, hash, at, key, signature) VALUES (?, ?, ?, ?, ?) \
     ON CONFLICT DO NOTHING; ",
    0,
);

impl Write for Save {
    type Output = ();

    fn sql(&self) -> &'static Sql {
        &SAVE
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, to_i64(self.0.seq, "checkpoint seq")?)?;
        bind(args, self.0.hash.clone())?;
        bind(args, time_text(self.0.at))?;
        bind(args, self.0.key.clone())?;
        bind(args, self.0.signature.clone())
    }

    fn output(self, _rows: Vec<Row>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Every checkpoint, by the head it names.
pub(super) async fn read(reader: &SqlitePool) -> Result<Vec<Checkpoint>, StoreError> {
    let found = sqlx::query("SELECT seq, hash, at, key, signature FROM audit_checkpoints ORDER BY seq, at")
        .fetch_all(reader)
        .await
        .map_err(db_error)?;
    found.iter().map(rows::checkpoint).collect()
}

/// The chain's last record's seq and hash.
pub(super) async fn head(reader: &SqlitePool) -> Result<Option<(u64, String)>, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(reader)
        .await
        .map_err(db_error)?;
    row.as_ref().map(rows::audit_head).transpose()
}
