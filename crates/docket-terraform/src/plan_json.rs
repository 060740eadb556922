//! Terraform's JSON plan format (`terraform show -json PLANFILE`, the same for OpenTofu) read
//! into structured changes. Only what approvers need is read: `format_version` (a major
//! version other than 0 or 1 is refused, as the format's documentation asks), and for each of
//! `resource_changes` its `address`, `deposed` key, `change.actions`, `before`, `after`,
//! `after_unknown`, `before_sensitive` and `after_sensitive`. Properties Docket does not know
//! are ignored, so later minor versions read the same.
//!
//! - `["create"]`, `["update"]`, `["delete"]`, `["read"]`, `["no-op"]` are those actions;
//!   `["delete","create"]` and `["create","delete"]` are a replace. Any other list (`["forget"]`)
//!   is kept as its own words, so it is shown, never dropped.
//! - A value marked sensitive is shown as `(sensitive)`, wherever it is in the value; a value
//!   not known until apply as `(known after apply)`.
//! - Nothing in the input can make this panic: every field is optional, and the JSON reader
//!   stops at 128 levels of nesting, so the walks below are bounded.

use docket_core::plan::{Change, ChangeAction};
use serde_json::{Map, Value};

/// What a sensitive value is shown as.
pub const SENSITIVE: &str = "(sensitive)";
/// What a value not known until apply is shown as.
pub const UNKNOWN: &str = "(known after apply)";

/// Why a document is not a plan Docket can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanJsonError {
    /// Not JSON, or not an object.
    #[error("`show -json` did not print a JSON plan: {0}")]
    NotJson(String),
    /// No `format_version`.
    #[error("the JSON plan has no `format_version`")]
    NoVersion,
    /// A major version this reader does not know.
    #[error("the JSON plan's format_version is {0}; Docket reads major versions 0 and 1 only")]
    UnknownVersion(String),
    /// `resource_changes` is there but not a list.
    #[error("the JSON plan's `resource_changes` is not a list")]
    NotAList,
}

/// The changes in a JSON plan, in the order Terraform listed them.
pub fn parse(bytes: &[u8]) -> Result<Vec<Change>, PlanJsonError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| PlanJsonError::NotJson(e.to_string()))?;
    let Value::Object(doc) = doc else { return Err(PlanJsonError::NotJson("not an object".to_owned())) };
    let version = match doc.get("format_version") {
        Some(Value::String(v)) => v.clone(),
        Some(other) => return Err(PlanJsonError::UnknownVersion(other.to_string())),
        None => return Err(PlanJsonError::NoVersion),
    };
    let major = version.split('.').next().unwrap_or("");
    if major != "0" && major != "1" {
        return Err(PlanJsonError::UnknownVersion(version));
    }
    let changes = match doc.get("resource_changes") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(PlanJsonError::NotAList),
    };
    Ok(changes.iter().map(resource_change).collect())
}

fn resource_change(item: &Value) -> Change {
    let empty = Map::new();
    let item = item.as_object().unwrap_or(&empty);
    let change = item.get("change").and_then(Value::as_object).unwrap_or(&empty);
    let mut target = match item.get("address").and_then(Value::as_str) {
        Some(address) if !address.is_empty() => address.to_owned(),
        _ => {
            let part = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
            format!("{}.{}", part("type"), part("name"))
        }
    };
    if let Some(deposed) = item.get("deposed").and_then(Value::as_str) {
        target.push_str(&format!(" (deposed object {deposed})"));
    }
    let action = action(change.get("actions"));
    let before = shown(change.get("before"), change.get("before_sensitive"), None);
    let after = shown(change.get("after"), change.get("after_sensitive"), change.get("after_unknown"));
    Change { target, action, before, after }
}

/// The action of an `actions` list.
pub fn action(actions: Option<&Value>) -> ChangeAction {
    let words: Vec<String> = match actions {
        Some(Value::Array(items)) => {
            items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect()
        }
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["create"] => ChangeAction::Create,
        ["update"] => ChangeAction::Update,
        ["delete"] => ChangeAction::Delete,
        ["read"] => ChangeAction::Read,
        ["no-op"] => ChangeAction::NoOp,
        ["delete", "create"] | ["create", "delete"] => ChangeAction::Replace,
        [] => ChangeAction::Other("(no action given)".to_owned()),
        other => ChangeAction::Other(other.join(", ")),
    }
}

/// `value` with its sensitive parts masked and its unknown parts marked.
fn shown(value: Option<&Value>, sensitive: Option<&Value>, unknown: Option<&Value>) -> Value {
    let mut value = value.cloned().unwrap_or(Value::Null);
    if let Some(mask) = sensitive {
        hide(&mut value, mask);
    }
    if let Some(mask) = unknown {
        mark_unknown(&mut value, mask);
    }
    value
}

/// Replaces every part of `value` that `mask` marks `true` with [`SENSITIVE`].
fn hide(value: &mut Value, mask: &Value) {
    match (mask, value) {
        (Value::Bool(true), value) if !value.is_null() => *value = Value::String(SENSITIVE.to_owned()),
        (Value::Object(marks), Value::Object(fields)) => {
            for (key, mark) in marks {
                if let Some(field) = fields.get_mut(key) {
                    hide(field, mark);
                }
            }
        }
        (Value::Array(marks), Value::Array(items)) => {
            for (item, mark) in items.iter_mut().zip(marks) {
                hide(item, mark);
            }
        }
        // A mask that does not fit the value's shape: hide all of it rather than show a secret.
        (Value::Object(_) | Value::Array(_), value) if !value.is_null() && !is_empty_mask(mask) => {
            *value = Value::String(SENSITIVE.to_owned());
        }
        _ => {}
    }
}

fn is_empty_mask(mask: &Value) -> bool {
    match mask {
        Value::Object(m) => m.values().all(is_empty_mask),
        Value::Array(a) => a.iter().all(is_empty_mask),
        Value::Bool(b) => !b,
        _ => true,
    }
}

/// Puts [`UNKNOWN`] wherever `mask` marks a value `true` (Terraform leaves those out of `after`).
fn mark_unknown(value: &mut Value, mask: &Value) {
    match mask {
        Value::Bool(true) => *value = Value::String(UNKNOWN.to_owned()),
        Value::Object(marks) => {
            if value.is_null() && !is_empty_mask(mask) {
                *value = Value::Object(Map::new());
            }
            if let Value::Object(fields) = value {
                for (key, mark) in marks {
                    if is_empty_mask(mark) {
                        continue;
                    }
                    mark_unknown(fields.entry(key.clone()).or_insert(Value::Null), mark);
                }
            }
        }
        Value::Array(marks) => {
            if let Value::Array(items) = value {
                for (item, mark) in items.iter_mut().zip(marks) {
                    mark_unknown(item, mark);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_actions_values_secrets_and_unknowns() {
        let doc = json!({
            "format_version": "1.2",
            "resource_changes": [
                {"address": "aws_db_instance.main", "change": {"actions": ["delete", "create"],
                  "before": {"password": "hunter2", "size": 10, "tags": ["a", "b"]},
                  "after": {"password": "hunter3", "size": 20, "tags": ["a", "c"]},
                  "before_sensitive": {"password": true, "tags": [false, true]},
                  "after_sensitive": {"password": true},
                  "after_unknown": {"id": true}}},
                {"address": "aws_instance.old", "deposed": "abc", "change": {"actions": ["delete"], "before": {"a": 1}}},
                {"address": "aws_s3_bucket.x", "change": {"actions": ["forget"]}},
                {"address": "null_resource.y", "change": {"actions": ["create", "delete"], "after_sensitive": true, "after": {"k": "v"}}}
            ]
        });
        let changes = parse(doc.to_string().as_bytes()).unwrap();
        assert_eq!(changes[0].action, ChangeAction::Replace);
        assert_eq!(changes[0].before, json!({"password": SENSITIVE, "size": 10, "tags": ["a", SENSITIVE]}));
        assert_eq!(changes[0].after, json!({"password": SENSITIVE, "size": 20, "tags": ["a", "c"], "id": UNKNOWN}));
        assert_eq!(changes[1].target, "aws_instance.old (deposed object abc)");
        assert_eq!(changes[2].action, ChangeAction::Other("forget".to_owned()));
        assert_eq!(changes[3].action, ChangeAction::Replace);
        assert_eq!(changes[3].after, json!(SENSITIVE));
    }

    #[test]
    fn refuses_unknown_major_versions_and_non_plans() {
        assert_eq!(parse(br#"{"format_version": "2.0"}"#), Err(PlanJsonError::UnknownVersion("2.0".to_owned())));
        assert_eq!(parse(br#"{"resource_changes": []}"#), Err(PlanJsonError::NoVersion));
        assert!(matches!(parse(b"Error: no plan"), Err(PlanJsonError::NotJson(_))));
        assert_eq!(parse(br#"{"format_version": "1.0"}"#), Ok(Vec::new()));
        assert_eq!(parse(br#"{"format_version": "0.1", "resource_changes": {}}"#), Err(PlanJsonError::NotAList));
    }
}
