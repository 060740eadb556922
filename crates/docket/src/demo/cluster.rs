//! The demo's stand-in for a Kubernetes cluster, so its `kubernetes` deploy shows a real plan —
//! current image → target image, replicas, namespace — with nothing installed: a small API
//! server on loopback speaking the `apps/v1` calls the `kubernetes` step kind makes (read a
//! Deployment, JSON Patch it, dry run included, watch it, list its ReplicaSets) for `api`, `web`
//! and `worker` in `staging` and `prod`, each starting at 1.4.1 with 3 replicas. A changed pod
//! template gets a ReplicaSet under the next revision and one pod is replaced every 300 ms. It
//! lives only as long as the demo and says it is a stand-in in each Deployment's annotations.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// The image repository of the demo's services.
const REGISTRY: &str = "registry.demo.local";
/// One pod replaced per tick.
const TICK: Duration = Duration::from_millis(300);

/// A ReplicaSet as the stand-in keeps it: (revision, image, replicas).
type ReplicaSet = (i64, String, i64);

#[derive(Default)]
struct Inner {
    version: u64,
    deployments: BTreeMap<(String, String), Value>,
    /// (namespace, deployment) → its ReplicaSets as (revision, image, replicas), oldest first.
    history: BTreeMap<(String, String), Vec<ReplicaSet>>,
}

#[derive(Clone)]
struct Cluster {
    inner: Arc<Mutex<Inner>>,
    changes: tokio::sync::watch::Sender<u64>,
}

impl Cluster {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Starts the stand-in on a loopback port; its URL.
pub(super) async fn start() -> anyhow::Result<String> {
    let mut inner = Inner::default();
    for ns in ["staging", "prod"] {
        for name in ["api", "web", "worker"] {
            inner.version += 1;
            let image = format!("{REGISTRY}/{name}:1.4.1");
            inner.deployments.insert((ns.to_owned(), name.to_owned()), deployment(ns, name, &image, inner.version));
            inner.history.insert((ns.to_owned(), name.to_owned()), vec![(1, image, 3)]);
        }
    }
    let (changes, _) = tokio::sync::watch::channel(0);
    let cluster = Cluster { inner: Arc::new(Mutex::new(inner)), changes };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = Router::new()
        .route("/apis/apps/v1/namespaces/{ns}/deployments/{name}", get(read).patch(patch))
        .route("/apis/apps/v1/namespaces/{ns}/deployments", get(watch))
        .route("/apis/apps/v1/namespaces/{ns}/replicasets", get(replica_sets))
        .with_state(cluster.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    tokio::spawn(controller(cluster));
    Ok(url)
}

/// A kubeconfig for the stand-in.
pub(super) fn kubeconfig(url: &str) -> String {
    format!(
        "# The demo's stand-in cluster (written by `docket demo` on every start).\napiVersion: v1\nkind: Config\n\
         current-context: demo\nclusters:\n  - name: demo\n    cluster:\n      server: {url}\ncontexts:\n  - name: demo\n\
         \x20   context:\n      cluster: demo\n      user: demo\nusers:\n  - name: demo\n    user:\n      token: demo-cluster-token\n"
    )
}

fn deployment(ns: &str, name: &str, image: &str, version: u64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "uid": format!("demo-{ns}-{name}"), "generation": 1,
                     "resourceVersion": version.to_string(),
                     "annotations": {"deployment.kubernetes.io/revision": "1", "docket.demo/stand-in": "not a real cluster"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}}, "progressDeadlineSeconds": 600,
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": name, "image": image}]}}},
        "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                   "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                                   "message": format!("ReplicaSet \"{name}-1\" has successfully progressed.")}]},
    })
}

fn answer(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn refused(status: StatusCode, reason: &str, message: &str) -> Response {
    answer(
        status,
        &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                           "reason": reason, "code": status.as_u16()}),
    )
}

async fn read(State(cluster): State<Cluster>, Path((ns, name)): Path<(String, String)>) -> Response {
    match cluster.lock().deployments.get(&(ns, name.clone())) {
        Some(d) => answer(StatusCode::OK, d),
        None => refused(StatusCode::NOT_FOUND, "NotFound", &format!("deployments.apps \"{name}\" not found")),
    }
}

async fn patch(
    State(cluster): State<Cluster>,
    Path((ns, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type != "application/json-patch+json" {
        return refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "the stand-in takes JSON Patch only",
        );
    }
    let Ok(ops) = serde_json::from_slice::<Vec<Value>>(&body) else {
        return refused(StatusCode::BAD_REQUEST, "BadRequest", "the body is not a JSON Patch");
    };
    let dry_run = query.as_deref().is_some_and(|q| q.contains("dryRun=All"));
    let mut inner = cluster.lock();
    let key = (ns, name.clone());
    let Some(mut d) = inner.deployments.get(&key).cloned() else {
        return refused(StatusCode::NOT_FOUND, "NotFound", &format!("deployments.apps \"{name}\" not found"));
    };
    let before = d["spec"]["template"].clone();
    for op in &ops {
        let path = op["path"].as_str().unwrap_or("");
        let Some(slot) = d.pointer_mut(path) else {
            return refused(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &format!("doc is missing path: {path}"));
        };
        match op["op"].as_str() {
            Some("test") if *slot != op["value"] => {
                return refused(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &format!("testing value {path} failed"));
            }
            Some("test") => {}
            Some("replace") => *slot = op["value"].clone(),
            _ => return refused(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", "the stand-in takes test and replace"),
        }
    }
    if d["spec"]["template"] != before {
        d["metadata"]["generation"] = json!(d["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
    }
    if !dry_run {
        inner.version += 1;
        d["metadata"]["resourceVersion"] = json!(inner.version.to_string());
        inner.deployments.insert(key, d.clone());
        cluster.changes.send_replace(inner.version);
    }
    answer(StatusCode::OK, &d)
}

async fn watch(State(cluster): State<Cluster>, Path(ns): Path<String>, RawQuery(query): RawQuery) -> Response {
    let parsed = reqwest::Url::parse(&format!("http://stand-in/?{}", query.as_deref().unwrap_or("")));
    let pairs: Vec<(String, String)> = parsed.map(|u| u.query_pairs().into_owned().collect()).unwrap_or_default();
    let param = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let Some(name) = param("fieldSelector").and_then(|f| f.strip_prefix("metadata.name=").map(str::to_owned)) else {
        return refused(StatusCode::BAD_REQUEST, "BadRequest", "the stand-in watches one Deployment by name");
    };
    let mut sent: u64 = param("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
    let seconds: u64 = param("timeoutSeconds").and_then(|v| v.parse().ok()).unwrap_or(60);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let mut changes = cluster.changes.subscribe();
    tokio::spawn(async move {
        let end = tokio::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let d = cluster.lock().deployments.get(&(ns.clone(), name.clone())).cloned().unwrap_or(Value::Null);
            let version: u64 = d["metadata"]["resourceVersion"].as_str().and_then(|v| v.parse().ok()).unwrap_or(0);
            if version > sent {
                sent = version;
                let line = json!({"type": "MODIFIED", "object": d}).to_string() + "\n";
                if tx.send(Bytes::from(line)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                () = tokio::time::sleep_until(end) => return,
            }
        }
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx)) });
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], Body::from_stream(stream)).into_response()
}

async fn replica_sets(State(cluster): State<Cluster>, Path(ns): Path<String>) -> Response {
    let inner = cluster.lock();
    let mut items = Vec::new();
    for ((n, name), sets) in inner.history.iter().filter(|((n, _), _)| *n == ns) {
        for (revision, image, replicas) in sets {
            items.push(json!({
                "metadata": {"name": format!("{name}-{revision}"), "namespace": n, "labels": {"app": name},
                             "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
                             "ownerReferences": [{"kind": "Deployment", "name": name, "uid": format!("demo-{n}-{name}"), "controller": true}]},
                "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": name, "image": image}]}}},
            }));
        }
    }
    answer(StatusCode::OK, &json!({"kind": "ReplicaSetList", "apiVersion": "apps/v1", "items": items}))
}

/// Plays the Deployment controller: a new pod template gets the next revision, then one pod is
/// replaced each tick until the new ReplicaSet has them all.
async fn controller(cluster: Cluster) {
    loop {
        tokio::time::sleep(TICK).await;
        let mut inner = cluster.lock();
        let keys: Vec<(String, String)> = inner.deployments.keys().cloned().collect();
        let mut changed = false;
        for key in keys {
            let Some(mut d) = inner.deployments.get(&key).cloned() else { continue };
            let image = d["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or("").to_owned();
            let sets = inner.history.entry(key.clone()).or_default();
            let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
            let mut moved = false;
            if d["status"]["observedGeneration"].as_i64().unwrap_or(0) < generation {
                let next = sets.iter().map(|s| s.0).max().unwrap_or(0) + 1;
                sets.retain(|s| s.1 != image || s.2 > 0);
                sets.push((next, image.clone(), 0));
                d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!(next.to_string());
                d["status"]["observedGeneration"] = json!(generation);
                moved = true;
            }
            let wanted = d["spec"]["replicas"].as_i64().unwrap_or(3);
            let newest = sets.len().saturating_sub(1);
            if let Some(new) = sets.get_mut(newest).filter(|s| s.2 < wanted) {
                new.2 += 1;
                moved = true;
            } else if let Some(old) = sets.iter_mut().take(newest).find(|s| s.2 > 0) {
                old.2 -= 1;
                moved = true;
            }
            if !moved {
                continue;
            }
            let updated = sets.last().map_or(0, |s| s.2);
            let total: i64 = sets.iter().map(|s| s.2).sum();
            let revision = sets.last().map_or(1, |s| s.0);
            let done = updated == wanted && total == wanted;
            let (reason, message) = if done {
                ("NewReplicaSetAvailable", format!("ReplicaSet \"{}-{revision}\" has successfully progressed.", key.1))
            } else {
                ("ReplicaSetUpdated", format!("ReplicaSet \"{}-{revision}\" is progressing.", key.1))
            };
            d["status"]["replicas"] = json!(total);
            d["status"]["updatedReplicas"] = json!(updated);
            d["status"]["readyReplicas"] = json!(total);
            d["status"]["availableReplicas"] = json!(total);
            d["status"]["conditions"] =
                json!([{"type": "Progressing", "status": "True", "reason": reason, "message": message}]);
            inner.version += 1;
            d["metadata"]["resourceVersion"] = json!(inner.version.to_string());
            inner.deployments.insert(key, d);
            changed = true;
        }
        let version = inner.version;
        drop(inner);
        if changed {
            cluster.changes.send_replace(version);
        }
    }
}
