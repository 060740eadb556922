//! The `sql` step kind, everything about it in one place: the `databases` section that names
//! the databases (`section`), the action and how it reads (`action`), how it is read from a
//! workflow file (`decode`), the text of a statement (`statement`: where statements end, which
//! `$n` it uses, placeholders for other engines), the sample of the rows a planned write changes
//! (`sample`), and the runner for PostgreSQL, MySQL/MariaDB and SQLite (`runner`).

mod action;
mod decode;
mod runner;
mod sample;
mod section;
mod statement;

use std::sync::Arc;

use docket_config::Config;
use docket_config::plugin::Plugins;

pub use action::{Access, Arg, SqlAction};
pub use decode::SqlKind;
pub use docket_core::result::{Cell, Column, Table};
pub use runner::SqlRunner;
pub use section::{
    DEFAULT_MAX_ROWS, DEFAULT_STATEMENT_TIMEOUT, Database, Databases, DatabasesSection, Engine, SECTION,
};

/// The `sql` kind's decoder and the `databases` section, for the configuration loader.
pub fn plugins() -> Plugins {
    Plugins::new().step_kind(Arc::new(SqlKind)).section(Arc::new(DatabasesSection))
}

/// The runner for the databases `config` names (none when it has no `databases` section).
pub fn runner(config: &Config) -> SqlRunner {
    SqlRunner::new(config.sections.get::<Databases>(SECTION).cloned().unwrap_or_default())
}
