//! The `databases` section of `docket.yaml`: each database `sql` steps may name, by name, as
//! a URL alone or with settings:
//!
//! ```yaml
//! databases:
//!   reporting: ${REPORTING_URL}          # postgres://, mysql:// (MySQL and MariaDB), sqlite://
//!   orders: { url: ${ORDERS_URL}, statement_timeout: 30s, max_rows: 5000 }
//! ```
//!
//! URLs are secrets (they often hold a password): masked wherever Docket writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use docket_config::Secret;
use docket_config::plugin::{
    Decoded, Fields, Node, Report, Section, SectionContext, Value, duration, excerpt, ident, int_in, open_map, text,
};
use docket_core::Duration;

/// How long a statement may run when the database names no `statement_timeout`.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Rows kept from a report when the database names no `max_rows`.
pub const DEFAULT_MAX_ROWS: usize = 1000;

/// Which engine a database runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL (`postgres://`, `postgresql://`).
    Postgres,
    /// MySQL or MariaDB (`mysql://`, `mariadb://`).
    MySql,
    /// SQLite (`sqlite://path`).
    Sqlite,
}

impl Engine {
    /// The engine's name, for people.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::MySql => "MySQL/MariaDB",
            Engine::Sqlite => "SQLite",
        }
    }
}

/// One database.
#[derive(Clone, Debug)]
pub struct Database {
    /// Its name in workflows.
    pub name: String,
    /// How to reach it (a secret).
    pub url: Secret,
    /// Its engine, from the URL's scheme.
    pub engine: Engine,
    /// A SQLite database's file, resolved against the configuration's folder.
    pub sqlite_path: Option<PathBuf>,
    /// How long one statement may run.
    pub statement_timeout: Duration,
    /// Rows kept from a report.
    pub max_rows: usize,
}

/// Every configured database, by name.
#[derive(Clone, Debug, Default)]
pub struct Databases(pub BTreeMap<String, Database>);

impl Databases {
    /// The database `name`.
    pub fn get(&self, name: &str) -> Option<&Database> {
        self.0.get(name)
    }
}

/// The `databases` section's reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct DatabasesSection;

/// The section's key; `sql` steps refer to its names.
pub const SECTION: &str = "databases";

impl Section for DatabasesSection {
    fn key(&self) -> &'static str {
        SECTION
    }

    fn reloads(&self) -> bool {
        true
    }

    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let before = cx.report().error_count();
        let Some(entries) = open_map(node, "database names to URLs", cx.report()) else { return Decoded::invalid() };
        let mut names = BTreeSet::new();
        let mut out = BTreeMap::new();
        let folder = cx.folder().to_path_buf();
        for (written, key, value) in entries {
            names.insert(written.to_owned());
            let name = ident(key, cx.report());
            let database = database(value, &folder, cx.report());
            if let (Some(name), Some(mut database)) = (name, database) {
                cx.secret(&database.url);
                database.name.clone_from(&name);
                out.insert(name, database);
            }
        }
        let valid = cx.report().error_count() == before;
        let decoded = if valid { Decoded::value(Databases(out)) } else { Decoded::invalid() };
        decoded.with_names(names)
    }
}

/// `url` or `{url, statement_timeout, max_rows}`.
fn database(node: &Node, folder: &Path, report: &mut Report) -> Option<Database> {
    if !matches!(node.value, Value::Map(_)) {
        let url = url(node, report)?;
        return finish(url, folder, DEFAULT_STATEMENT_TIMEOUT, DEFAULT_MAX_ROWS, node, report);
    }
    let fields = Fields::open(node, "database", &["url", "statement_timeout", "max_rows"], report)?;
    let url = fields.req("url", report, url);
    let timeout = fields.opt("statement_timeout", report, positive_duration).or(DEFAULT_STATEMENT_TIMEOUT);
    let max_rows = fields.opt("max_rows", report, |n, r| int_in(n, 1, 10_000_000, r)).or(DEFAULT_MAX_ROWS);
    let at = fields.get("url").unwrap_or(node);
    finish(url?, folder, timeout?, max_rows?, at, report)
}

fn finish(
    url: String,
    folder: &Path,
    statement_timeout: Duration,
    max_rows: usize,
    at: &Node,
    report: &mut Report,
) -> Option<Database> {
    let engine = engine(&url)?;
    let sqlite_path = match engine {
        Engine::Sqlite => {
            let path = sqlite_file(&url);
            if path.as_os_str().is_empty() {
                report.error_hint(at.pos, "a SQLite URL needs a file", "write sqlite://./reports.db");
                return None;
            }
            Some(if path.is_absolute() { path } else { folder.join(path) })
        }
        _ => None,
    };
    Some(Database { name: String::new(), url: Secret::new(url), engine, sqlite_path, statement_timeout, max_rows })
}

fn engine(url: &str) -> Option<Engine> {
    let scheme = url.split_once("://").map(|(s, _)| s).or_else(|| url.strip_prefix("sqlite:").map(|_| "sqlite"))?;
    match scheme {
        "postgres" | "postgresql" => Some(Engine::Postgres),
        "mysql" | "mariadb" => Some(Engine::MySql),
        "sqlite" => Some(Engine::Sqlite),
        _ => None,
    }
}

/// The file of `sqlite://path?options`.
fn sqlite_file(url: &str) -> PathBuf {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

/// A database URL of a supported engine. The message never shows the URL (it may hold a
/// password), only its scheme.
fn url(node: &Node, report: &mut Report) -> Option<String> {
    let value = text(node, report)?;
    if engine(&value).is_some() && value.len() > "sqlite:".len() {
        return Some(value);
    }
    let scheme =
        value.split_once("://").map_or_else(|| excerpt(&value).chars().take(12).collect(), |(s, _)| s.to_owned());
    report.error_hint(
        node.pos,
        format!("`{scheme}` is not a database Docket can use"),
        "write a postgres://, mysql:// (MySQL and MariaDB) or sqlite:// URL",
    );
    None
}

fn positive_duration(node: &Node, report: &mut Report) -> Option<Duration> {
    let value = duration(node, report)?;
    if value.as_millis() == 0 {
        report.error(node.pos, "must be longer than 0s");
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_come_from_the_scheme() {
        assert_eq!(engine("postgres://u:p@h/db"), Some(Engine::Postgres));
        assert_eq!(engine("postgresql://h/db"), Some(Engine::Postgres));
        assert_eq!(engine("mysql://root@127.0.0.1:3306/test"), Some(Engine::MySql));
        assert_eq!(engine("sqlite://./reports.db"), Some(Engine::Sqlite));
        assert_eq!(engine("oracle://x"), None);
        assert_eq!(sqlite_file("sqlite://./a.db?mode=ro"), PathBuf::from("./a.db"));
    }
}
