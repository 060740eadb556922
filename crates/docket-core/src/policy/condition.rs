//! A compiled CEL condition and the variables policies see: `params`, `workflow`, `requester`,
//! `now`, and once the ticket is planned, `plan` (counts of its structured changes over all
//! steps, the targets that change, the rows SQL writes change).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock};

use cel::common::ast::{EntryExpr, Expr, MapExpr, StructExpr};
use cel::parser::Expression;
use cel::{Context, Env, ExecutionError, Program, Value};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::catalog::param::{ParamValue, Params};
use crate::catalog::workflow::Workflow;
use crate::id::{GroupId, PersonId};
use crate::plan::Plan;

use super::references::{FIELDS, field_refs, identifier_at, line_column};
use bound::{MAX_BYTES, MAX_DEPTH, TooBig};

mod bound;
mod lex;
mod words;

/// The variables a condition may read.
pub const VARIABLES: [&str; 5] = ["params", "workflow", "requester", "now", "plan"];

static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

/// A CEL expression compiled once at load time.
pub struct Condition {
    source: String,
    program: Program,
    reads_plan: bool,
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

/// Why an expression does not compile. `line` and `column` are 1-based within the expression;
/// `offset` is the same place as a byte offset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConditionError {
    /// Line within the expression.
    pub line: usize,
    /// Column within that line, in characters.
    pub column: usize,
    /// Byte offset within the expression.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is a likely fix.
    pub hint: Option<String>,
}

impl ConditionError {
    fn at(source: &str, offset: usize, message: String, hint: Option<String>) -> Self {
        let (line, column) = line_column(source, offset);
        Self { line, column, offset, message, hint }
    }
}

impl Condition {
    /// Compiles `source`, and refuses variables other than [`VARIABLES`] so a typo is caught at
    /// load time, not on the first production request.
    ///
    /// A condition longer than 8 KiB or nested more than 64 levels deep is refused before CEL's
    /// parser reads it (see `bound`), so neither parsing nor evaluating it can overflow a stack.
    pub fn compile(source: &str) -> Result<Self, ConditionError> {
        if let Err(too_big) = bound::check(source) {
            return Err(match too_big {
                TooBig::Deep { depth, at } => ConditionError::at(
                    source,
                    at,
                    format!("it nests {} levels deep; the limit is {MAX_DEPTH}", thousands(depth)),
                    Some(
                        "every operator, call and bracket nests a level (`&&` and `||` few): split it into simpler \
                         conditions or rules"
                            .to_owned(),
                    ),
                ),
                TooBig::Long { bytes } => ConditionError::at(
                    source,
                    0,
                    format!(
                        "it is {} bytes long; the limit is {} bytes ({} KiB)",
                        thousands(bytes),
                        thousands(MAX_BYTES),
                        MAX_BYTES / 1024
                    ),
                    Some("split it into simpler conditions or rules".to_owned()),
                ),
            });
        }
        let program = ENV.compile(source).map_err(|errors| match errors.errors.first() {
            Some(e) => {
                // cel counts lines and columns (in characters) from 1.
                let line = usize::try_from(e.pos.0).unwrap_or(1);
                let column = usize::try_from(e.pos.1).unwrap_or(1);
                let offset = offset_of(source, line, column);
                let raw = match (&e.source, e.msg.as_str()) {
                    (Some(inner), "UNKNOWN") => inner.to_string(),
                    _ => e.msg.clone(),
                };
                let (message, hint) = words::explain(&raw, source.get(offset..).unwrap_or(""));
                ConditionError::at(source, offset, message, hint)
            }
            None => ConditionError::at(source, 0, "the expression cannot be read".to_owned(), None),
        })?;
        let mut free = Vec::new();
        free_variables(program.expression(), &mut Vec::new(), &mut free);
        let reads_plan = free.iter().any(|(name, _)| *name == "plan");
        if let Some((name, id)) = free.into_iter().find(|(v, _)| !VARIABLES.contains(v)) {
            let hint = crate::text::did_you_mean(name, VARIABLES)
                .unwrap_or_else(|| format!("conditions can read {}", VARIABLES.join(", ")));
            // Where the parser saw it, if that is where it is written; else its first mention.
            let seen = program.source_info().offset_for(id).and_then(|(start, _)| usize::try_from(start).ok());
            let offset = seen
                .filter(|at| source.get(*at..).is_some_and(|rest| rest.starts_with(name)))
                .or_else(|| identifier_at(source, name))
                .unwrap_or(0);
            return Err(ConditionError::at(source, offset, format!("unknown variable `{name}`"), Some(hint)));
        }
        for (variable, known) in FIELDS {
            if let Some((offset, name)) = field_refs(source, variable).into_iter().find(|(_, n)| !known.contains(n)) {
                let hint = crate::text::did_you_mean(name, known.iter().copied())
                    .unwrap_or_else(|| format!("it has {}", known.join(", ")));
                let message = format!("`{variable}` has no field `{name}`");
                return Err(ConditionError::at(source, offset, message, Some(hint)));
            }
        }
        Ok(Self { source: source.to_owned(), program, reads_plan })
    }

    /// Whether the condition reads `plan`: it can be decided only once the ticket is planned.
    pub fn reads_plan(&self) -> bool {
        self.reads_plan
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Each `params.NAME` the condition reads, as (byte offset of `NAME` in the source, `NAME`),
    /// first mention only, for load-time checks against the catalog.
    pub fn param_refs(&self) -> Vec<(usize, &str)> {
        let mut out: Vec<(usize, &str)> = Vec::new();
        for (offset, name) in field_refs(&self.source, "params") {
            if !out.iter().any(|(_, n)| *n == name) {
                out.push((offset, name));
            }
        }
        out
    }

    /// Evaluates the condition. A reference to a parameter the workflow does not have makes the
    /// condition false (`Ok(false)`); any other failure is an error, which callers treat as
    /// "fail closed".
    pub fn eval(&self, vars: &Variables) -> Result<bool, EvalError> {
        match self.program.execute(&vars.context) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(EvalError(format!("`{}` gave {:?}, not true or false", self.source, other.type_of()))),
            Err(ExecutionError::NoSuchKey(_)) => Ok(false),
            Err(e) => Err(EvalError(format!("`{}` failed: {e}", self.source))),
        }
    }
}

/// A condition that could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// The values a condition sees, built once per decision and shared by every condition in it.
pub struct Variables {
    context: Context<'static, 'static>,
    /// `requester`, kept to add `agent` to it.
    requester: HashMap<&'static str, Value>,
}

impl fmt::Debug for Variables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Variables").finish_non_exhaustive()
    }
}

impl Variables {
    /// The variables for a request of `workflow` with `params` by `requester` (in `groups`) at
    /// `now`, read on the wall clock of `zone`.
    pub fn new(
        workflow: &Workflow,
        params: &Params,
        requester: &PersonId,
        groups: &[&GroupId],
        now: Timestamp,
        zone: &TimeZone,
    ) -> Self {
        let params: HashMap<String, Value> = params
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    ParamValue::Bool(b) => Value::Bool(*b),
                    ParamValue::Int(i) => Value::Int(*i),
                    ParamValue::Str(s) => Value::from(s.as_str()),
                };
                (k.to_owned(), v)
            })
            .collect();
        let workflow = HashMap::from([
            ("id", Value::from(workflow.id.as_str())),
            ("risk", Value::from(workflow.risk.as_str())),
            ("category", Value::from(workflow.category.as_str())),
        ]);
        let groups: Vec<Value> = groups.iter().map(|g| Value::from(g.as_str())).collect();
        let requester = HashMap::from([
            ("id", Value::from(requester.as_str())),
            ("groups", Value::from(groups)),
            ("agent", Value::from("")),
        ]);
        let wall = zone.to_datetime(now);
        let weekday = match wall.weekday() {
            jiff::civil::Weekday::Monday => "Mon",
            jiff::civil::Weekday::Tuesday => "Tue",
            jiff::civil::Weekday::Wednesday => "Wed",
            jiff::civil::Weekday::Thursday => "Thu",
            jiff::civil::Weekday::Friday => "Fri",
            jiff::civil::Weekday::Saturday => "Sat",
            jiff::civil::Weekday::Sunday => "Sun",
        };
        let now = HashMap::from([
            ("weekday", Value::from(weekday)),
            ("hour", Value::Int(i64::from(wall.hour()))),
            ("minute", Value::Int(i64::from(wall.minute()))),
            ("date", Value::from(wall.date().to_string())),
            ("time", Value::from(format!("{:02}:{:02}", wall.hour(), wall.minute()))),
        ]);
        let mut context = Context::with_env(Arc::clone(&ENV));
        context.add_variable_from_value("params", params);
        context.add_variable_from_value("workflow", workflow);
        context.add_variable_from_value("requester", requester.clone());
        context.add_variable_from_value("now", now);
        Self { context, requester }
    }

    /// The same variables for a request an agent made: `requester.agent` is its id (empty for
    /// people), while `requester.id` and `requester.groups` stay its owner's.
    pub fn with_agent(mut self, agent: Option<&str>) -> Self {
        if let Some(agent) = agent {
            self.requester.insert("agent", Value::from(agent));
            self.context.add_variable_from_value("requester", self.requester.clone());
        }
        self
    }

    /// The same variables with `plan`: its change counts over all steps, the targets that
    /// change, and the rows its SQL writes change.
    pub fn with_plan(mut self, plan: &Plan) -> Self {
        let counts = plan.counts();
        let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
        let targets: Vec<Value> = plan.targets().into_iter().map(Value::from).collect();
        let plan = HashMap::from([
            ("creates", int(counts.creates)),
            ("updates", int(counts.updates)),
            ("replaces", int(counts.replaces)),
            ("deletes", int(counts.deletes)),
            ("targets", Value::from(targets)),
            ("rows_changed", int(plan.rows_changed())),
        ]);
        self.context.add_variable_from_value("plan", plan);
        self
    }
}

/// The variables `expr` reads that no macro around them binds (`x` in `list.all(x, x > 0)`), with
/// the id of their first mention, first first. (cel's own list of references counts a macro's
/// variable as one.) The tree is at most a few times [`MAX_DEPTH`] deep, so the recursion is
/// shallow.
fn free_variables<'e>(expr: &'e Expression, bound: &mut Vec<&'e str>, out: &mut Vec<(&'e str, u64)>) {
    let mut walk = |e: &'e Expression, bound: &mut Vec<&'e str>| free_variables(e, bound, out);
    match &expr.expr {
        Expr::Ident(name) => {
            let name = name.as_str();
            if !name.starts_with('@') && !bound.contains(&name) && !out.iter().any(|(n, _)| *n == name) {
                out.push((name, expr.id));
            }
        }
        Expr::Call(call) => {
            for e in call.target.as_deref().into_iter().chain(&call.args) {
                walk(e, bound);
            }
        }
        Expr::Comprehension(c) => {
            walk(&c.iter_range, bound);
            walk(&c.accu_init, bound);
            let outside = bound.len();
            bound.extend([c.iter_var.as_str(), c.accu_var.as_str()]);
            bound.extend(c.iter_var2.as_deref());
            for e in [&c.loop_cond, &c.loop_step, &c.result] {
                walk(e, bound);
            }
            bound.truncate(outside);
        }
        Expr::List(list) => {
            for e in &list.elements {
                walk(e, bound);
            }
        }
        Expr::Map(MapExpr { entries }) | Expr::Struct(StructExpr { entries, .. }) => {
            for entry in entries {
                match &entry.expr {
                    EntryExpr::StructField(field) => walk(&field.value, bound),
                    EntryExpr::MapEntry(pair) => {
                        walk(&pair.key, bound);
                        walk(&pair.value, bound);
                    }
                }
            }
        }
        Expr::Select(select) => walk(&select.operand, bound),
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// The byte offset of 1-based `line` and character `column` in `source`, kept inside it.
fn offset_of(source: &str, line: usize, column: usize) -> usize {
    let line_start: usize = source.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let rest = source.get(line_start..).unwrap_or("");
    let within: usize =
        rest.chars().take_while(|c| *c != '\n').take(column.saturating_sub(1)).map(char::len_utf8).sum();
    (line_start + within).min(source.len())
}

/// `3000` → `3,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_line_and_column_to_bytes() {
        assert_eq!(offset_of("ab\ncé d", 2, 3), 3 + 3);
        assert_eq!(offset_of("abc", 1, 1), 0);
        assert_eq!(offset_of("abc", 9, 9), 3);
        assert_eq!(offset_of("ab\ncd", 1, 9), 2, "a column past the line's end stays on the line");
    }

    #[test]
    fn writes_thousands_with_commas() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(3_000), "3,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
