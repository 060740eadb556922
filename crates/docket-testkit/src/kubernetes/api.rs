//! The fake's HTTP side: authentication (bearer tokens), authorization (each token's verbs), the
//! Deployment and ReplicaSet endpoints (other kinds are `objects`'), and watches streamed as
//! newline-delimited JSON events.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::objects;
use super::patch::{json_patch, merge_patch};
use super::{Inner, Request, Shared, lock};

#[derive(Clone)]
pub(crate) struct Fake {
    pub(crate) shared: Shared,
    pub(crate) changes: tokio::sync::watch::Sender<u64>,
}

pub(crate) fn router(shared: Shared, changes: tokio::sync::watch::Sender<u64>) -> Router {
    Router::new()
        .route("/apis/apps/v1/namespaces/{ns}/deployments/{name}", get(get_deployment).patch(patch_deployment))
        .route("/apis/apps/v1/namespaces/{ns}/deployments", get(list_deployments))
        .route("/apis/apps/v1/namespaces/{ns}/replicasets", get(list_replica_sets))
        .route("/apis/apps/v1/namespaces/{ns}/{plural}/{name}", get(objects::get_object).patch(objects::patch_object))
        .route("/apis/apps/v1/namespaces/{ns}/{plural}", get(objects::list_objects))
        .route("/api/v1/namespaces/{ns}/{plural}/{name}", get(objects::get_object).patch(objects::patch_object))
        .with_state(Fake { shared, changes })
}

/// A `Status` answer, as the API server writes refusals.
pub(crate) fn status(code: StatusCode, reason: &str, message: &str, details: Value) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": details, "code": code.as_u16(),
    });
    (code, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

pub(crate) fn ok(body: &Value) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// Checks the bearer token and that it may `verb` `resource`; the refusal otherwise.
pub(crate) fn authorize(
    fake: &Fake,
    headers: &HeaderMap,
    verb: &str,
    resource: &str,
    ns: &str,
    name: Option<&str>,
) -> Option<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let inner = lock(&fake.shared);
    let Some(grant) = inner.grants.get(token) else {
        return Some(status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized", json!({})));
    };
    let allowed = grant.allowed.as_ref().is_none_or(|a| a.iter().any(|(v, r)| v == verb && r == resource));
    if allowed {
        return None;
    }
    let group = if objects::kind_of(resource).is_some_and(|(v, _)| v == "v1") { "" } else { "apps" };
    let dotted = if group.is_empty() { String::new() } else { format!(".{group}") };
    let subject = match name {
        Some(name) => format!("{resource}{dotted} \"{name}\" is forbidden"),
        None => format!("{resource}{dotted} is forbidden"),
    };
    let message = format!(
        "{subject}: User \"{}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" in the namespace \"{ns}\"",
        grant.user
    );
    Some(status(StatusCode::FORBIDDEN, "Forbidden", &message, json!({"name": name, "group": group, "kind": resource})))
}

pub(crate) fn record(
    fake: &Fake,
    method: &str,
    path: String,
    query: &Option<String>,
    headers: &HeaderMap,
    body: Value,
) {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    lock(&fake.shared).requests.push(Request {
        method: method.to_owned(),
        path,
        query: query.clone().unwrap_or_default(),
        content_type,
        body,
    });
}

fn not_found(name: &str) -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("deployments.apps \"{name}\" not found"),
        json!({"name": name, "group": "apps", "kind": "deployments"}),
    )
}

async fn get_deployment(
    State(fake): State<Fake>,
    Path((ns, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    record(&fake, "GET", format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"), &query, &headers, Value::Null);
    if let Some(refused) = authorize(&fake, &headers, "get", "deployments", &ns, Some(&name)) {
        return refused;
    }
    match lock(&fake.shared).deployments.get(&(ns, name.clone())) {
        Some(d) => ok(d),
        None => not_found(&name),
    }
}

async fn patch_deployment(
    State(fake): State<Fake>,
    Path((ns, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(
        &fake,
        "PATCH",
        format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"),
        &query,
        &headers,
        parsed.clone(),
    );
    if let Some(refused) = authorize(&fake, &headers, "patch", "deployments", &ns, Some(&name)) {
        return refused;
    }
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).into_owned().collect();
    let dry_run = pairs.iter().any(|(k, v)| k == "dryRun" && v == "All");
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if parsed.is_null() {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body of the request was in an unknown format",
            json!({}),
        );
    }
    if content_type == "application/apply-patch+yaml" {
        return objects::patch(&fake, "deployments", &ns, &name, query.as_deref().unwrap_or(""), content_type, &parsed);
    }
    let mut inner = lock(&fake.shared);
    let key = (ns.clone(), name.clone());
    let Some(current) = inner.deployments.get(&key).cloned() else { return not_found(&name) };
    let patched = match content_type {
        "application/json-patch+json" => match json_patch(&current, &parsed) {
            Ok(p) => p,
            Err(why) => return status(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &why, json!({"name": name})),
        },
        "application/merge-patch+json" => merge_patch(&current, &parsed),
        other => {
            let message = format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json (the fake's), not {other:?}"
            );
            return status(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", &message, json!({}));
        }
    };
    let containers = patched["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default();
    if containers.is_empty() || containers.iter().any(|c| c["image"].as_str().is_none_or(str::is_empty)) {
        let message = format!("Deployment.apps \"{name}\" is invalid: spec.template.spec.containers: Required value");
        return status(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &message, json!({"name": name}));
    }
    let mut stored = patched;
    stored["status"] = current["status"].clone();
    stored["metadata"]["name"] = current["metadata"]["name"].clone();
    stored["metadata"]["uid"] = current["metadata"]["uid"].clone();
    if stored["spec"] != current["spec"] && stored["spec"]["template"] != current["spec"]["template"] {
        let generation = current["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
        stored["metadata"]["generation"] = json!(generation);
    }
    if dry_run {
        return ok(&stored);
    }
    stored["metadata"]["resourceVersion"] = json!(inner.bump());
    inner.deployments.insert(key, stored.clone());
    let version = inner.version;
    drop(inner);
    fake.changes.send_replace(version);
    ok(&stored)
}

async fn list_deployments(
    State(fake): State<Fake>,
    Path(ns): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    record(&fake, "GET", format!("/apis/apps/v1/namespaces/{ns}/deployments"), &query, &headers, Value::Null);
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).into_owned().collect();
    let param = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let name = param("fieldSelector").and_then(|f| f.strip_prefix("metadata.name=").map(str::to_owned));
    let watching = param("watch").is_some_and(|w| w == "true" || w == "1");
    let verb = if watching { "watch" } else { "list" };
    if let Some(refused) = authorize(&fake, &headers, verb, "deployments", &ns, name.as_deref()) {
        return refused;
    }
    if !watching {
        let inner = lock(&fake.shared);
        let items: Vec<Value> = inner
            .deployments
            .iter()
            .filter(|((n, d), _)| *n == ns && name.as_ref().is_none_or(|want| want == d))
            .map(|(_, d)| d.clone())
            .collect();
        let list = json!({"apiVersion": "apps/v1", "kind": "DeploymentList",
                          "metadata": {"resourceVersion": inner.version.to_string()}, "items": items});
        return ok(&list);
    }
    let from: u64 = param("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
    let seconds: u64 = param("timeoutSeconds").and_then(|v| v.parse().ok()).unwrap_or(1800);
    let select = move |inner: &Inner| -> Vec<Value> {
        inner
            .deployments
            .iter()
            .filter(|((n, d), _)| *n == ns && name.as_ref().is_none_or(|want| want == d))
            .map(|(_, d)| d.clone())
            .collect()
    };
    watch_response(&fake, Box::new(select), from, seconds)
}

/// The objects a watch follows, as stored now.
pub(crate) type Select = Box<dyn Fn(&Inner) -> Vec<Value> + Send + Sync>;

/// A watch: every object `select` picks whose `resourceVersion` is past `from`, as a
/// `MODIFIED` event, then each change as it comes, until `seconds` pass.
pub(crate) fn watch_response(fake: &Fake, select: Select, from: u64, seconds: u64) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let shared = fake.shared.clone();
    let mut changes = fake.changes.subscribe();
    tokio::spawn(async move {
        let end = tokio::time::Instant::now() + Duration::from_secs(seconds);
        let mut sent = from;
        loop {
            let events: Vec<Value> = {
                let inner = lock(&shared);
                select(&inner)
                    .into_iter()
                    .filter(|d| {
                        d["metadata"]["resourceVersion"].as_str().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
                            > sent
                    })
                    .collect()
            };
            for d in events {
                sent = sent.max(d["metadata"]["resourceVersion"].as_str().and_then(|v| v.parse().ok()).unwrap_or(0));
                let mut line = json!({"type": "MODIFIED", "object": d}).to_string();
                line.push('\n');
                if tx.send(Bytes::from(line)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                () = tokio::time::sleep_until(end) => return,
                () = tx.closed() => return,
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|bytes| (Ok::<Bytes, Infallible>(bytes), rx))
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], Body::from_stream(stream)).into_response()
}

async fn list_replica_sets(
    State(fake): State<Fake>,
    Path(ns): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    record(&fake, "GET", format!("/apis/apps/v1/namespaces/{ns}/replicasets"), &query, &headers, Value::Null);
    if let Some(refused) = authorize(&fake, &headers, "list", "replicasets", &ns, None) {
        return refused;
    }
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).into_owned().collect();
    let selector = pairs.iter().find(|(k, _)| k == "labelSelector").map(|(_, v)| v.clone()).unwrap_or_default();
    let wanted: Vec<(&str, &str)> =
        selector.split(',').filter(|s| !s.is_empty()).filter_map(|s| s.split_once('=')).collect();
    let inner = lock(&fake.shared);
    let items: Vec<Value> = inner
        .replica_sets
        .iter()
        .filter(|((n, _), rs)| *n == ns && wanted.iter().all(|(k, v)| rs["metadata"]["labels"][*k] == *v))
        .map(|(_, rs)| rs.clone())
        .collect();
    ok(&json!({"apiVersion": "apps/v1", "kind": "ReplicaSetList",
               "metadata": {"resourceVersion": inner.version.to_string()}, "items": items}))
}
