//! What a step does: `exec`, `http`, `sql` and `wait` actions, with every template checked
//! against the workflow's parameters.

use std::collections::BTreeMap;

use docket_core::catalog::template::Template;
use docket_core::catalog::workflow::{Action, ExecAction, HttpAction, JsonTemplate, SqlAction};

use crate::decode::{Fields, duration, excerpt, ident, int_in, list_of, nonempty, open_map, text};
use crate::diagnostic::{Pos, Report};
use crate::env::is_var_name;
use crate::node::{Node, Value};
use crate::scalar::Typed;
use crate::template::template;
use docket_core::text::did_you_mean;

/// The HTTP methods an `http` step may use.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Reads the action `kind` written in `node`. Database names used by `sql` actions are pushed
/// to `databases`, to be checked against the configuration.
pub(crate) fn action(
    kind: &str,
    node: &Node,
    params: &[String],
    databases: &mut Vec<(String, Pos)>,
    report: &mut Report,
) -> Option<Action> {
    match kind {
        "exec" => exec(node, params, report).map(Action::Exec),
        "http" => http(node, params, report).map(Action::Http),
        "sql" => sql(node, params, databases, report).map(Action::Sql),
        _ => duration(node, report).map(Action::Wait),
    }
}

/// `exec: {argv: [...], env, cwd, timeout}`, or just `exec: [argv...]`.
fn exec(node: &Node, params: &[String], report: &mut Report) -> Option<ExecAction> {
    if matches!(node.value, Value::Seq(_)) {
        let argv = argv(node, params, report)?;
        return Some(ExecAction { argv, env: BTreeMap::new(), cwd: None, timeout: None });
    }
    let fields = Fields::open(node, "exec action", &["argv", "env", "cwd", "timeout"], report)?;
    let argv = fields.req("argv", report, |n, r| argv(n, params, r));
    let env = fields.opt("env", report, |n, r| env(n, params, r)).or(BTreeMap::new());
    let cwd = fields.opt("cwd", report, |n, r| template(n, params, r)).optional();
    let timeout = fields.opt("timeout", report, duration).optional();
    Some(ExecAction { argv: argv?, env: env?, cwd: cwd?, timeout: timeout? })
}

fn argv(node: &Node, params: &[String], report: &mut Report) -> Option<Vec<Template>> {
    let argv = list_of(node, "arguments", report, |n, r| template(n, params, r))?;
    if argv.is_empty() {
        report.error(node.pos, "`argv` needs at least the program to run");
        return None;
    }
    Some(argv)
}

fn env(node: &Node, params: &[String], report: &mut Report) -> Option<BTreeMap<String, Template>> {
    named_templates(node, "environment variables", params, report, |name, key, report| {
        if !is_var_name(name) {
            let message = format!("`{}` is not an environment variable name", excerpt(name));
            report.error_hint(key.pos, message, "use letters, digits and `_`, not starting with a digit");
        }
    })
}

/// A map of names to templates (`env`, `headers`): each name checked by `check_name`, each
/// value a template; `None` if anything in it was wrong.
fn named_templates(
    node: &Node,
    what: &str,
    params: &[String],
    report: &mut Report,
    check_name: impl Fn(&str, &Node, &mut Report),
) -> Option<BTreeMap<String, Template>> {
    let entries = open_map(node, what, report)?;
    let before = report.error_count();
    let mut out = BTreeMap::new();
    for (name, key, value) in entries {
        check_name(name, key, report);
        if let Some(t) = template(value, params, report) {
            out.insert(name.to_owned(), t);
        }
    }
    (report.error_count() == before).then_some(out)
}

/// `http: {method, url, headers, body, expect, timeout}`.
fn http(node: &Node, params: &[String], report: &mut Report) -> Option<HttpAction> {
    let keys = ["method", "url", "headers", "body", "expect", "timeout"];
    let fields = Fields::open(node, "http action", &keys, report)?;
    let method = fields.opt("method", report, method).or("GET".to_owned());
    let url = fields.req("url", report, |n, r| url(n, params, r));
    let headers = fields.opt("headers", report, |n, r| headers(n, params, r)).or(BTreeMap::new());
    let body = fields.opt("body", report, |n, r| body(n, params, r)).optional();
    let expect = fields.opt("expect", report, |n, r| list_of(n, "status codes", r, |n, r| int_in(n, 100, 599, r)));
    let timeout = fields.opt("timeout", report, duration).optional();
    Some(HttpAction {
        method: method?,
        url: url?,
        headers: headers?,
        body: body?,
        expect: expect.or(Vec::new())?,
        timeout: timeout?,
    })
}

fn method(node: &Node, report: &mut Report) -> Option<String> {
    let method = text(node, report)?.to_ascii_uppercase();
    if METHODS.contains(&method.as_str()) {
        return Some(method);
    }
    let hint = did_you_mean(&method, METHODS).unwrap_or_else(|| format!("methods are {}", METHODS.join(", ")));
    report.error_hint(node.pos, format!("unknown HTTP method `{}`", excerpt(&method)), hint);
    None
}

fn url(node: &Node, params: &[String], report: &mut Report) -> Option<Template> {
    let source = text(node, report)?;
    let url = template(node, params, report)?;
    if !(source.starts_with("https://") || source.starts_with("http://")) {
        let message = format!("`{}` is not an http:// or https:// URL", excerpt(&source));
        report.error_hint(node.pos, message, "parameters may fill in parts of a URL, not its scheme");
        return None;
    }
    Some(url)
}

fn headers(node: &Node, params: &[String], report: &mut Report) -> Option<BTreeMap<String, Template>> {
    named_templates(node, "headers", params, report, |name, key, report| {
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(token) {
            report.error(key.pos, format!("`{}` is not an HTTP header name", excerpt(name)));
        }
    })
}

/// Any YAML value as a JSON document whose strings are templates.
fn body(node: &Node, params: &[String], report: &mut Report) -> Option<JsonTemplate> {
    let before = report.error_count();
    let value = match &node.value {
        Value::Scalar(s) => match s.typed() {
            Typed::Null => JsonTemplate::Plain(serde_json::Value::Null),
            Typed::Bool(b) => JsonTemplate::Plain(b.into()),
            Typed::Int(i) => JsonTemplate::Plain(i.into()),
            Typed::Float(f) => match serde_json::Number::from_f64(f) {
                Some(n) => JsonTemplate::Plain(serde_json::Value::Number(n)),
                None => {
                    report.error(node.pos, "JSON has no infinite or NaN numbers");
                    return None;
                }
            },
            Typed::BigInt => {
                report.error(node.pos, "this number is too large");
                return None;
            }
            Typed::Str(_) => JsonTemplate::Text(template(node, params, report)?),
        },
        Value::Seq(items) => JsonTemplate::Array(items.iter().filter_map(|i| body(i, params, report)).collect()),
        Value::Map(entries) => JsonTemplate::Object(
            entries
                .iter()
                .filter_map(|(k, v)| {
                    let key = crate::decode::key_text(k, report)?.to_owned();
                    Some((key, body(v, params, report)?))
                })
                .collect(),
        ),
    };
    (report.error_count() == before).then_some(value)
}

/// `sql: {database, statement, args, timeout}`.
fn sql(node: &Node, params: &[String], databases: &mut Vec<(String, Pos)>, report: &mut Report) -> Option<SqlAction> {
    let fields = Fields::open(node, "sql action", &["database", "statement", "args", "timeout"], report)?;
    let database = fields.req("database", report, ident);
    if let (Some(name), Some(at)) = (&database, fields.get("database")) {
        databases.push((name.clone(), at.pos));
    }
    let statement = fields.req("statement", report, nonempty);
    let args = fields.opt("args", report, |n, r| list_of(n, "values", r, |n, r| template(n, params, r))).or(Vec::new());
    let timeout = fields.opt("timeout", report, duration).optional();
    let (statement, args) = (statement?, args?);
    let at = fields.get("statement").map_or(node.pos, |n| n.pos);
    if statement.contains("{{") {
        report.error_hint(
            at,
            "a SQL statement takes values only as bind parameters, not `{{…}}`",
            "write $1, $2, … in the statement and list the values under `args`",
        );
        return None;
    }
    let highest = highest_bind(&statement);
    if highest > args.len() {
        let given = args.len();
        report.error(at, format!("the statement uses ${highest} but `args` has {given} value{}", plural(given)));
        return None;
    }
    Some(SqlAction { database: database?, statement, args, timeout: timeout? })
}

/// The highest `$N` outside quoted strings.
fn highest_bind(statement: &str) -> usize {
    let mut highest = 0;
    let mut quote: Option<char> = None;
    let mut chars = statement.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') => {
                let digits: String = statement[i + 1..].chars().take_while(char::is_ascii_digit).collect();
                highest = highest.max(digits.parse().unwrap_or(0));
                for _ in 0..digits.len() {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    highest
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_highest_bind_parameter_outside_strings() {
        assert_eq!(highest_bind("select * from t where a = $1 and b = $12"), 12);
        assert_eq!(highest_bind("select '$5' where x = $2"), 2);
        assert_eq!(highest_bind("select 1"), 0);
    }
}
