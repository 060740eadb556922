//! A PostgreSQL database made for one test (on the server `DOCKET_TEST_POSTGRES_URL` names, or
//! the local one) and dropped with it, even when the test fails.

use std::sync::atomic::{AtomicU64, Ordering};

/// Where PostgreSQL is when the environment does not say.
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database of the test's own.
pub(crate) struct TestDatabase {
    admin_url: String,
    name: String,
    /// Its URL.
    pub(crate) url: String,
}

fn block_on<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(work)
}

impl TestDatabase {
    /// Creates it; fails (never skips) when PostgreSQL cannot be reached.
    pub(crate) fn create() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let admin_url = std::env::var("DOCKET_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let name = format!(
            "docket_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            jiff::Timestamp::now().as_microsecond() % 1_000_000
        );
        block_on(async {
            let admin = sqlx::PgPool::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL is not reachable at {admin_url}: {e}"));
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
            admin.close().await;
        });
        let server = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(server, _)| server);
        let url = format!("{server}/{name}");
        Self { admin_url, name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        block_on(async {
            if let Ok(admin) = sqlx::PgPool::connect(&self.admin_url).await {
                let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await;
                admin.close().await;
            }
        });
    }
}
