//! A fresh store per test: SQLite in a temporary directory, or PostgreSQL in a database of its
//! own (created on the server from `DOCKET_TEST_POSTGRES_URL`, dropped when the test ends, even
//! when it fails). Also gives tests plain SQL access to the same database.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use docket_app::Store;
use docket_store::{PgStore, SqliteStore};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, SqlitePool};

/// Where PostgreSQL is when the environment does not say.
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The backend under test, with what is needed to reach its database directly.
enum Backend {
    Sqlite { dir: tempfile::TempDir, raw: SqlitePool },
    Postgres { db: TestDatabase, raw: PgPool },
}

/// A store to test, on a database nothing else uses.
pub(crate) struct Harness {
    pub(crate) store: Arc<dyn Store>,
    backend: Backend,
}

impl Harness {
    pub(crate) async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docket.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let raw = SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        Self { store: Arc::new(store), backend: Backend::Sqlite { dir, raw } }
    }

    pub(crate) async fn postgres() -> Self {
        let db = TestDatabase::create().await;
        let store = PgStore::connect(&db.url).await.unwrap();
        let raw = PgPool::connect(&db.url).await.unwrap();
        Self { store: Arc::new(store), backend: Backend::Postgres { db, raw } }
    }

    pub(crate) fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// Opens a second store on the same database, as a restarted server would.
    pub(crate) async fn reopen(&self) -> Arc<dyn Store> {
        match &self.backend {
            Backend::Sqlite { dir, .. } => Arc::new(SqliteStore::open(&dir.path().join("docket.db")).await.unwrap()),
            Backend::Postgres { db, .. } => Arc::new(PgStore::connect(&db.url).await.unwrap()),
        }
    }

    /// A connection of its own to the PostgreSQL database (panics on SQLite).
    pub(crate) async fn pg_connection(&self) -> sqlx::PgConnection {
        use sqlx::Connection as _;
        match &self.backend {
            Backend::Postgres { db, .. } => sqlx::PgConnection::connect(&db.url).await.unwrap(),
            Backend::Sqlite { .. } => panic!("a PostgreSQL connection asked of a SQLite store"),
        }
    }

    /// The PostgreSQL database's URL (panics on SQLite).
    pub(crate) fn pg_url(&self) -> String {
        match &self.backend {
            Backend::Postgres { db, .. } => db.url.clone(),
            Backend::Sqlite { .. } => panic!("a PostgreSQL URL asked of a SQLite store"),
        }
    }

    /// Runs a statement written in SQL both backends accept; returns the rows it changed.
    pub(crate) async fn execute(&self, sql: &'static str) -> u64 {
        match &self.backend {
            Backend::Sqlite { raw, .. } => sqlx::query(sql).execute(raw).await.unwrap().rows_affected(),
            Backend::Postgres { raw, .. } => sqlx::query(sql).execute(raw).await.unwrap().rows_affected(),
        }
    }

    /// The integer a query (in SQL both backends accept) returns.
    pub(crate) async fn int(&self, sql: &'static str) -> i64 {
        match &self.backend {
            Backend::Sqlite { raw, .. } => sqlx::query_scalar(sql).fetch_one(raw).await.unwrap(),
            Backend::Postgres { raw, .. } => sqlx::query_scalar(sql).fetch_one(raw).await.unwrap(),
        }
    }

    /// The text column rows a query returns (in SQL both backends accept), each row's columns
    /// joined with `|`, NULL as `-`.
    pub(crate) async fn texts(&self, sql: &'static str) -> Vec<String> {
        use sqlx::Row as _;
        fn join(values: Vec<Option<String>>) -> String {
            values.into_iter().map(|v| v.unwrap_or_else(|| "-".into())).collect::<Vec<_>>().join("|")
        }
        match &self.backend {
            Backend::Sqlite { raw, .. } => sqlx::query(sql)
                .fetch_all(raw)
                .await
                .unwrap()
                .iter()
                .map(|r| join((0..r.len()).map(|i| r.try_get::<Option<String>, _>(i).unwrap()).collect()))
                .collect(),
            Backend::Postgres { raw, .. } => sqlx::query(sql)
                .fetch_all(raw)
                .await
                .unwrap()
                .iter()
                .map(|r| join((0..r.len()).map(|i| r.try_get::<Option<String>, _>(i).unwrap()).collect()))
                .collect(),
        }
    }
}

/// A PostgreSQL database made for one test and dropped with it.
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let admin_url = std::env::var("DOCKET_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let name = format!(
            "docket_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            jiff::Timestamp::now().as_microsecond() % 1_000_000
        );
        let admin = PgPoolOptions::new().acquire_timeout(Duration::from_secs(5)).connect(&admin_url).await;
        let admin = admin.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {admin_url}: {e}\n\
                 The PostgreSQL contract tests need a server (CI starts one); start it, or point \
                 DOCKET_TEST_POSTGRES_URL at one."
            )
        });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
        admin.close().await;
        let url = with_database(&admin_url, &name);
        Self { admin_url, name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Runs on a thread of its own: Drop may run inside the test's runtime, which cannot block.
        let dropped = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok(admin) = PgPool::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await;
                    admin.close().await;
                }
            });
        });
        let _ = dropped.join();
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (server, _) =
        base.rsplit_once('/').filter(|(s, _)| s.contains("//") && !s.ends_with('/')).unwrap_or((base, ""));
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}
