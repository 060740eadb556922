//! One connection pool per database, made when a step first needs it and kept. Making a pool
//! connects to nothing; the first statement does, and a database that cannot be reached fails
//! that statement.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tokio::sync::Mutex;

use super::engine::Engine as Pool;
use crate::section::{Database, Engine};

/// Connections per database at most.
const MAX_CONNECTIONS: u32 = 4;
/// How long a statement waits for a connection (or to connect).
const ACQUIRE: Duration = Duration::from_secs(10);

/// The pools, by database name.
#[derive(Debug, Default)]
pub(crate) struct Pools {
    // Held only to look up or insert; making a pool does not wait on the network.
    pools: Mutex<HashMap<String, Pool>>,
}

impl Pools {
    /// The pool for `database`, made on first use.
    pub(crate) async fn get(&self, database: &Database) -> Result<Pool, sqlx::Error> {
        let mut pools = self.pools.lock().await;
        if let Some(pool) = pools.get(&database.name) {
            return Ok(pool.clone());
        }
        let pool = make(database)?;
        pools.insert(database.name.clone(), pool.clone());
        Ok(pool)
    }
}

fn make(database: &Database) -> Result<Pool, sqlx::Error> {
    let url = database.url.expose();
    Ok(match database.engine {
        Engine::Postgres => Pool::Postgres(
            PgPoolOptions::new().max_connections(MAX_CONNECTIONS).acquire_timeout(ACQUIRE).connect_lazy(url)?,
        ),
        Engine::MySql => Pool::MySql(
            MySqlPoolOptions::new().max_connections(MAX_CONNECTIONS).acquire_timeout(ACQUIRE).connect_lazy(url)?,
        ),
        Engine::Sqlite => {
            let path = database.sqlite_path.clone().unwrap_or_default();
            let options = SqliteConnectOptions::new().filename(&path).create_if_missing(false);
            let read = SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE)
                .connect_lazy_with(options.clone().read_only(true));
            let write = SqlitePoolOptions::new().max_connections(1).acquire_timeout(ACQUIRE).connect_lazy_with(options);
            Pool::Sqlite { read, write }
        }
    })
}
