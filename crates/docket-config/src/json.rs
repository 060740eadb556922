//! Any YAML value as a JSON document whose strings are `{{param}}` templates (a request body,
//! any structured value a step kind sends).

use docket_core::JsonTemplate;

use crate::diagnostic::Report;
use crate::node::{Node, Value};
use crate::scalar::Typed;
use crate::template::template;

/// Any YAML value as a JSON document whose strings are templates.
pub(crate) fn json_template(node: &Node, params: &[String], report: &mut Report) -> Option<JsonTemplate> {
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
        Value::Seq(items) => {
            JsonTemplate::Array(items.iter().filter_map(|i| json_template(i, params, report)).collect())
        }
        Value::Map(entries) => JsonTemplate::Object(
            entries
                .iter()
                .filter_map(|(k, v)| {
                    let key = crate::decode::key_text(k, report)?.to_owned();
                    Some((key, json_template(v, params, report)?))
                })
                .collect(),
        ),
    };
    (report.error_count() == before).then_some(value)
}
