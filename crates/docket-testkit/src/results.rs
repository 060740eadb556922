//! A step kind for tests that leaves a result, as a report would: a workflow step `result: {}`
//! runs at once and keeps the result the test gave its runner (a table, rows changed). The web,
//! the API, the CLI and the chats show any kind's result the same way, so their tests need no
//! database.

use std::sync::Arc;

use async_trait::async_trait;
use docket_app::{LogStream, StepJob, StepLog, StepRunner};
use docket_config::plugin::{Node, Plugins, StepContext, StepKind};
use docket_core::catalog::template::Template;
use docket_core::result::{Cell, Column, Table};
use docket_core::ticket::StepOutcome;
use docket_core::{Action, ActionSpec, ActionView, Params, StepResult};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The kind's decoder, for [`crate::TestAppBuilder::plugins`].
pub fn plugins() -> Plugins {
    Plugins::new().step_kind(Arc::new(ResultKind))
}

/// A runner keeping `result` when run.
pub fn runner(result: StepResult) -> Arc<dyn StepRunner> {
    Arc::new(ResultRunner(result))
}

/// A sales report of `rows` rows kept out of `total` (cut when fewer): region, a total as an
/// exact numeric, a count, a day, and a note that is NULL on every third row and holds a comma,
/// a quote and a line break on every fifth.
pub fn sales(rows: usize, total: u64) -> Table {
    let column = |name: &str, kind: &str| Column { name: name.into(), kind: kind.into() };
    Table {
        columns: vec![
            column("region", "text"),
            column("total", "numeric"),
            column("orders", "int8"),
            column("day", "date"),
            column("note", "text"),
        ],
        rows: (0..rows)
            .map(|i| {
                let note = match i {
                    i if i % 3 == 2 => Cell::Null,
                    i if i % 5 == 4 => Cell::Text(format!("late, \"rush\"\norder {i}")),
                    i => Cell::Text(format!("ok {i}")),
                };
                vec![
                    Cell::Text(format!("region-{i:03}")),
                    Cell::Text(format!("{}.50", 1000 + i)),
                    Cell::Int(i as i64),
                    Cell::Text("2026-11-24".into()),
                    note,
                ]
            })
            .collect(),
        row_count: total,
        truncated: total > rows as u64,
    }
}

#[derive(Debug)]
struct Report;

impl ActionSpec for Report {
    fn kind(&self) -> &'static str {
        "result"
    }

    fn templates(&self) -> Vec<&Template> {
        Vec::new()
    }

    fn describe(&self, _: &Params) -> ActionView {
        ActionView { summary: "report the sales".into(), details: Vec::new(), document: json!({}) }
    }
}

struct ResultKind;

impl StepKind for ResultKind {
    fn name(&self) -> &'static str {
        "result"
    }

    fn decode(&self, _: &Node, _: &mut StepContext<'_>) -> Option<Action> {
        Some(Action::new(Report))
    }
}

struct ResultRunner(StepResult);

#[async_trait]
impl StepRunner for ResultRunner {
    fn kind(&self) -> &'static str {
        "result"
    }

    async fn run(&self, _: StepJob<'_>, log: &dyn StepLog, _: CancellationToken) -> StepOutcome {
        if let Some(table) = &self.0.table {
            log.line(LogStream::System, &table.count_text());
        }
        log.result(self.0.clone());
        StepOutcome::Succeeded
    }
}
