//! What applying an object changes: the object as the cluster holds it against the object the
//! API server's dry run of the apply answered, field by field. Fields only the server writes
//! (`status`, `managedFields`, `resourceVersion`, `generation`, `uid`, `creationTimestamp`) are
//! left out; list items with a `name` are matched by name (`containers[api].image`), others by
//! place.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Metadata the server writes on every change, never part of a diff.
const SERVER_METADATA: [&str; 6] =
    ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"];

/// Each changed field's path with its value before and after (`None`: absent), in path order.
pub(crate) fn fields(before: &Value, after: &Value) -> Vec<(String, Option<Value>, Option<Value>)> {
    let (mut was, mut is) = (BTreeMap::new(), BTreeMap::new());
    leaves(&strip(before), "", &mut was);
    leaves(&strip(after), "", &mut is);
    let mut paths: Vec<&String> = was.keys().chain(is.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|p| was.get(*p) != is.get(*p))
        .map(|p| (p.clone(), was.get(p).cloned(), is.get(p).cloned()))
        .collect()
}

/// Every leaf of `object` by path (for a created object's plan: what it will hold).
pub(crate) fn all_fields(object: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    leaves(&strip(object), "", &mut out);
    out
}

fn strip(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in SERVER_METADATA {
                meta.remove(key);
            }
        }
    }
    object
}

fn leaves(value: &Value, path: &str, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                leaves(v, &join(path, key), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let key = item.get("name").and_then(Value::as_str).map_or_else(|| i.to_string(), str::to_owned);
                leaves(item, &format!("{path}[{key}]"), out);
            }
        }
        other => {
            out.insert(path.to_owned(), other.clone());
        }
    }
}

/// `a.b`, or `a[b.c/d]` for a key that holds dots or slashes (annotations, labels).
fn join(path: &str, key: &str) -> String {
    if key.contains(['.', '/', '[', ']']) {
        format!("{path}[{key}]")
    } else if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The changed fields as the plan's `before` and `after` objects (an absent field is `null`).
pub(crate) fn sides(changed: &[(String, Option<Value>, Option<Value>)]) -> (Value, Value) {
    let mut before = Map::new();
    let mut after = Map::new();
    for (path, was, is) in changed {
        before.insert(path.clone(), was.clone().unwrap_or(Value::Null));
        after.insert(path.clone(), is.clone().unwrap_or(Value::Null));
    }
    (Value::Object(before), Value::Object(after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_named_by_path_and_list_items_by_name() {
        let before = json!({"metadata": {"name": "api", "resourceVersion": "1", "annotations": {"a.io/x": "1"}},
                            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "api", "image": "a:1"}]}}},
                            "status": {"replicas": 2}});
        let after = json!({"metadata": {"name": "api", "resourceVersion": "9", "annotations": {"a.io/x": "2"}},
                           "spec": {"replicas": 3, "paused": true, "template": {"spec": {"containers": [{"name": "api", "image": "a:2"}]}}},
                           "status": {"replicas": 3}});
        let changed = fields(&before, &after);
        let paths: Vec<&str> = changed.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(
            paths,
            [
                "metadata.annotations[a.io/x]",
                "spec.paused",
                "spec.replicas",
                "spec.template.spec.containers[api].image"
            ]
        );
        let (b, a) = sides(&changed);
        assert_eq!(b["spec.paused"], Value::Null);
        assert_eq!((b["spec.replicas"].clone(), a["spec.replicas"].clone()), (json!(2), json!(3)));
        assert!(fields(&before, &before).is_empty());
    }
}
