//! Reading a `sql` action from a workflow file: `sql: {database, statement, args, timeout,
//! access, max_rows_changed}`. Exactly one statement; values only through `args` as `$1`, `$2`,
//! … (never `{{…}}` in the statement); the database must be declared under `databases`.

use docket_config::plugin::{
    Fields, Node, Report, StepContext, StepKind, duration, ident, int_in, list_of, nonempty, template, text,
};
use docket_core::Action;

use crate::action::{Access, SqlAction};
use crate::section::SECTION;
use crate::statement::{highest_placeholder, statement_count};

/// The `sql` step kind's decoder.
#[derive(Clone, Copy, Debug, Default)]
pub struct SqlKind;

impl StepKind for SqlKind {
    fn name(&self) -> &'static str {
        "sql"
    }

    fn decode(&self, node: &Node, cx: &mut StepContext<'_>) -> Option<Action> {
        sql(node, cx).map(Action::new)
    }
}

fn sql(node: &Node, cx: &mut StepContext<'_>) -> Option<SqlAction> {
    let keys = ["database", "statement", "args", "timeout", "access", "max_rows_changed"];
    let fields = Fields::open(node, "sql action", &keys, cx.report())?;
    let database = fields.req("database", cx.report(), ident);
    if let (Some(name), Some(at)) = (&database, fields.get("database")) {
        cx.refer(SECTION, "database", name.clone(), at.pos);
    }
    let statement = fields.req("statement", cx.report(), nonempty);
    let params = cx.params().to_vec();
    let args =
        fields.opt("args", cx.report(), |n, r| list_of(n, "values", r, |n, r| template(n, &params, r))).or(Vec::new());
    let timeout = fields.opt("timeout", cx.report(), duration).optional();
    let access = fields.opt("access", cx.report(), access).or(Access::Read);
    let max_rows_changed = fields.opt("max_rows_changed", cx.report(), |n, r| int_in(n, 0, i64::MAX, r)).optional();
    let (statement, args, access, max_rows_changed) = (statement?, args?, access?, max_rows_changed?);
    let at = fields.get("statement").map_or(node.pos, |n| n.pos);
    let report = cx.report();
    if statement.contains("{{") {
        report.error_hint(
            at,
            "a SQL statement takes values only as bind parameters, not `{{…}}`",
            "write $1, $2, … in the statement and list the values under `args`",
        );
        return None;
    }
    match statement_count(&statement) {
        1 => {}
        0 => {
            report.error(at, "the statement is only comments");
            return None;
        }
        n => {
            report.error_hint(
                at,
                format!("`statement` holds {n} statements; a step runs exactly one"),
                "split it into steps",
            );
            return None;
        }
    }
    let highest = highest_placeholder(&statement);
    if highest > args.len() {
        let given = args.len();
        report.error(at, format!("the statement uses ${highest} but `args` has {given} value{}", plural(given)));
        return None;
    }
    if max_rows_changed.is_some() && access == Access::Read {
        let at = fields.get("max_rows_changed").map_or(node.pos, |n| n.pos);
        report.error_hint(at, "`max_rows_changed` is for writes", "add `access: write`, or remove it");
        return None;
    }
    Some(SqlAction { database: database?, statement, args, timeout: timeout?, access, max_rows_changed })
}

fn access(node: &Node, report: &mut Report) -> Option<Access> {
    match text(node, report)?.as_str() {
        "read" => Some(Access::Read),
        "write" => Some(Access::Write),
        other => {
            report.error_hint(
                node.pos,
                format!("`access` is `read` or `write`, not `{other}`"),
                "reports read; updates write",
            );
            None
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
