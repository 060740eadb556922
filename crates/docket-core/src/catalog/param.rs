//! Typed workflow parameters: their declarations, their values, and the validation that every
//! surface shares, so a bad value is refused the same way in Slack, Teams, the web and the API.

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// No parameter value may be longer than this many bytes, whatever its declaration says.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// One declared parameter of a workflow.
#[derive(Clone, Debug)]
pub struct ParamSpec {
    /// Name used in templates (`{{version}}`), policies (`params.version`) and APIs.
    pub name: String,
    /// Short label shown in forms; defaults to the name.
    pub label: String,
    /// One line of help shown under the field.
    pub help: Option<String>,
    /// Whether a value must be given (a default counts as given).
    pub required: bool,
    /// Value used when none is given.
    pub default: Option<ParamValue>,
    /// The type and its constraints.
    pub kind: ParamKind,
}

/// A parameter's type with its constraints.
#[derive(Clone, Debug)]
pub enum ParamKind {
    /// One line of text.
    String {
        /// A regular expression the value must match (searched, so anchor it with `^…$`).
        pattern: Option<Pattern>,
        /// Fewest characters.
        min_length: Option<usize>,
        /// Most characters.
        max_length: Option<usize>,
    },
    /// Several lines of text.
    Text {
        /// Fewest characters.
        min_length: Option<usize>,
        /// Most characters.
        max_length: Option<usize>,
    },
    /// A whole number.
    Integer {
        /// Smallest allowed value.
        min: Option<i64>,
        /// Largest allowed value.
        max: Option<i64>,
    },
    /// Yes or no.
    Boolean,
    /// One of a fixed list.
    Choice {
        /// The allowed values, in display order.
        choices: Vec<Choice>,
    },
}

impl ParamKind {
    /// The type's name as written in workflow files.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamKind::String { .. } => "string",
            ParamKind::Text { .. } => "text",
            ParamKind::Integer { .. } => "integer",
            ParamKind::Boolean => "boolean",
            ParamKind::Choice { .. } => "choice",
        }
    }
}

/// One allowed value of a `choice` parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The value passed to steps and policies.
    pub value: String,
    /// What people see; defaults to the value.
    pub label: String,
    /// Other words people use for it (`production`, `prd` for `prod`), read by the matcher;
    /// lowercase, unique across the parameter's choices.
    pub aliases: Vec<String>,
}

impl Choice {
    /// A choice with no aliases.
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self { value: value.into(), label: label.into(), aliases: Vec::new() }
    }
}

/// The choice `written` names, as every surface reads a value someone typed or a matcher
/// filled in: its value exactly, else its value, its label or one of its aliases ignoring case.
pub fn find_choice<'a>(choices: &'a [Choice], written: &str) -> Option<&'a Choice> {
    let written = written.trim();
    choices
        .iter()
        .find(|c| c.value == written)
        .or_else(|| choices.iter().find(|c| c.value.eq_ignore_ascii_case(written)))
        .or_else(|| choices.iter().find(|c| c.label.eq_ignore_ascii_case(written)))
        .or_else(|| choices.iter().find(|c| c.aliases.iter().any(|a| a.eq_ignore_ascii_case(written))))
}

/// A compiled regular expression that remembers how it was written.
#[derive(Clone, Debug)]
pub struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    /// Compiles `source`; the error text is the regex crate's explanation.
    pub fn new(source: &str) -> Result<Self, String> {
        let regex = regex::RegexBuilder::new(source).size_limit(1 << 20).build().map_err(|e| match e {
            regex::Error::Syntax(text) => text.lines().last().unwrap_or("invalid").trim().to_owned(),
            other => other.to_string(),
        })?;
        Ok(Self { source: source.to_owned(), regex })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `value` matches.
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

/// A parameter value after validation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A `boolean`.
    Bool(bool),
    /// An `integer`.
    Int(i64),
    /// A `string`, `text` or `choice`.
    Str(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Str(s) => f.write_str(s),
        }
    }
}

/// A ticket's validated parameter values, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Params(BTreeMap<String, ParamValue>);

impl Params {
    /// The value of `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.get(name)
    }

    /// Values in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many parameters have a value.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no parameter has a value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a surface hands in before validation: text from chat, JSON from the API.
pub type RawParams = BTreeMap<String, serde_json::Value>;

/// Why one parameter's value was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The parameter (or the unknown name that was given).
    pub param: String,
    /// What is wrong, in words for the person who typed it.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.param, self.message)
    }
}

/// Every refused value of one request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("invalid parameters: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ParamErrors(pub Vec<FieldError>);

/// Validates raw input against declarations, fills defaults, and returns every error at once.
pub fn validate_params(specs: &[ParamSpec], raw: &RawParams) -> Result<Params, ParamErrors> {
    let mut errors = Vec::new();
    let mut values = BTreeMap::new();
    for (name, _) in raw.iter().filter(|(name, _)| !specs.iter().any(|s| &s.name == *name)) {
        let known: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let message = match crate::text::closest(name, known.iter().copied()) {
            Some(near) => format!("unknown parameter (did you mean `{near}`?)"),
            None if known.is_empty() => "unknown parameter (this workflow takes none)".to_owned(),
            None => format!("unknown parameter (this workflow takes {})", known.join(", ")),
        };
        errors.push(FieldError { param: name.clone(), message });
    }
    for spec in specs {
        let given = raw.get(&spec.name).filter(|v| !is_blank(v));
        let value = match given {
            Some(raw_value) => match coerce(spec, raw_value).and_then(|v| check_value(spec, &v).map(|()| v)) {
                Ok(v) => Some(v),
                Err(message) => {
                    errors.push(FieldError { param: spec.name.clone(), message });
                    continue;
                }
            },
            None => spec.default.clone(),
        };
        match value {
            Some(v) => {
                values.insert(spec.name.clone(), v);
            }
            None if spec.required => {
                errors.push(FieldError { param: spec.name.clone(), message: "is required".to_owned() })
            }
            None => {}
        }
    }
    if errors.is_empty() { Ok(Params(values)) } else { Err(ParamErrors(errors)) }
}

fn is_blank(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Turns raw input into the declared type, accepting text for every type (chat sends text).
pub(crate) fn coerce(spec: &ParamSpec, raw: &serde_json::Value) -> Result<ParamValue, String> {
    use serde_json::Value as J;
    match (&spec.kind, raw) {
        // A number with no fractional part is a whole number, as JSON Schema's `integer` says
        // (`1.0` is 1), as long as it is exactly representable.
        (ParamKind::Integer { .. }, J::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
            .map(ParamValue::Int)
            .ok_or_else(|| "must be a whole number".to_owned()),
        (ParamKind::Integer { .. }, J::String(s)) => {
            s.trim().parse().map(ParamValue::Int).map_err(|_| format!("`{}` is not a whole number", excerpt(s)))
        }
        (ParamKind::Boolean, J::Bool(b)) => Ok(ParamValue::Bool(*b)),
        (ParamKind::Boolean, J::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(ParamValue::Bool(true)),
            "false" | "no" | "off" | "0" => Ok(ParamValue::Bool(false)),
            _ => Err(format!("`{}` is not yes or no", excerpt(s))),
        },
        (ParamKind::String { .. } | ParamKind::Choice { .. }, J::String(s)) => Ok(ParamValue::Str(s.trim().to_owned())),
        (ParamKind::Text { .. }, J::String(s)) => Ok(ParamValue::Str(s.clone())),
        (kind, _) => Err(format!("must be {}", article(kind.type_name()))),
    }
}

/// Checks a typed value against the declaration's constraints. Also used at load time to check
/// that a declared default passes its own type.
pub fn check_value(spec: &ParamSpec, value: &ParamValue) -> Result<(), String> {
    match (&spec.kind, value) {
        (ParamKind::String { pattern, min_length, max_length }, ParamValue::Str(s)) => {
            check_text(s, false, *min_length, *max_length)?;
            if let Some(p) = pattern.as_ref().filter(|p| !p.is_match(s)) {
                let hint = spec.help.as_deref().map(|h| format!(" ({h})")).unwrap_or_default();
                return Err(format!("`{}` does not match the pattern {}{hint}", excerpt(s), p.as_str()));
            }
            Ok(())
        }
        (ParamKind::Text { min_length, max_length }, ParamValue::Str(s)) => {
            check_text(s, true, *min_length, *max_length)
        }
        (ParamKind::Integer { min, max }, ParamValue::Int(i)) => match (min, max) {
            (Some(lo), Some(hi)) if i < lo || i > hi => Err(format!("must be between {lo} and {hi}")),
            (Some(lo), _) if i < lo => Err(format!("must be at least {lo}")),
            (_, Some(hi)) if i > hi => Err(format!("must be at most {hi}")),
            _ => Ok(()),
        },
        (ParamKind::Boolean, ParamValue::Bool(_)) => Ok(()),
        (ParamKind::Choice { choices }, ParamValue::Str(s)) => {
            if choices.iter().any(|c| &c.value == s) {
                Ok(())
            } else {
                let allowed: Vec<&str> = choices.iter().map(|c| c.value.as_str()).collect();
                Err(format!("`{}` is not one of {}", excerpt(s), allowed.join(", ")))
            }
        }
        (kind, _) => Err(format!("must be {}", article(kind.type_name()))),
    }
}

fn check_text(s: &str, multi_line: bool, min: Option<usize>, max: Option<usize>) -> Result<(), String> {
    if s.len() > MAX_VALUE_BYTES {
        return Err(format!("is longer than {MAX_VALUE_BYTES} bytes"));
    }
    let allowed_control = |c: char| multi_line && matches!(c, '\n' | '\r' | '\t');
    if s.chars().any(|c| c.is_control() && !allowed_control(c)) {
        return Err(if multi_line {
            "must not contain control characters".to_owned()
        } else {
            "must be one line without control characters".to_owned()
        });
    }
    let chars = s.chars().count();
    match (min, max) {
        (Some(lo), _) if chars < lo => Err(format!("must be at least {lo} characters")),
        (_, Some(hi)) if chars > hi => Err(format!("must be at most {hi} characters")),
        _ => Ok(()),
    }
}

fn article(type_name: &str) -> String {
    match type_name {
        "integer" => "an integer".to_owned(),
        "choice" => "one of the choices".to_owned(),
        "boolean" => "yes or no".to_owned(),
        other => format!("a {other}"),
    }
}

fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}
