//! Manifests an `apply` step sends: a YAML file of one or more documents, read when the step
//! plans or runs, whose string values may hold `{{param}}` placeholders.
//!
//! The file is parsed first and parameters are put into the parsed values, never into the
//! text: a parameter holding `x\nkind: Secret` or `{a: b}` stays one string and can never add
//! a key, a document or a list item. A value that is exactly one placeholder (`replicas:
//! "{{replicas}}"`) takes the parameter's type (an `integer` parameter becomes a number, a
//! `boolean` one a boolean); any other value with placeholders stays a string. YAML reads an
//! unquoted `{{` as a mapping, so a value starting with a placeholder is quoted.
//!
//! Each object must be a kind Docket knows the endpoint of ([`Resource`]) — namespaced, so a
//! Role is enough — and not a Secret (a plan shows the values it changes). The rendered objects'
//! canonical JSON is hashed: the plan records the hash and the run applies only the same objects.

use std::path::Path;

use docket_core::catalog::template::Template;
use docket_core::{ParamValue, Params};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::action::Workload;
use crate::client::is_name;

/// Largest manifest file read.
const MAX_BYTES: u64 = 1024 * 1024;
/// Most objects one step applies.
const MAX_OBJECTS: usize = 50;

/// A namespaced resource Docket can apply: its `apiVersion`, `kind` and the path of its
/// collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Resource {
    /// `apps/v1`, `v1`.
    pub(crate) api_version: &'static str,
    /// `Deployment`.
    pub(crate) kind: &'static str,
    /// `deployments`.
    pub(crate) plural: &'static str,
}

/// The kinds `apply` sends. Secrets are left out on purpose: a plan shows each value it changes.
pub(crate) const RESOURCES: [Resource; 11] = [
    Resource { api_version: "apps/v1", kind: "Deployment", plural: "deployments" },
    Resource { api_version: "apps/v1", kind: "StatefulSet", plural: "statefulsets" },
    Resource { api_version: "apps/v1", kind: "DaemonSet", plural: "daemonsets" },
    Resource { api_version: "v1", kind: "ConfigMap", plural: "configmaps" },
    Resource { api_version: "v1", kind: "Service", plural: "services" },
    Resource { api_version: "v1", kind: "ServiceAccount", plural: "serviceaccounts" },
    Resource { api_version: "batch/v1", kind: "CronJob", plural: "cronjobs" },
    Resource { api_version: "networking.k8s.io/v1", kind: "Ingress", plural: "ingresses" },
    Resource { api_version: "networking.k8s.io/v1", kind: "NetworkPolicy", plural: "networkpolicies" },
    Resource { api_version: "autoscaling/v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers" },
    Resource { api_version: "policy/v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets" },
];

impl Resource {
    /// The object's path: `/apis/apps/v1/namespaces/prod/deployments/api`, `/api/v1/…`.
    pub(crate) fn path(&self, namespace: &str, name: &str) -> String {
        let root = if self.api_version.contains('/') { "apis" } else { "api" };
        format!("/{root}/{}/namespaces/{namespace}/{}/{name}", self.api_version, self.plural)
    }
}

/// One object to apply, rendered.
#[derive(Clone, Debug)]
pub(crate) struct Object {
    /// Its resource.
    pub(crate) resource: Resource,
    /// Its namespace: the one it names, else the step's.
    pub(crate) namespace: String,
    /// Its name.
    pub(crate) name: String,
    /// The object as sent, its namespace filled in.
    pub(crate) body: Value,
}

impl Object {
    /// `deployment api in prod`.
    pub(crate) fn place(&self) -> String {
        format!("{} {} in {}", self.resource.kind.to_lowercase(), self.name, self.namespace)
    }

    /// The kind of workload it is, if it has a rollout to follow.
    pub(crate) fn workload(&self) -> Option<Workload> {
        match (self.resource.api_version, self.resource.kind) {
            ("apps/v1", "Deployment") => Some(Workload::Deployment),
            ("apps/v1", "StatefulSet") => Some(Workload::StatefulSet),
            ("apps/v1", "DaemonSet") => Some(Workload::DaemonSet),
            _ => None,
        }
    }
}

/// A manifest read and rendered.
#[derive(Clone, Debug)]
pub(crate) struct Manifest {
    /// Its objects, in file order.
    pub(crate) objects: Vec<Object>,
    /// The SHA-256 (hex) of the rendered objects' canonical JSON.
    pub(crate) sha256: String,
}

/// Reads `path` and renders it with `params`; objects without a namespace go to `namespace`.
pub(crate) async fn read(path: &Path, params: &Params, namespace: &str) -> Result<Manifest, String> {
    let shown = path.display();
    let meta = tokio::fs::metadata(path).await.map_err(|e| format!("the manifest {shown} cannot be read: {e}"))?;
    if meta.len() > MAX_BYTES {
        return Err(format!("the manifest {shown} is larger than 1 MiB"));
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| format!("the manifest {shown} cannot be read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("the manifest {shown} is not UTF-8 text"))?;
    render(&text, params, namespace).map_err(|e| format!("the manifest {shown}: {e}"))
}

/// Parses `text` (one or more YAML documents) and renders each object with `params`.
pub(crate) fn render(text: &str, params: &Params, namespace: &str) -> Result<Manifest, String> {
    let documents: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| {
        let first = e.to_string().lines().next().unwrap_or_default().to_owned();
        format!("{first} (a value that starts with {{{{ must be quoted: \"{{{{param}}}}\")")
    })?;
    let documents: Vec<Value> = documents.into_iter().filter(|d| !d.is_null()).collect();
    if documents.is_empty() {
        return Err("it holds no object".to_owned());
    }
    if documents.len() > MAX_OBJECTS {
        return Err(format!("it holds {} objects; one step applies at most {MAX_OBJECTS}", documents.len()));
    }
    let mut objects = Vec::with_capacity(documents.len());
    for (at, document) in documents.into_iter().enumerate() {
        let number = at + 1;
        let mut body = substitute(document, params).map_err(|e| format!("document {number}: {e}"))?;
        let object = object(&mut body, namespace).map_err(|e| format!("document {number}: {e}"))?;
        objects.push(Object { body, ..object });
    }
    for (i, a) in objects.iter().enumerate() {
        if objects[..i].iter().any(|b| b.resource == a.resource && b.namespace == a.namespace && b.name == a.name) {
            return Err(format!("{} appears twice", a.place()));
        }
    }
    let all = Value::Array(objects.iter().map(|o| o.body.clone()).collect());
    let sha256 = hex::encode(Sha256::digest(docket_core::canonical::to_string(&all).as_bytes()));
    Ok(Manifest { objects, sha256 })
}

/// Checks the object's kind, name and namespace, filling in the namespace.
fn object(body: &mut Value, namespace: &str) -> Result<Object, String> {
    let Some(map) = body.as_object() else { return Err("a document is one object (a mapping)".to_owned()) };
    let text = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    if kind == "Secret" {
        return Err("Secrets are not applied: a plan would show their values; keep them out of the manifest".into());
    }
    let Some(resource) = RESOURCES.iter().find(|r| r.kind == kind && r.api_version == api_version) else {
        let known: Vec<String> = RESOURCES.iter().map(|r| format!("{} {}", r.api_version, r.kind)).collect();
        return Err(format!(
            "{api_version:?} {kind:?} is not a kind Docket applies (it applies: {})",
            known.join(", ")
        ));
    };
    let name = body["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    if !is_name(&name) {
        return Err(format!("{name:?} is not a Kubernetes object name (lower-case letters, digits, `-`, `.`)"));
    }
    let ns = match body["metadata"]["namespace"].as_str() {
        Some(ns) if !ns.is_empty() => ns.to_owned(),
        _ => namespace.to_owned(),
    };
    if !is_name(&ns) {
        return Err(format!("{ns:?} is not a namespace name"));
    }
    body["metadata"]["namespace"] = Value::String(ns.clone());
    Ok(Object { resource: *resource, namespace: ns, name, body: Value::Null })
}

/// Puts parameters into every string (keys included) of `value`.
fn substitute(value: Value, params: &Params) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => string(&text, params)?,
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| substitute(v, params)).collect::<Result<_, _>>()?)
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, v) in map {
                let key = match string(&key, params)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(key, substitute(v, params)?);
            }
            Value::Object(out)
        }
        other => other,
    })
}

/// One string with its placeholders filled: exactly one placeholder takes the parameter's type.
fn string(text: &str, params: &Params) -> Result<Value, String> {
    if !text.contains("{{") {
        return Ok(Value::String(text.to_owned()));
    }
    let template = Template::parse(text).map_err(|e| format!("{text:?}: {e}"))?;
    let names: Vec<&str> = template.placeholders().collect();
    if let Some(missing) = names.iter().find(|n| params.get(n).is_none()) {
        return Err(format!("{{{{{missing}}}}} names no parameter of this request"));
    }
    if let [only] = names.as_slice()
        && text.trim() == format!("{{{{{only}}}}}")
        && let Some(value) = params.get(only)
    {
        return Ok(match value {
            ParamValue::Bool(b) => Value::Bool(*b),
            ParamValue::Int(i) => Value::from(*i),
            ParamValue::Str(s) => Value::String(s.clone()),
        });
    }
    Ok(Value::String(template.render(params)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "test code")]

    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, Value)]) -> Params {
        let map: Map<String, Value> = pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        serde_json::from_value(Value::Object(map)).unwrap()
    }

    const MANIFEST: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  replicas: "{{replicas}}"
  template:
    spec:
      containers:
        - { name: api, image: "registry/api:{{version}}" }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: api-config, namespace: "{{env}}" }
data: { LOG_LEVEL: "{{version}}" }
"#;

    #[test]
    fn parameters_become_values_never_structure() {
        let p = params(&[("replicas", json!(3)), ("version", json!("1.4.2\nkind: Secret")), ("env", json!("prod"))]);
        let m = render(MANIFEST, &p, "staging").unwrap();
        assert_eq!(m.objects.len(), 2);
        let d = &m.objects[0];
        assert_eq!((d.resource.plural, d.namespace.as_str(), d.name.as_str()), ("deployments", "staging", "api"));
        assert_eq!(d.body["spec"]["replicas"], json!(3), "one placeholder takes the parameter's type");
        assert_eq!(
            d.body["spec"]["template"]["spec"]["containers"][0]["image"],
            json!("registry/api:1.4.2\nkind: Secret")
        );
        assert_eq!(d.body["kind"], json!("Deployment"), "a parameter cannot add a key");
        assert_eq!(m.objects[1].namespace, "prod");
        assert_eq!(m.objects[1].place(), "configmap api-config in prod");
        assert_eq!(d.resource.path("staging", "api"), "/apis/apps/v1/namespaces/staging/deployments/api");
        assert_eq!(m.objects[1].resource.path("prod", "c"), "/api/v1/namespaces/prod/configmaps/c");
        // Another value, another hash; the same values, the same hash.
        let other = render(
            MANIFEST,
            &params(&[("replicas", json!(4)), ("version", json!("1")), ("env", json!("prod"))]),
            "staging",
        );
        assert_ne!(other.unwrap().sha256, m.sha256);
        assert_eq!(render(MANIFEST, &p, "staging").unwrap().sha256, m.sha256);
    }

    #[tokio::test]
    async fn the_examples_manifest_renders() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/manifests/api.yaml");
        let p = params(&[("tag", json!("1.4.2")), ("replicas", json!(3)), ("environment", json!("prod"))]);
        let m = read(&path, &p, "prod").await.unwrap();
        let places: Vec<String> = m.objects.iter().map(Object::place).collect();
        assert_eq!(places, ["deployment api in prod", "configmap api-config in prod", "service api in prod"]);
        assert_eq!(m.objects[0].body["spec"]["replicas"], json!(3));
    }

    #[test]
    fn what_cannot_be_applied_is_said() {
        let p = params(&[("version", json!("1"))]);
        let err = |text: &str| render(text, &p, "prod").unwrap_err();
        assert!(err("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n").contains("Secrets are not applied"));
        assert!(err("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n").contains("not a kind Docket applies"));
        assert!(
            err("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"{{nope}}\"}\n")
                .contains("{{nope}} names no parameter")
        );
        assert!(
            err("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n")
                .contains("not a Kubernetes object name")
        );
        assert!(err("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{version}}\n").contains("must be quoted"));
        assert!(err("").contains("holds no object"));
        let twice = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
        assert!(err(twice).contains("appears twice"));
    }
}
