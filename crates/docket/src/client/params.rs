//! `name=value` arguments to request parameters: split at the first `=`, then typed by the
//! workflow's parameter kinds so `replicas=3` is a number and `dry_run=true` a boolean. Values
//! that do not fit their type are sent as typed, for the server to explain.

use anyhow::bail;
use serde_json::{Map, Value};

use super::model::Param;

/// Splits `name=value` pairs; the value may itself contain `=`.
pub(crate) fn parse_pairs(args: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(args.len());
    for arg in args {
        let Some((name, value)) = arg.split_once('=') else {
            bail!("`{arg}` is not name=value (for example environment=prod)");
        };
        let name = name.trim();
        if name.is_empty() {
            bail!("`{arg}` has no parameter name before `=`");
        }
        if pairs.iter().any(|(seen, _)| seen == name) {
            bail!("`{name}` is given twice");
        }
        pairs.push((name.to_owned(), value.to_owned()));
    }
    Ok(pairs)
}

/// The JSON value for `value` of a parameter of `kind`.
fn typed(kind: &str, value: &str) -> Value {
    match kind {
        "integer" => value.trim().parse::<i64>().map_or_else(|_| Value::String(value.to_owned()), Value::from),
        "boolean" => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Value::Bool(true),
            "false" | "no" | "off" | "0" => Value::Bool(false),
            _ => Value::String(value.to_owned()),
        },
        _ => Value::String(value.to_owned()),
    }
}

/// The request's `params` object: each pair typed by the workflow's parameter of that name;
/// names the workflow does not have are sent as strings, and the server names them.
pub(crate) fn to_params(pairs: &[(String, String)], params: &[Param]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(name, value)| {
            let kind = params.iter().find(|p| p.name == *name).map_or("string", |p| p.kind.as_str());
            (name.clone(), typed(kind, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn param(name: &str, kind: &str) -> Param {
        Param { name: name.to_owned(), kind: kind.to_owned(), required: true, ..Param::default() }
    }

    #[test]
    fn pairs_split_at_the_first_equals_sign() {
        let pairs = parse_pairs(&args(&["environment=prod", "query=a=b", "reason="])).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("environment".to_owned(), "prod".to_owned()),
                ("query".to_owned(), "a=b".to_owned()),
                ("reason".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn a_pair_without_equals_is_named() {
        let error = parse_pairs(&args(&["environment=prod", "prod"])).unwrap_err();
        assert_eq!(error.to_string(), "`prod` is not name=value (for example environment=prod)");
        assert_eq!(parse_pairs(&args(&["=x"])).unwrap_err().to_string(), "`=x` has no parameter name before `=`");
        assert_eq!(parse_pairs(&args(&["a=1", "a=2"])).unwrap_err().to_string(), "`a` is given twice");
    }

    #[test]
    fn values_are_typed_by_the_workflow() {
        let spec = [
            param("replicas", "integer"),
            param("dry_run", "boolean"),
            param("version", "string"),
            param("env", "choice"),
        ];
        let pairs = parse_pairs(&args(&["replicas=3", "dry_run=yes", "version=1.4.2", "env=prod", "extra=7"])).unwrap();
        assert_eq!(
            Value::Object(to_params(&pairs, &spec)),
            json!({"replicas": 3, "dry_run": true, "version": "1.4.2", "env": "prod", "extra": "7"})
        );
    }

    #[test]
    fn values_that_do_not_fit_are_left_for_the_server_to_explain() {
        assert_eq!(typed("integer", "three"), json!("three"));
        assert_eq!(typed("integer", " -12 "), json!(-12));
        assert_eq!(typed("boolean", "maybe"), json!("maybe"));
        assert_eq!(typed("boolean", "FALSE"), json!(false));
        assert_eq!(typed("string", "007"), json!("007"));
        assert_eq!(typed("text", "true"), json!("true"));
    }
}
