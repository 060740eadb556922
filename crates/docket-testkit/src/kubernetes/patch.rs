//! The patch formats the fake accepts: RFC 6902 JSON Patch (`test`, `add`, `replace`, `remove`
//! on RFC 6901 pointers) and RFC 7386 JSON Merge Patch.

use serde_json::Value;

/// Applies a JSON Patch to `doc`; the first operation that fails says why, and nothing is kept.
pub(crate) fn json_patch(doc: &Value, ops: &Value) -> Result<Value, String> {
    let Some(ops) = ops.as_array() else { return Err("a JSON Patch is a list of operations".to_owned()) };
    let mut out = doc.clone();
    for op in ops {
        let path = op["path"].as_str().ok_or("an operation without a path")?;
        match op["op"].as_str().unwrap_or("") {
            "test" => {
                let found = out.pointer(path).ok_or_else(|| format!("testing path {path}: it does not exist"))?;
                if *found != op["value"] {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            "replace" => {
                let slot = out
                    .pointer_mut(path)
                    .ok_or_else(|| format!("replace operation does not apply: doc is missing path: {path}"))?;
                *slot = op["value"].clone();
            }
            "add" => {
                let (parent, key) = split(path)?;
                let target = out
                    .pointer_mut(&parent)
                    .ok_or_else(|| format!("add operation does not apply: doc is missing path: {path}"))?;
                match target {
                    Value::Object(map) => {
                        map.insert(key, op["value"].clone());
                    }
                    Value::Array(list) if key == "-" => list.push(op["value"].clone()),
                    Value::Array(list) => {
                        let at: usize = key.parse().map_err(|_| format!("{path}: not an index"))?;
                        if at > list.len() {
                            return Err(format!("{path}: index out of range"));
                        }
                        list.insert(at, op["value"].clone());
                    }
                    _ => return Err(format!("add operation does not apply: {parent} is not a container")),
                }
            }
            "remove" => {
                let (parent, key) = split(path)?;
                let target = out
                    .pointer_mut(&parent)
                    .ok_or_else(|| format!("remove operation does not apply: doc is missing path: {path}"))?;
                let removed = match target {
                    Value::Object(map) => map.remove(&key).is_some(),
                    Value::Array(list) => {
                        key.parse::<usize>().ok().filter(|i| *i < list.len()).map(|i| list.remove(i)).is_some()
                    }
                    _ => false,
                };
                if !removed {
                    return Err(format!("remove operation does not apply: doc is missing path: {path}"));
                }
            }
            other => return Err(format!("unexpected kind of operation {other:?}")),
        }
    }
    Ok(out)
}

fn split(path: &str) -> Result<(String, String), String> {
    let (parent, last) = path.rsplit_once('/').ok_or_else(|| format!("{path:?} is not a JSON pointer"))?;
    Ok((parent.to_owned(), last.replace("~1", "/").replace("~0", "~")))
}

/// Applies a JSON Merge Patch to `doc`: objects merge, `null` removes, anything else replaces.
pub(crate) fn merge_patch(doc: &Value, patch: &Value) -> Value {
    match (doc, patch) {
        (Value::Object(base), Value::Object(changes)) => {
            let mut out = base.clone();
            for (key, value) in changes {
                if value.is_null() {
                    out.remove(key);
                } else {
                    let merged = merge_patch(base.get(key).unwrap_or(&Value::Null), value);
                    out.insert(key.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (_, Value::Object(_)) => merge_patch(&Value::Object(serde_json::Map::new()), patch),
        (_, other) => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_apply_as_the_rfcs_say() {
        let doc = json!({"a": {"b": 1, "c/d": [1, 2]}});
        let ops = json!([{"op": "test", "path": "/a/b", "value": 1}, {"op": "replace", "path": "/a/c~1d/1", "value": 3},
                         {"op": "add", "path": "/a/e", "value": true}, {"op": "remove", "path": "/a/b"}]);
        assert_eq!(json_patch(&doc, &ops), Ok(json!({"a": {"c/d": [1, 3], "e": true}})));
        let failing = json!([{"op": "test", "path": "/a/b", "value": 2}]);
        assert_eq!(json_patch(&doc, &failing), Err("testing value /a/b failed: test failed".to_owned()));
        assert_eq!(
            merge_patch(&doc, &json!({"a": {"b": null, "x": {"y": 1}}})),
            json!({"a": {"c/d": [1, 2], "x": {"y": 1}}})
        );
    }
}
