//! Server-side apply as the fake does it: the applied configuration merged into the object
//! (maps key by key, lists of named items by `name`, other lists whole), each field's managers
//! tracked, and a field another manager owns with a different value refused as a conflict
//! unless `force` takes it over — the `Status` with reason `Conflict` and one
//! `FieldManagerConflict` cause per field, as the API server writes it. Then the server's
//! defaults and validation for the kinds the fake keeps (Deployments, StatefulSets,
//! DaemonSets, ConfigMaps, Services).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// One step of a field path: a map key, or a list item by its `name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Seg {
    Key(String),
    Name(String),
}

/// A field path.
pub(crate) type FieldPath = Vec<Seg>;

/// Who owns which fields of one object, by manager.
pub(crate) type Owners = BTreeMap<String, BTreeSet<FieldPath>>;

/// Why an apply was refused: the status code, reason, message and details.
pub(crate) struct Refusal {
    pub(crate) code: u16,
    pub(crate) reason: &'static str,
    pub(crate) message: String,
    pub(crate) details: Value,
}

/// `.spec.template.spec.containers[name="api"].image`, as conflicts name fields.
pub(crate) fn dotted(path: &FieldPath) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => format!(".{k}"),
            Seg::Name(n) => format!("[name=\"{n}\"]"),
        })
        .collect()
}

/// The leaves of `value` by path (lists of named maps go item by item; other lists are leaves).
pub(crate) fn leaves(value: &Value) -> BTreeMap<FieldPath, Value> {
    let mut out = BTreeMap::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn named(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().all(|i| i.get("name").and_then(Value::as_str).is_some())
}

fn walk(value: &Value, path: &mut FieldPath, out: &mut BTreeMap<FieldPath, Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                path.push(Seg::Key(k.clone()));
                walk(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) if named(items) => {
            for item in items {
                path.push(Seg::Name(item["name"].as_str().unwrap_or_default().to_owned()));
                walk(item, path, out);
                path.pop();
            }
        }
        other => {
            out.insert(path.clone(), other.clone());
        }
    }
}

/// `config` merged into `base`.
fn merge(base: &Value, config: &Value) -> Value {
    match (base, config) {
        (Value::Object(b), Value::Object(c)) => {
            let mut out = b.clone();
            for (k, v) in c {
                let merged = merge(b.get(k).unwrap_or(&Value::Null), v);
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(b), Value::Array(c)) if named(c) && (b.is_empty() || named(b)) => {
            let mut out = b.clone();
            for item in c {
                match out.iter_mut().find(|i| i["name"] == item["name"]) {
                    Some(slot) => *slot = merge(slot, item),
                    None => out.push(item.clone()),
                }
            }
            Value::Array(out)
        }
        (_, other) => other.clone(),
    }
}

/// Applies `config` as `manager` to `current` (`None`: a new object): the merged object and the
/// owners after, or the conflicts.
pub(crate) fn apply(
    current: Option<&Value>,
    owners: &Owners,
    config: &Value,
    manager: &str,
    force: bool,
) -> Result<(Value, Owners), Refusal> {
    let wanted = leaves(&strip(config));
    let before = current.map(|c| leaves(&strip(c))).unwrap_or_default();
    let api_version = config["apiVersion"].as_str().unwrap_or_default();
    let mut conflicts: Vec<(String, String)> = Vec::new();
    let mut owners = owners.clone();
    for (path, value) in &wanted {
        let changes = before.get(path).is_some_and(|was| was != value);
        if !changes {
            continue;
        }
        for (other, fields) in owners.iter_mut().filter(|(m, _)| m.as_str() != manager) {
            if fields.contains(path) {
                if force {
                    fields.remove(path);
                } else {
                    conflicts.push((other.clone(), dotted(path)));
                }
            }
        }
    }
    if !conflicts.is_empty() {
        let n = conflicts.len();
        let listed: Vec<String> =
            conflicts.iter().map(|(m, f)| format!("conflict with \"{m}\" using {api_version}: {f}")).collect();
        let message = if n == 1 {
            format!("Apply failed with 1 conflict: {}", listed[0])
        } else {
            format!("Apply failed with {n} conflicts: {}", listed.join("\n"))
        };
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|(m, f)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{m}\" using {api_version}"), "field": f}))
            .collect();
        return Err(Refusal { code: 409, reason: "Conflict", message, details: json!({"causes": causes}) });
    }
    owners.insert(manager.to_owned(), wanted.keys().cloned().collect());
    owners.retain(|_, fields| !fields.is_empty());
    let base = current.cloned().unwrap_or_else(|| json!({}));
    Ok((merge(&base, config), owners))
}

/// The object without what the server alone writes (`status`, server metadata).
fn strip(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"] {
                meta.remove(key);
            }
        }
    }
    object
}

/// `metadata.managedFields` for `owners`, in the `FieldsV1` form (`f:spec`, `k:{"name":"api"}`).
pub(crate) fn managed_fields(owners: &Owners, api_version: &str, at: &str) -> Value {
    let entries: Vec<Value> = owners
        .iter()
        .map(|(manager, fields)| {
            let mut tree = Map::new();
            for path in fields {
                let mut node = &mut tree;
                for seg in path {
                    let key = match seg {
                        Seg::Key(k) => format!("f:{k}"),
                        Seg::Name(n) => format!("k:{}", json!({"name": n})),
                    };
                    let next = node.entry(key).or_insert_with(|| json!({}));
                    let Some(map) = next.as_object_mut() else { break };
                    node = map;
                }
            }
            let operation = if manager == "docket" || manager.contains("apply") { "Apply" } else { "Update" };
            json!({"manager": manager, "operation": operation, "apiVersion": api_version, "time": at,
                   "fieldsType": "FieldsV1", "fieldsV1": tree})
        })
        .collect();
    Value::Array(entries)
}

/// The server's defaults for `plural` (what `kubectl get -o yaml` shows that nobody wrote).
pub(crate) fn defaults(plural: &str, object: &mut Value, current: Option<&Value>) {
    let spec = &mut object["spec"];
    let mut default = |key: &str, value: Value| {
        if spec.get(key).is_none_or(Value::is_null) {
            spec[key] = value;
        }
    };
    match plural {
        "deployments" => {
            default("replicas", json!(1));
            default("progressDeadlineSeconds", json!(600));
            default("revisionHistoryLimit", json!(10));
            default(
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
        }
        "statefulsets" => {
            default("replicas", json!(1));
            default("podManagementPolicy", json!("OrderedReady"));
            default("revisionHistoryLimit", json!(10));
            default("updateStrategy", json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}));
        }
        "daemonsets" => {
            default("revisionHistoryLimit", json!(10));
            default(
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
            );
        }
        "services" => {
            default("type", json!("ClusterIP"));
            default("sessionAffinity", json!("None"));
            let ip = current.and_then(|c| c["spec"]["clusterIP"].as_str()).unwrap_or("10.96.0.10").to_owned();
            default("clusterIP", json!(ip));
            if let Some(ports) = object["spec"]["ports"].as_array_mut() {
                for port in ports {
                    if port.get("protocol").is_none() {
                        port["protocol"] = json!("TCP");
                    }
                    if port.get("targetPort").is_none() {
                        port["targetPort"] = port["port"].clone();
                    }
                }
            }
        }
        _ => {}
    }
}

/// The API server's validation of the kinds the fake keeps.
pub(crate) fn validate(plural: &str, kind: &str, object: &Value) -> Result<(), Refusal> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let invalid = |field: String, what: String| {
        let group = if matches!(plural, "deployments" | "statefulsets" | "daemonsets") { ".apps" } else { "" };
        Refusal {
            code: 422,
            reason: "Invalid",
            message: format!("{kind}{group} \"{name}\" is invalid: {field}: {what}"),
            details: json!({"name": name, "kind": kind, "causes": [{"reason": "FieldValueInvalid", "message": what, "field": field}]}),
        }
    };
    match plural {
        "deployments" | "statefulsets" | "daemonsets" => {
            let containers = object["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default();
            if containers.is_empty() {
                return Err(invalid("spec.template.spec.containers".into(), "Required value".into()));
            }
            for (i, c) in containers.iter().enumerate() {
                if c["image"].as_str().is_none_or(str::is_empty) {
                    return Err(invalid(format!("spec.template.spec.containers[{i}].image"), "Required value".into()));
                }
            }
            let selector = object["spec"]["selector"]["matchLabels"].as_object().cloned().unwrap_or_default();
            let labels = &object["spec"]["template"]["metadata"]["labels"];
            if selector.is_empty() || selector.iter().any(|(k, v)| labels[k] != *v) {
                return Err(invalid(
                    "spec.template.metadata.labels".into(),
                    format!("Invalid value: {labels}: `selector` does not match template `labels`"),
                ));
            }
        }
        "services" => {
            for (i, port) in object["spec"]["ports"].as_array().cloned().unwrap_or_default().iter().enumerate() {
                let n = port["port"].as_i64().unwrap_or(0);
                if !(1..=65535).contains(&n) {
                    return Err(invalid(
                        format!("spec.ports[{i}].port"),
                        format!("Invalid value: {n}: must be between 1 and 65535, inclusive"),
                    ));
                }
            }
        }
        "configmaps" => {
            if let Some((key, _)) = object["data"]
                .as_object()
                .and_then(|d| d.iter().find(|(_, v)| !v.is_string()).map(|(k, v)| (k.clone(), v.clone())))
            {
                return Err(Refusal {
                    code: 400,
                    reason: "BadRequest",
                    message: format!(
                        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal non-string into Go struct field ConfigMap.data of type string (data.{key})"
                    ),
                    details: json!({}),
                });
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_merge_by_name_and_conflicts_name_the_field_and_manager() {
        let current =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        let mut owners = Owners::new();
        owners.insert("kubectl-edit".into(), [vec![Seg::Key("data".into()), Seg::Key("a".into())]].into());
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "9"}});
        let Err(refusal) = apply(Some(&current), &owners, &config, "docket", false) else { panic!("no conflict") };
        assert_eq!((refusal.code, refusal.reason), (409, "Conflict"));
        assert_eq!(refusal.message, "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.a");
        let Ok((merged, after)) = apply(Some(&current), &owners, &config, "docket", true) else { panic!("forced") };
        assert_eq!(merged["data"], json!({"a": "9", "b": "2"}));
        assert!(!after.contains_key("kubectl-edit"), "force takes the field over");
        let containers =
            json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}});
        let change = json!({"spec": {"containers": [{"name": "b", "image": "y:2"}]}});
        assert_eq!(merge(&containers, &change)["spec"]["containers"][1]["image"], json!("y:2"));
        assert_eq!(merge(&containers, &change)["spec"]["containers"][0]["image"], json!("x:1"));
    }
}
