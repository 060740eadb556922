//! A workflow's parameters as one JSON Schema object, so an agent knows every field's type,
//! pattern, bounds, choices, default and help before it asks. Docket validates again with the
//! same rules (core's `validate_params`) when the request arrives.

use docket_core::catalog::param::ParamKind;
use docket_core::{ParamValue, Workflow};
use serde_json::{Map, Value, json};

/// `{"type": "object", "properties": {…}, "required": […], "additionalProperties": false}`.
pub(crate) fn params_schema(workflow: &Workflow) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in &workflow.params {
        let mut field = Map::new();
        match &spec.kind {
            ParamKind::String { pattern, min_length, max_length } => {
                field.insert("type".into(), json!("string"));
                if let Some(pattern) = pattern {
                    field.insert("pattern".into(), json!(pattern.as_str()));
                }
                lengths(&mut field, *min_length, *max_length);
            }
            ParamKind::Text { min_length, max_length } => {
                field.insert("type".into(), json!("string"));
                field.insert("x-multiline".into(), json!(true));
                lengths(&mut field, *min_length, *max_length);
            }
            ParamKind::Integer { min, max } => {
                field.insert("type".into(), json!("integer"));
                if let Some(min) = min {
                    field.insert("minimum".into(), json!(min));
                }
                if let Some(max) = max {
                    field.insert("maximum".into(), json!(max));
                }
            }
            ParamKind::Boolean => {
                field.insert("type".into(), json!("boolean"));
            }
            ParamKind::Choice { choices } => {
                field.insert("type".into(), json!("string"));
                field.insert("enum".into(), choices.iter().map(|c| json!(c.value)).collect());
                if choices.iter().any(|c| c.label != c.value) {
                    let labels: Vec<Value> =
                        choices.iter().map(|c| json!({ "const": c.value, "title": c.label })).collect();
                    field.insert("oneOf".into(), Value::Array(labels));
                }
            }
        }
        field.insert("title".into(), json!(spec.label));
        if let Some(help) = &spec.help {
            field.insert("description".into(), json!(help));
        }
        if let Some(default) = &spec.default {
            field.insert("default".into(), value(default));
        }
        if spec.required && spec.default.is_none() {
            required.push(json!(spec.name));
        }
        properties.insert(spec.name.clone(), Value::Object(field));
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn lengths(field: &mut Map<String, Value>, min: Option<usize>, max: Option<usize>) {
    if let Some(min) = min {
        field.insert("minLength".into(), json!(min));
    }
    if let Some(max) = max {
        field.insert("maxLength".into(), json!(max));
    }
}

/// A typed parameter value as JSON.
pub(crate) fn value(value: &ParamValue) -> Value {
    match value {
        ParamValue::Bool(b) => Value::Bool(*b),
        ParamValue::Int(i) => Value::from(*i),
        ParamValue::Str(s) => Value::String(s.clone()),
    }
}
