//! The part of the served document that depends on this server's catalog: which workflows
//! `POST /tickets` takes and, for each, its parameters — names, types, constraints, which are
//! required — from the same declarations core validates against. The rest of the document is
//! the same on every server.

use docket_core::catalog::param::ParamKind;
use docket_core::{ParamSpec, Workflow};
use serde_json::{Map, Value, json};

use super::view::param_value;

/// The characters core trims (Rust's `char::is_whitespace`), spelled out so that every regular
/// expression dialect reads them alike.
const WHITESPACE: &str =
    "[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
/// Text that is not blank (core treats a blank value as none given).
const NOT_BLANK: &str =
    "[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
/// One line of text: no control characters.
const ONE_LINE: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// Several lines of text: no control characters but tabs and line breaks.
const LINES: &str = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$";

/// `NewTicket` for `workflows`: one alternative per workflow.
pub(crate) fn new_ticket(workflows: &[std::sync::Arc<Workflow>], generic: &Value) -> Value {
    let alternatives: Vec<Value> = workflows.iter().map(|w| alternative(w)).collect();
    let mut schema = json!({
        "description": generic.get("description").cloned().unwrap_or(Value::Null),
        "oneOf": alternatives,
    });
    if let Some(example) = generic.get("example") {
        schema["example"] = example.clone();
    }
    schema
}

/// A request for `workflow`.
fn alternative(workflow: &Workflow) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in &workflow.params {
        properties.insert(spec.name.clone(), param(spec));
        if spec.required && spec.default.is_none() {
            required.push(Value::String(spec.name.clone()));
        }
    }
    let params = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    let mut top_required = vec![json!("workflow")];
    if !required.is_empty() {
        top_required.push(json!("params"));
    }
    json!({
        "title": workflow.title,
        "type": "object",
        "properties": {
            "workflow": { "const": workflow.id.as_str() },
            "params": params,
        },
        "required": top_required,
        "additionalProperties": false,
    })
}

/// One parameter's values, as core's validation takes them. (Core is a little more lenient, as
/// `ParamValues` says: surrounding whitespace is ignored, numbers and yes/no may be sent as
/// text; and no value may be longer than 64 KiB.)
fn param(spec: &ParamSpec) -> Value {
    let needed = spec.required && spec.default.is_none();
    let mut schema = match &spec.kind {
        ParamKind::String { pattern, min_length, max_length } => {
            let mut patterns = vec![ONE_LINE.to_owned()];
            patterns.extend(pattern.as_ref().map(|p| p.as_str().to_owned()));
            text(*min_length, *max_length, patterns, needed)
        }
        ParamKind::Text { min_length, max_length } => text(*min_length, *max_length, vec![LINES.to_owned()], needed),
        ParamKind::Integer { min, max } => {
            let mut schema = json!({ "type": "integer" });
            if let Some(min) = min {
                schema["minimum"] = json!(min);
            }
            if let Some(max) = max {
                schema["maximum"] = json!(max);
            }
            schema
        }
        ParamKind::Boolean => json!({ "type": "boolean" }),
        ParamKind::Choice { choices } => {
            json!({ "enum": choices.iter().map(|c| c.value.as_str()).collect::<Vec<_>>() })
        }
    };
    let mut description = spec.label.clone();
    if let Some(help) = &spec.help {
        description = format!("{description}: {help}");
    }
    if !needed {
        // Core takes null and blank text as "not given": the default, or nothing.
        let blank = json!({ "type": "string", "pattern": format!("^{}*$", WHITESPACE) });
        schema = json!({ "anyOf": [schema, { "type": "null" }, blank] });
    }
    schema["description"] = json!(description);
    if let Some(default) = &spec.default {
        schema["default"] = param_value(default);
    }
    schema
}

/// A string with `patterns`, all of which must match.
fn text(min: Option<usize>, max: Option<usize>, mut patterns: Vec<String>, needed: bool) -> Value {
    if needed {
        patterns.push(NOT_BLANK.to_owned());
    }
    let mut schema = json!({ "type": "string" });
    if let Some(min) = min {
        schema["minLength"] = json!(min);
    }
    if let Some(max) = max {
        schema["maxLength"] = json!(max);
    }
    let all: Vec<Value> = patterns.into_iter().map(|p| json!({ "pattern": p })).collect();
    schema["allOf"] = Value::Array(all);
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blank_pattern_is_the_documented_one() {
        assert_eq!(NOT_BLANK, crate::api::schema::NOT_BLANK_PATTERN);
        assert_eq!(NOT_BLANK.replacen("[^", "[", 1), WHITESPACE);
    }

    /// The spelled-out class holds exactly the characters Rust (and so core) trims.
    #[test]
    fn the_whitespace_class_is_rusts() {
        let class = regex::Regex::new(&format!("^{WHITESPACE}$")).unwrap();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(class.is_match(c.encode_utf8(&mut [0; 4])), c.is_whitespace(), "U+{:04X}", c as u32);
        }
    }
}
