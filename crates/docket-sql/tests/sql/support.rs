//! A scratch database on each engine, reached both by Docket (through `docket.yaml`) and by the
//! test itself (a pool of its own, to set up data and look at what a step did), and a test app
//! whose `databases` section names it `shop`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use docket_app::StoredResult;
use docket_core::result::{Cell, Table};
use docket_core::ticket::Origin;
use docket_core::{Actor, Ticket, TicketState};
use docket_testkit::{TestApp, base_plugins};
use serde_json::json;
use sqlx::{MySqlPool, PgPool, Row as _, SqlitePool};

const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/mysql";

/// Which engine a scratch database runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Postgres,
    MariaDb,
    Sqlite,
}

enum Pool {
    Postgres(PgPool),
    MariaDb(MySqlPool),
    Sqlite(SqlitePool),
}

/// A scratch database, dropped with the value.
pub(crate) struct Db {
    pub(crate) kind: Kind,
    /// The URL Docket is given.
    pub(crate) url: String,
    pool: Pool,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

fn scratch_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "docket_sql_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_micros())
    )
}

fn server_url(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (server, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{server}/{name}")
}

impl Db {
    pub(crate) async fn postgres() -> Self {
        let admin_url = server_url("DOCKET_TEST_POSTGRES_URL", POSTGRES_URL);
        let admin = PgPool::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is not reachable at {admin_url}: {e}; start it (cargo xtask test does)")
        });
        let name = scratch_name();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let pool = PgPool::connect(&url).await.unwrap();
        Self { kind: Kind::Postgres, url, pool: Pool::Postgres(pool), admin: Some((admin_url, name)), _dir: None }
    }

    pub(crate) async fn mariadb() -> Self {
        let admin_url = server_url("DOCKET_TEST_MYSQL_URL", MYSQL_URL);
        let admin = MySqlPool::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("MariaDB is not reachable at {admin_url}: {e}; start it (cargo xtask test does)")
        });
        let name = scratch_name();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let pool = MySqlPool::connect(&url).await.unwrap();
        Self { kind: Kind::MariaDb, url, pool: Pool::MariaDb(pool), admin: Some((admin_url, name)), _dir: None }
    }

    pub(crate) async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        let url = format!("sqlite://{}", path.display());
        Self { kind: Kind::Sqlite, url, pool: Pool::Sqlite(pool), admin: None, _dir: Some(dir) }
    }

    /// Runs `sql` (one statement) as the test.
    pub(crate) async fn exec(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.pool {
            Pool::Postgres(p) => drop(sqlx::query(sql).execute(p).await.unwrap()),
            Pool::MariaDb(p) => drop(sqlx::query(sql).execute(p).await.unwrap()),
            Pool::Sqlite(p) => drop(sqlx::query(sql).execute(p).await.unwrap()),
        }
    }

    /// The first column of the first row of `sql`, as text (NULL as `None`).
    pub(crate) async fn text(&self, sql: &str) -> Option<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.pool {
            Pool::Postgres(p) => sqlx::query(sql).fetch_one(p).await.unwrap().get(0),
            Pool::MariaDb(p) => sqlx::query(sql).fetch_one(p).await.unwrap().get(0),
            Pool::Sqlite(p) => sqlx::query(sql).fetch_one(p).await.unwrap().get(0),
        }
    }

    /// The test's own PostgreSQL pool.
    pub(crate) fn pg(&self) -> &PgPool {
        match &self.pool {
            Pool::Postgres(p) => p,
            _ => panic!("not PostgreSQL"),
        }
    }

    /// `accounts (id, owner, status, note)` with four rows: two of alice's, one of bob's, one of
    /// carol's.
    pub(crate) async fn accounts(&self) {
        self.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner VARCHAR(40), status VARCHAR(40), note TEXT)")
            .await;
        self.exec(
            "INSERT INTO accounts (id, owner, status) VALUES \
             (1, 'alice', 'open'), (2, 'alice', 'open'), (3, 'bob', 'open'), (4, 'carol', 'open')",
        )
        .await;
    }

    /// A running app whose database `shop` is this one, with `workflows` (file name, contents).
    pub(crate) async fn app(&self, workflows: &[(String, String)]) -> TestApp {
        let config = format!(
            r#"server: {{ listen: 127.0.0.1:0, public_url: http://127.0.0.1:8080 }}
storage: {{ url: sqlite://./docket.db }}
catalog: ./workflows
timezone: UTC
ticket_prefix: SQL
databases:
  shop: {{ url: "{url}", statement_timeout: 2s, max_rows: 1000 }}
people:
  - {{ id: alice, name: Alice Ng, email: alice@example.com, groups: [dev] }}
  - {{ id: bob, name: Bob Ruiz, email: bob@example.com, groups: [sre] }}
groups:
  - {{ id: dev }}
  - {{ id: sre }}
policies:
  - name: reports
    when: plan.rows_changed == 0
    auto_approve: true
  - name: updates
    when: "true"
    stages:
      - {{ name: sre, from: [group:sre], count: 1 }}
"#,
            url = self.url
        );
        let files: Vec<(&str, &str)> = workflows.iter().map(|(n, c)| (n.as_str(), c.as_str())).collect();
        TestApp::builder()
            .config(&config)
            .plugins(base_plugins().with(docket_sql::plugins()))
            .runner(|config| Arc::new(docket_sql::runner(config)))
            .workflows(&files)
            .start()
            .await
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.admin.take() else { return };
        let kind = self.kind;
        // On a thread of its own: Drop may run inside the test's runtime, which cannot block.
        let dropped = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if kind == Kind::Postgres {
                    if let Ok(admin) = PgPool::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await;
                    }
                } else if let Ok(admin) = MySqlPool::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                        .execute(&admin)
                        .await;
                }
            });
        });
        let _ = dropped.join();
    }
}

/// A workflow `id` with one `sql` step on `shop`; `more` is added to the step's `sql` map
/// (`access: write`, `timeout: 1s`). Parameters `a` and `b` (text, empty by default) and `n`
/// (an integer, 0 by default).
pub(crate) fn workflow(id: &str, statement: &str, args: &[&str], more: &str) -> (String, String) {
    let args = args.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
    let text = format!(
        r#"id: {id}
title: {id}
params:
  - {{ name: a, type: string, required: false, default: "" }}
  - {{ name: b, type: string, required: false, default: "" }}
  - {{ name: n, type: integer, required: false, default: 0 }}
steps:
  - name: query
    sql:
      database: shop
      statement: {statement:?}
      args: [{args}]
{more}
"#
    );
    (format!("{id}.yaml"), text)
}

/// Asks for `workflow` as alice with text parameters `params`, and waits until the ticket
/// settles (succeeded, failed, waiting for approval, or ended before running).
pub(crate) async fn request(t: &TestApp, workflow: &str, params: &[(&str, &str)]) -> Ticket {
    let params = params.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    let ticket =
        t.app.request(&Actor::person("alice"), &workflow.into(), params, Origin::default()).await.expect("requested");
    settle(t, &ticket).await
}

/// Waits until `ticket` stops moving on its own.
pub(crate) async fn settle(t: &TestApp, ticket: &Ticket) -> Ticket {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = t.app.ticket(&ticket.id).await.unwrap();
        if now.state.is_terminal() || now.state == TicketState::AwaitingApproval {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} is still {}", now.id, now.state);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The step's failure message, or the ticket's state when it did not fail.
pub(crate) fn failure(ticket: &Ticket) -> String {
    ticket
        .last_run()
        .and_then(|r| r.steps.last())
        .and_then(|s| match &s.outcome {
            Some(docket_core::ticket::StepOutcome::Failed { message, .. }) => Some(message.clone()),
            _ => None,
        })
        .unwrap_or_else(|| format!("not failed: {}", ticket.state))
}

/// The one result ticket `ticket` kept.
pub(crate) async fn result(t: &TestApp, ticket: &Ticket) -> StoredResult {
    let results = t.app.results(&ticket.id).await.unwrap();
    assert_eq!(results.len(), 1, "{results:#?}");
    results.into_iter().next().unwrap()
}

/// The table of the one result ticket `ticket` kept.
pub(crate) async fn table(t: &TestApp, ticket: &Ticket) -> Table {
    assert_eq!(ticket.state, TicketState::Succeeded, "{}", failure(ticket));
    result(t, ticket).await.result.table.expect("a table")
}

/// A cell of text.
pub(crate) fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}
