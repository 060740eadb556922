//! A compiled CEL condition and the variables policies see: `params`, `workflow`, `requester`,
//! `now`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock};

use cel::{Context, Env, ExecutionError, Program, Value};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::catalog::param::{ParamValue, Params};
use crate::catalog::workflow::Workflow;
use crate::id::{GroupId, PersonId};

use super::references::{FIELDS, field_refs, identifier_at, line_column};

/// The variables a condition may read.
pub const VARIABLES: [&str; 4] = ["params", "workflow", "requester", "now"];

static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

/// A CEL expression compiled once at load time.
pub struct Condition {
    source: String,
    program: Program,
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

/// Why an expression does not compile. `line` and `column` are 1-based within the expression.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConditionError {
    /// Line within the expression.
    pub line: usize,
    /// Column within that line.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is a likely fix.
    pub hint: Option<String>,
}

impl Condition {
    /// Compiles `source`, and refuses variables other than [`VARIABLES`] so a typo is caught at
    /// load time, not on the first production request.
    pub fn compile(source: &str) -> Result<Self, ConditionError> {
        let program = ENV.compile(source).map_err(|errors| {
            let first = errors.errors.first();
            // cel counts lines and columns from 1 already.
            let (line, column) = first.map_or((1, 1), |e| (e.pos.0.max(1), e.pos.1.max(1)));
            ConditionError {
                line: usize::try_from(line).unwrap_or(1),
                column: usize::try_from(column).unwrap_or(1),
                message: first.map_or_else(|| "invalid expression".to_owned(), |e| e.msg.clone()),
                hint: None,
            }
        })?;
        let at = |offset: usize, message: String, hint: Option<String>| {
            let (line, column) = line_column(source, offset);
            ConditionError { line, column, message, hint }
        };
        let references = program.references();
        if let Some(name) = references.variables().into_iter().find(|v| !VARIABLES.contains(v)) {
            let hint = crate::text::did_you_mean(name, VARIABLES)
                .unwrap_or_else(|| format!("conditions can read {}", VARIABLES.join(", ")));
            let offset = identifier_at(source, name).unwrap_or(0);
            return Err(at(offset, format!("unknown variable `{name}`"), Some(hint)));
        }
        for (variable, known) in FIELDS {
            if let Some((offset, name)) = field_refs(source, variable).into_iter().find(|(_, n)| !known.contains(n)) {
                let hint = crate::text::did_you_mean(name, known.iter().copied())
                    .unwrap_or_else(|| format!("it has {}", known.join(", ")));
                return Err(at(offset, format!("`{variable}` has no field `{name}`"), Some(hint)));
            }
        }
        Ok(Self { source: source.to_owned(), program })
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
        let requester = HashMap::from([("id", Value::from(requester.as_str())), ("groups", Value::from(groups))]);
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
        context.add_variable_from_value("requester", requester);
        context.add_variable_from_value("now", now);
        Self { context }
    }
}
