//! Docket's [`Store`] on sqlx: [`SqliteStore`] (the default, one file, one process) and
//! [`PgStore`] (PostgreSQL, shared by several replicas). Both keep the same tables, apply their
//! own embedded migrations when opened, and write a command's ticket, events, audit records,
//! outbox rows and queue change in one transaction.
//!
//! - `migrate`: the list of migrations and the runner that applies them.
//! - `rows`: conversions between core values and columns, shared by both backends.
//! - `projection`: the rows derived from events (approvals, comments, runs, steps).
//! - `processes`: the rows of step process groups recorded as running, per host.
//! - `results`: the rows of step results (a report's table, the rows a write changed).
//! - `sqlite`, `postgres`: the two implementations, one module per area.
//!
//! Timestamps people read are stored as RFC 3339 text exactly as `jiff` prints them, so they
//! read back to the same instant; times the store compares (deadlines, leases, retries) are
//! integer nanoseconds since the Unix epoch in `*_ns` columns.

mod migrate;
mod postgres;
mod processes;
mod projection;
mod results;
mod rows;
mod settle;
mod sqlite;

use std::sync::Arc;

pub use docket_app::{Store, StoreError};
pub use migrate::SCHEMA_VERSION;
pub use postgres::notify::{CHANNEL as NOTIFY_CHANNEL, LISTENER_NAME};
pub use postgres::{DEFAULT_MAX_CONNECTIONS, PgStore};
pub use sqlite::SqliteStore;

/// Opens the store a database URL names: `sqlite:` URLs (`sqlite://docket.db`,
/// `sqlite::memory:`) open a [`SqliteStore`], `postgres:` and `postgresql:` URLs connect a
/// [`PgStore`]. Migrations are applied before it returns.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open_url(url).await?))
    } else {
        Err(StoreError::Unavailable(format!(
            "unsupported database URL `{}`: expected sqlite:… or postgres://…",
            rows::redact_url(url)
        )))
    }
}
