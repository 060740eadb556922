//! The fake's objects besides Deployments: StatefulSets and DaemonSets (`apps/v1`: read,
//! JSON- and merge-patched, watched, applied) and ConfigMaps, Services and ServiceAccounts
//! (`v1`: read and applied); and server-side apply (`application/apply-patch+yaml`,
//! `fieldManager`, `force`, `dryRun=All`) for every kind the fake keeps, Deployments included.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::api::{Fake, authorize, ok, record, status, watch_response};
use super::patch::{json_patch, merge_patch};
use super::ssa::{self, Refusal};
use super::{Inner, lock};

/// The kinds kept here, by collection: (apiVersion, kind).
pub(crate) fn kind_of(plural: &str) -> Option<(&'static str, &'static str)> {
    Some(match plural {
        "deployments" => ("apps/v1", "Deployment"),
        "statefulsets" => ("apps/v1", "StatefulSet"),
        "daemonsets" => ("apps/v1", "DaemonSet"),
        "configmaps" => ("v1", "ConfigMap"),
        "services" => ("v1", "Service"),
        "serviceaccounts" => ("v1", "ServiceAccount"),
        _ => return None,
    })
}

/// The object as stored.
pub(crate) fn stored(inner: &Inner, plural: &str, ns: &str, name: &str) -> Option<Value> {
    if plural == "deployments" {
        return inner.deployments.get(&(ns.to_owned(), name.to_owned())).cloned();
    }
    inner.objects.get(&(plural.to_owned(), ns.to_owned(), name.to_owned())).cloned()
}

/// Stores the object.
pub(crate) fn store(inner: &mut Inner, plural: &str, ns: &str, name: &str, object: Value) {
    if plural == "deployments" {
        inner.deployments.insert((ns.to_owned(), name.to_owned()), object);
    } else {
        inner.objects.insert((plural.to_owned(), ns.to_owned(), name.to_owned()), object);
    }
}

fn path_of(plural: &str, ns: &str, name: &str) -> String {
    match kind_of(plural) {
        Some(("v1", _)) => format!("/api/v1/namespaces/{ns}/{plural}/{name}"),
        _ => format!("/apis/apps/v1/namespaces/{ns}/{plural}/{name}"),
    }
}

pub(crate) fn not_found(plural: &str, name: &str) -> Response {
    let group = if kind_of(plural).is_some_and(|(v, _)| v == "apps/v1") { ".apps" } else { "" };
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{plural}{group} \"{name}\" not found"),
        json!({"name": name, "kind": plural}),
    )
}

fn refused(r: Refusal) -> Response {
    let code = StatusCode::from_u16(r.code).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    status(code, r.reason, &r.message, r.details)
}

pub(crate) async fn get_object(
    State(fake): State<Fake>,
    Path((ns, plural, name)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    record(&fake, "GET", path_of(&plural, &ns, &name), &query, &headers, Value::Null);
    if kind_of(&plural).is_none() {
        return not_found(&plural, &name);
    }
    if let Some(refusal) = authorize(&fake, &headers, "get", &plural, &ns, Some(&name)) {
        return refusal;
    }
    match stored(&lock(&fake.shared), &plural, &ns, &name) {
        Some(object) => ok(&object),
        None => not_found(&plural, &name),
    }
}

pub(crate) async fn patch_object(
    State(fake): State<Fake>,
    Path((ns, plural, name)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&fake, "PATCH", path_of(&plural, &ns, &name), &query, &headers, parsed.clone());
    if kind_of(&plural).is_none() {
        return not_found(&plural, &name);
    }
    if let Some(refusal) = authorize(&fake, &headers, "patch", &plural, &ns, Some(&name)) {
        return refusal;
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    patch(&fake, &plural, &ns, &name, query.as_deref().unwrap_or(""), &content_type, &parsed)
}

/// A PATCH of any kind the fake keeps: server-side apply, or a JSON or merge patch of a
/// StatefulSet or DaemonSet (Deployments' own patches are `api`'s).
pub(crate) fn patch(
    fake: &Fake,
    plural: &str,
    ns: &str,
    name: &str,
    query: &str,
    content_type: &str,
    body: &Value,
) -> Response {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let param = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let dry_run = param("dryRun") == Some("All");
    if body.is_null() {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body of the request was in an unknown format",
            json!({}),
        );
    }
    if content_type == "application/apply-patch+yaml" {
        let Some(manager) = param("fieldManager").filter(|m| !m.is_empty()) else {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "PATCH /apply requests require fieldManager to be set",
                json!({}),
            );
        };
        let force = param("force") == Some("true");
        return apply(fake, plural, ns, name, body, manager, force, dry_run);
    }
    let mut inner = lock(&fake.shared);
    let Some(current) = stored(&inner, plural, ns, name) else { return not_found(plural, name) };
    let patched = match content_type {
        "application/json-patch+json" => match json_patch(&current, body) {
            Ok(p) => p,
            Err(why) => return status(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &why, json!({"name": name})),
        },
        "application/merge-patch+json" => merge_patch(&current, body),
        other => {
            let message = format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (the fake's), not {other:?}"
            );
            return status(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", &message, json!({}));
        }
    };
    let (_, kind) = kind_of(plural).unwrap_or(("v1", "Object"));
    if let Err(r) = ssa::validate(plural, kind, &patched) {
        return refused(r);
    }
    let mut after = patched;
    after["status"] = current["status"].clone();
    after["metadata"]["name"] = current["metadata"]["name"].clone();
    after["metadata"]["uid"] = current["metadata"]["uid"].clone();
    if after["spec"] != current["spec"] {
        after["metadata"]["generation"] = json!(current["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
    }
    if dry_run {
        return ok(&after);
    }
    after["metadata"]["resourceVersion"] = json!(inner.bump());
    store(&mut inner, plural, ns, name, after.clone());
    let version = inner.version;
    drop(inner);
    fake.changes.send_replace(version);
    ok(&after)
}

/// Server-side apply of `config` to `plural`/`ns`/`name` as `manager`.
#[allow(clippy::too_many_arguments, reason = "one request's parts")]
fn apply(
    fake: &Fake,
    plural: &str,
    ns: &str,
    name: &str,
    config: &Value,
    manager: &str,
    force: bool,
    dry_run: bool,
) -> Response {
    let Some((api_version, kind)) = kind_of(plural) else { return not_found(plural, name) };
    if config["apiVersion"] != api_version || config["kind"] != kind {
        let message = format!(
            "the API version in the data ({}) does not match the expected API version ({api_version}) or kind ({}) does not match {kind}",
            config["apiVersion"].as_str().unwrap_or(""),
            config["kind"].as_str().unwrap_or("")
        );
        return status(StatusCode::BAD_REQUEST, "BadRequest", &message, json!({}));
    }
    if config["metadata"]["name"] != name {
        let message = format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            config["metadata"]["name"].as_str().unwrap_or("")
        );
        return status(StatusCode::BAD_REQUEST, "BadRequest", &message, json!({}));
    }
    if config["metadata"]["namespace"].as_str().is_some_and(|n| n != ns) {
        let message = "the namespace of the provided object does not match the namespace sent on the request";
        return status(StatusCode::BAD_REQUEST, "BadRequest", message, json!({}));
    }
    let mut inner = lock(&fake.shared);
    let key = (plural.to_owned(), ns.to_owned(), name.to_owned());
    let current = stored(&inner, plural, ns, name);
    let owners = inner.owners.get(&key).cloned().unwrap_or_default();
    let (mut object, owners) = match ssa::apply(current.as_ref(), &owners, config, manager, force) {
        Ok(done) => done,
        Err(r) => return refused(r),
    };
    ssa::defaults(plural, &mut object, current.as_ref());
    if let Err(r) = ssa::validate(plural, kind, &object) {
        return refused(r);
    }
    let at = jiff::Timestamp::now().to_string();
    object["metadata"]["namespace"] = json!(ns);
    match &current {
        Some(current) => {
            for key in ["uid", "creationTimestamp", "generation", "resourceVersion"] {
                object["metadata"][key] = current["metadata"][key].clone();
            }
            object["status"] = current["status"].clone();
            if object["spec"] != current["spec"] && current["metadata"]["generation"].is_i64() {
                object["metadata"]["generation"] = json!(current["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
            }
        }
        None => {
            object["metadata"]["uid"] = json!(format!("00000000-0000-4000-8000-{:012}", inner.next_uid));
            object["metadata"]["creationTimestamp"] = json!(at);
            if kind_of(plural).is_some_and(|(v, _)| v == "apps/v1") {
                object["metadata"]["generation"] = json!(1);
                object["status"] = json!({});
            }
        }
    }
    if let Some(map) = object["metadata"].as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    if let Some(map) = object.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    object["metadata"]["managedFields"] = ssa::managed_fields(&owners, api_version, &at);
    if dry_run {
        return ok(&object);
    }
    if current.is_none() {
        inner.next_uid += 1;
    }
    object["metadata"]["resourceVersion"] = json!(inner.bump());
    store(&mut inner, plural, ns, name, object.clone());
    inner.owners.insert(key, owners);
    let version = inner.version;
    drop(inner);
    fake.changes.send_replace(version);
    ok(&object)
}

/// `GET /apis/apps/v1/namespaces/{ns}/{statefulsets|daemonsets}`: a list, or a watch.
pub(crate) async fn list_objects(
    State(fake): State<Fake>,
    Path((ns, plural)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    record(&fake, "GET", format!("/apis/apps/v1/namespaces/{ns}/{plural}"), &query, &headers, Value::Null);
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).into_owned().collect();
    let param = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let name = param("fieldSelector").and_then(|f| f.strip_prefix("metadata.name=").map(str::to_owned));
    let watching = param("watch").is_some_and(|w| w == "true" || w == "1");
    if let Some(refusal) =
        authorize(&fake, &headers, if watching { "watch" } else { "list" }, &plural, &ns, name.as_deref())
    {
        return refusal;
    }
    let select = {
        let (plural, ns) = (plural.clone(), ns.clone());
        move |inner: &Inner| -> Vec<Value> {
            inner
                .objects
                .iter()
                .filter(|((p, n, o), _)| *p == plural && *n == ns && name.as_ref().is_none_or(|want| want == o))
                .map(|(_, v)| v.clone())
                .collect()
        }
    };
    if !watching {
        let inner = lock(&fake.shared);
        let kind = kind_of(&plural).map_or("Object", |(_, k)| k);
        return ok(&json!({"apiVersion": "apps/v1", "kind": format!("{kind}List"),
                          "metadata": {"resourceVersion": inner.version.to_string()}, "items": select(&inner)}));
    }
    let from: u64 = param("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
    let seconds: u64 = param("timeoutSeconds").and_then(|v| v.parse().ok()).unwrap_or(1800);
    watch_response(&fake, Box::new(select), from, seconds)
}
