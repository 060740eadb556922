//! The `sql` action: one statement against a named database, values only as bind parameters,
//! read-only unless it says `access: write`.

use docket_core::catalog::template::Template;
use docket_core::{ActionSpec, ActionView, Detail, Duration, ParamValue, Params};
use serde_json::json;

/// What a statement may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Only read, in a read-only transaction: a report.
    Read,
    /// Change rows: planned in a transaction that is rolled back, run only if it changes the
    /// planned number of rows.
    Write,
}

impl Access {
    /// As written in workflow files.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// `sql: {database, statement, args, timeout, access, max_rows_changed}`.
#[derive(Clone, Debug)]
pub struct SqlAction {
    /// The name of a database under `databases`.
    pub database: String,
    /// Exactly one statement, with `$1`, `$2`, … placeholders.
    pub statement: String,
    /// One bind parameter each, in order.
    pub args: Vec<Template>,
    /// Cancelled on the server after this long (else the database's `statement_timeout`).
    pub timeout: Option<Duration>,
    /// Read (the default) or write.
    pub access: Access,
    /// For a write, how far the rows it changes when it runs may differ from the planned count
    /// (0, the default, means it must be exactly the planned count).
    pub max_rows_changed: Option<u64>,
}

/// One bind parameter's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// An integer parameter, bound as a number.
    Int(i64),
    /// A boolean parameter, bound as a boolean.
    Bool(bool),
    /// Text, bound as text.
    Text(String),
}

impl SqlAction {
    /// The arguments rendered with `params`: an argument that is exactly one `{{param}}` keeps
    /// the parameter's type; any other is text.
    pub fn render_args(&self, params: &Params) -> Vec<Arg> {
        self.args
            .iter()
            .map(|template| {
                let mut names = template.placeholders();
                if let (Some(only), None) = (names.next(), names.next())
                    && template.to_string() == format!("{{{{{only}}}}}")
                {
                    return match params.get(only) {
                        Some(ParamValue::Int(i)) => Arg::Int(*i),
                        Some(ParamValue::Bool(b)) => Arg::Bool(*b),
                        Some(ParamValue::Str(s)) => Arg::Text(s.clone()),
                        None => Arg::Text(String::new()),
                    };
                }
                Arg::Text(template.render(params))
            })
            .collect()
    }
}

impl Arg {
    /// The value as approvers read it (text in quotes, so `''` and `'1'` are told apart).
    pub fn shown(&self) -> String {
        match self {
            Arg::Int(i) => i.to_string(),
            Arg::Bool(b) => b.to_string(),
            Arg::Text(t) => format!("'{}'", t.replace('\'', "''")),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Arg::Int(i) => json!(i),
            Arg::Bool(b) => json!(b),
            Arg::Text(t) => json!(t),
        }
    }
}

impl ActionSpec for SqlAction {
    fn kind(&self) -> &'static str {
        "sql"
    }

    fn templates(&self) -> Vec<&Template> {
        self.args.iter().collect()
    }

    /// The database, the statement and each argument's value, as they will be sent.
    fn describe(&self, params: &Params) -> ActionView {
        let args = self.render_args(params);
        let statement = self.statement.trim().to_owned();
        let one_line = statement.split_whitespace().collect::<Vec<_>>().join(" ");
        let shown: Vec<String> = args.iter().map(Arg::shown).collect();
        let summary = if shown.is_empty() {
            format!("{}: {one_line}", self.database)
        } else {
            format!("{}: {one_line} [{}]", self.database, shown.join(", "))
        };
        let mut details = vec![
            Detail::text("Database", &self.database),
            Detail::text("Access", self.access.as_str()),
            Detail::code("Statement", &statement),
        ];
        for (n, arg) in shown.iter().enumerate() {
            details.push(Detail::code(format!("${}", n + 1), arg));
        }
        if let Some(timeout) = self.timeout {
            details.push(Detail::text("Time limit", timeout.to_string()));
        }
        let document = json!({
            "database": self.database,
            "statement": statement,
            "args": args.iter().map(Arg::json).collect::<Vec<_>>(),
            "access": self.access.as_str(),
            "max_rows_changed": self.max_rows_changed,
        });
        ActionView { summary, details, document }
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// A write plans itself: it runs in a transaction that is rolled back, and the plan keeps
    /// how many rows it changed.
    fn plans_itself(&self) -> bool {
        self.access == Access::Write
    }
}
