//! A JSON document whose string leaves are templates: an `http` body, any structured value a
//! step kind sends. A leaf that is exactly one `{{param}}` renders as the parameter's typed value.

use super::param::{ParamValue, Params};
use super::template::Template;

/// A JSON document whose string leaves are templates.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonTemplate {
    /// `null`, `true`, `false` or a number, as written.
    Plain(serde_json::Value),
    /// A string leaf; a string that is exactly one `{{param}}` renders as the typed value.
    Text(Template),
    /// An array.
    Array(Vec<JsonTemplate>),
    /// An object, keys in order.
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// Every template in the document, in order.
    pub fn collect_templates<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            JsonTemplate::Plain(_) => {}
            JsonTemplate::Text(t) => out.push(t),
            JsonTemplate::Array(items) => items.iter().for_each(|i| i.collect_templates(out)),
            JsonTemplate::Object(fields) => fields.iter().for_each(|(_, v)| v.collect_templates(out)),
        }
    }

    /// Renders the document with `params`.
    pub fn render(&self, params: &Params) -> serde_json::Value {
        match self {
            JsonTemplate::Plain(v) => v.clone(),
            JsonTemplate::Text(t) => {
                let mut names = t.placeholders();
                if let (Some(only), None) = (names.next(), names.next())
                    && t.to_string() == format!("{{{{{only}}}}}")
                {
                    return match params.get(only) {
                        Some(ParamValue::Int(i)) => serde_json::Value::from(*i),
                        Some(ParamValue::Bool(b)) => serde_json::Value::from(*b),
                        Some(ParamValue::Str(s)) => serde_json::Value::from(s.clone()),
                        None => serde_json::Value::Null,
                    };
                }
                serde_json::Value::String(t.render(params))
            }
            JsonTemplate::Array(items) => items.iter().map(|i| i.render(params)).collect(),
            JsonTemplate::Object(fields) => {
                fields.iter().map(|(k, v)| (k.clone(), v.render(params))).collect::<serde_json::Map<_, _>>().into()
            }
        }
    }
}
