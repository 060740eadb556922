//! A fake Kubernetes API server for end-to-end tests of the `kubernetes` step kind, on loopback,
//! speaking the documented shapes of the `apps/v1` API: Deployments read, patched (RFC 6902
//! JSON Patch with `test` operations, RFC 7386 merge patch; `dryRun=All` runs everything and
//! stores nothing) and watched (`?watch=true&fieldSelector=metadata.name=…`, newline-delimited
//! `{"type","object"}` events); ReplicaSets listed by label selector, with the
//! `deployment.kubernetes.io/revision` annotations that make the rollout history. A controller
//! plays the Deployment controller: a changed pod template gets a new ReplicaSet (or an old one
//! back, for a rollback) under the next revision, pods are replaced one at a time, and a rollout
//! that stops progressing for `progressDeadlineSeconds` gets `Progressing=False,
//! ProgressDeadlineExceeded`. StatefulSets and DaemonSets are read, patched and watched the same
//! way, their controllers (`workloads`) rolling pods with the status fields the real ones set.
//! Server-side apply (`application/apply-patch+yaml`, `fieldManager`, `force`, `dryRun=All`)
//! works on Deployments, StatefulSets, DaemonSets, ConfigMaps, Services and ServiceAccounts,
//! with field managers, conflicts (409), the server's defaults and its validation (422).
//! Refusals are `Status` objects; bearer tokens are checked and may be limited to some verbs,
//! as a Role would.

mod api;
mod controller;
mod objects;
mod patch;
mod ssa;
mod tls;
mod workloads;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use controller::hash_of;
pub use tls::CA_PEM;

/// The token a kubeconfig from [`FakeKubernetes::kubeconfig`] carries unless a test grants others.
pub const TOKEN: &str = "fake-kubernetes-token-0123456789";

/// One request Docket made.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// `GET`, `PATCH`.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query string.
    pub query: String,
    /// The `Content-Type`, for a patch.
    pub content_type: Option<String>,
    /// The body, for a patch.
    pub body: Value,
}

/// What an identity may do: `None` is everything, else (verb, resource) pairs.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) user: String,
    pub(crate) allowed: Option<Vec<(String, String)>>,
}

pub(crate) struct Inner {
    pub(crate) version: u64,
    pub(crate) deployments: BTreeMap<(String, String), Value>,
    /// Every other object, by (collection, namespace, name).
    pub(crate) objects: BTreeMap<(String, String, String), Value>,
    /// Each object's field managers and the fields they own.
    pub(crate) owners: BTreeMap<(String, String, String), ssa::Owners>,
    pub(crate) replica_sets: BTreeMap<(String, String), Value>,
    /// When each Deployment last made progress.
    pub(crate) progressed: BTreeMap<(String, String), Instant>,
    pub(crate) broken: BTreeSet<String>,
    pub(crate) grants: BTreeMap<String, Grant>,
    pub(crate) requests: Vec<Request>,
    pub(crate) frozen: bool,
    pub(crate) next_uid: u64,
}

pub(crate) type Shared = Arc<Mutex<Inner>>;

pub(crate) fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    /// The next `resourceVersion`.
    pub(crate) fn bump(&mut self) -> String {
        self.version += 1;
        self.version.to_string()
    }
}

/// The fake, serving until dropped.
pub struct FakeKubernetes {
    url: String,
    shared: Shared,
    changes: tokio::sync::watch::Sender<u64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeKubernetes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeKubernetes").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for FakeKubernetes {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl FakeKubernetes {
    /// Starts the fake; its controller moves one pod every 20 ms.
    pub async fn start() -> Self {
        Self::start_with_pace(Duration::from_millis(20)).await
    }

    /// Starts the fake with the controller moving one pod every `pace`.
    pub async fn start_with_pace(pace: Duration) -> Self {
        Self::start_on(pace, false).await
    }

    /// Starts the fake serving HTTPS with a certificate for `127.0.0.1` signed by [`CA_PEM`].
    pub async fn start_tls() -> Self {
        Self::start_on(Duration::from_millis(20), true).await
    }

    async fn start_on(pace: Duration, tls: bool) -> Self {
        let mut grants = BTreeMap::new();
        grants.insert(TOKEN.to_owned(), Grant { user: "docket".to_owned(), allowed: None });
        let shared: Shared = Arc::new(Mutex::new(Inner {
            version: 100,
            deployments: BTreeMap::new(),
            objects: BTreeMap::new(),
            owners: BTreeMap::new(),
            replica_sets: BTreeMap::new(),
            progressed: BTreeMap::new(),
            broken: BTreeSet::new(),
            grants,
            requests: Vec::new(),
            frozen: false,
            next_uid: 1,
        }));
        let (changes, _) = tokio::sync::watch::channel(0u64);
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port for the fake Kubernetes");
        let address = listener.local_addr().expect("its address");
        let router = api::router(shared.clone(), changes.clone());
        let (url, server) = if tls {
            let listener = tls::TlsListener::new(listener);
            (
                format!("https://{address}"),
                tokio::spawn(async move {
                    let _ = axum::serve(listener, router).await;
                }),
            )
        } else {
            (
                format!("http://{address}"),
                tokio::spawn(async move {
                    let _ = axum::serve(listener, router).await;
                }),
            )
        };
        let control = tokio::spawn(controller::run(shared.clone(), changes.clone(), pace));
        Self { url, shared, changes, tasks: vec![server, control] }
    }

    /// The API server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds Deployment `name` in `ns` with one container `container` and `replicas`, whose
    /// history is `images` (oldest first, one ReplicaSet per revision); the last is rolled out.
    pub fn deployment(&self, ns: &str, name: &str, container: &str, images: &[&str], replicas: i64) {
        let mut inner = lock(&self.shared);
        let uid = format!("00000000-0000-4000-8000-{:012}", inner.next_uid);
        inner.next_uid += 1;
        let labels = json!({"app": name});
        let template = |image: &str| json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": container, "image": image}]}});
        let last = images.len();
        for (i, image) in images.iter().enumerate() {
            let revision = i + 1;
            let scale = if revision == last { replicas } else { 0 };
            let rs = controller::replica_set(ns, name, &uid, &template(image), revision as i64, scale);
            let rs_name = rs["metadata"]["name"].as_str().unwrap_or_default().to_owned();
            let version = inner.bump();
            let mut rs = rs;
            rs["metadata"]["resourceVersion"] = json!(version);
            inner.replica_sets.insert((ns.to_owned(), rs_name), rs);
        }
        let version = inner.bump();
        let image = images.last().copied().unwrap_or("nginx:latest");
        let deployment = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name, "namespace": ns, "uid": uid, "generation": 1, "resourceVersion": version,
                "labels": labels, "annotations": {"deployment.kubernetes.io/revision": last.to_string()},
            },
            "spec": {
                "replicas": replicas, "selector": {"matchLabels": labels}, "progressDeadlineSeconds": 600,
                "revisionHistoryLimit": 10,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": template(image),
            },
            "status": {
                "observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": replicas, "availableReplicas": replicas,
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                     "message": "Deployment has minimum availability."},
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                     "message": format!("ReplicaSet \"{name}-{}\" has successfully progressed.", hash_of(&template(image)))},
                ],
            },
        });
        inner.deployments.insert((ns.to_owned(), name.to_owned()), deployment);
        drop(inner);
        self.changed();
    }

    /// Adds StatefulSet `name` in `ns`: one container running `image`, `replicas` pods.
    pub fn stateful_set(&self, ns: &str, name: &str, container: &str, image: &str, replicas: i64) {
        self.workload("statefulsets", ns, name, |uid| {
            workloads::stateful_set(ns, name, uid, container, image, replicas)
        });
    }

    /// Adds DaemonSet `name` in `ns`: one container running `image`, on `nodes` nodes.
    pub fn daemon_set(&self, ns: &str, name: &str, container: &str, image: &str, nodes: i64) {
        self.workload("daemonsets", ns, name, |uid| workloads::daemon_set(ns, name, uid, container, image, nodes));
    }

    fn workload(&self, plural: &str, ns: &str, name: &str, make: impl FnOnce(&str) -> Value) {
        let mut inner = lock(&self.shared);
        let uid = format!("00000000-0000-4000-8000-{:012}", inner.next_uid);
        inner.next_uid += 1;
        let mut object = make(&uid);
        object["metadata"]["resourceVersion"] = json!(inner.bump());
        inner.objects.insert((plural.to_owned(), ns.to_owned(), name.to_owned()), object);
        drop(inner);
        self.changed();
    }

    /// Stores `object` (a ConfigMap, Service, …) as written by field manager `manager`, who
    /// then owns each of its fields (so an apply changing one conflicts, as it would with an
    /// object made by `kubectl create` or edited by hand).
    pub fn object(&self, manager: &str, object: Value) {
        let (api_version, kind) = (object["apiVersion"].as_str().unwrap_or(""), object["kind"].as_str().unwrap_or(""));
        let plural = match (api_version, kind) {
            ("apps/v1", "Deployment") => "deployments",
            ("apps/v1", "StatefulSet") => "statefulsets",
            ("apps/v1", "DaemonSet") => "daemonsets",
            ("v1", "Service") => "services",
            ("v1", "ServiceAccount") => "serviceaccounts",
            _ => "configmaps",
        };
        let ns = object["metadata"]["namespace"].as_str().unwrap_or("default").to_owned();
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let mut owned = ssa::Owners::new();
        let mut fields = ssa::leaves(&object);
        fields.retain(|path, _| path.first() != Some(&ssa::Seg::Key("metadata".into())) || path.len() > 2);
        owned.insert(manager.to_owned(), fields.into_keys().collect());
        let mut inner = lock(&self.shared);
        let mut object = object;
        object["metadata"]["uid"] = json!(format!("00000000-0000-4000-8000-{:012}", inner.next_uid));
        inner.next_uid += 1;
        object["metadata"]["resourceVersion"] = json!(inner.bump());
        objects::store(&mut inner, plural, &ns, &name, object);
        inner.owners.insert((plural.to_owned(), ns, name), owned);
        drop(inner);
        self.changed();
    }

    /// The object `plural`/`name` in `ns` as stored now (`Null` when there is none).
    pub fn get_object(&self, plural: &str, ns: &str, name: &str) -> Value {
        objects::stored(&lock(&self.shared), plural, ns, name).unwrap_or(Value::Null)
    }

    /// The server-side applies Docket made for real (not dry runs).
    pub fn applies(&self) -> Vec<Request> {
        self.patches()
            .into_iter()
            .filter(|r| r.content_type.as_deref() == Some("application/apply-patch+yaml"))
            .collect()
    }

    /// Sets the Deployment's `progressDeadlineSeconds`.
    pub fn progress_deadline(&self, ns: &str, name: &str, seconds: i64) {
        let mut inner = lock(&self.shared);
        let version = inner.bump();
        if let Some(d) = inner.deployments.get_mut(&(ns.to_owned(), name.to_owned())) {
            d["spec"]["progressDeadlineSeconds"] = json!(seconds);
            d["metadata"]["resourceVersion"] = json!(version);
        }
        drop(inner);
        self.changed();
    }

    /// Pods of `image` never become ready (a crash loop, a missing tag).
    pub fn broken_image(&self, image: &str) {
        lock(&self.shared).broken.insert(image.to_owned());
    }

    /// Stops the controller where it is (a rollout in progress stays in progress).
    pub fn freeze(&self, frozen: bool) {
        lock(&self.shared).frozen = frozen;
    }

    /// Changes the image of `container` behind Docket's back (someone else deployed).
    pub fn set_image(&self, ns: &str, name: &str, container: &str, image: &str) {
        let mut inner = lock(&self.shared);
        let version = inner.bump();
        if let Some(d) = inner.deployments.get_mut(&(ns.to_owned(), name.to_owned())) {
            if let Some(containers) = d["spec"]["template"]["spec"]["containers"].as_array_mut() {
                for c in containers.iter_mut().filter(|c| c["name"] == container) {
                    c["image"] = json!(image);
                }
            }
            let generation = d["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
            d["metadata"]["generation"] = json!(generation);
            d["metadata"]["resourceVersion"] = json!(version);
        }
        drop(inner);
        self.changed();
    }

    /// Adds a token for `user` allowed only `allowed` (verb, resource) pairs, as a Role would.
    pub fn grant(&self, token: &str, user: &str, allowed: &[(&str, &str)]) {
        let allowed = allowed.iter().map(|(v, r)| ((*v).to_owned(), (*r).to_owned())).collect();
        lock(&self.shared).grants.insert(token.to_owned(), Grant { user: user.to_owned(), allowed: Some(allowed) });
    }

    /// The Deployment as stored now.
    pub fn get(&self, ns: &str, name: &str) -> Value {
        lock(&self.shared).deployments.get(&(ns.to_owned(), name.to_owned())).cloned().unwrap_or(Value::Null)
    }

    /// The image `container` of the Deployment runs now (its pod template's).
    pub fn image(&self, ns: &str, name: &str, container: &str) -> String {
        let d = self.get(ns, name);
        let containers = d["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default();
        containers.iter().find(|c| c["name"] == container).and_then(|c| c["image"].as_str()).unwrap_or("").to_owned()
    }

    /// The ReplicaSets in `ns`, as (name, revision, replicas, image of the first container).
    pub fn replica_sets(&self, ns: &str) -> Vec<(String, i64, i64, String)> {
        let inner = lock(&self.shared);
        inner
            .replica_sets
            .iter()
            .filter(|((n, _), _)| n == ns)
            .map(|((_, name), rs)| {
                let revision = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                    .as_str()
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0);
                let image = rs["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or("").to_owned();
                (name.clone(), revision, rs["spec"]["replicas"].as_i64().unwrap_or(0), image)
            })
            .collect()
    }

    /// Every request Docket made, in order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared).requests.clone()
    }

    /// The patches Docket made for real (not dry runs).
    pub fn patches(&self) -> Vec<Request> {
        self.requests().into_iter().filter(|r| r.method == "PATCH" && !r.query.contains("dryRun=All")).collect()
    }

    /// Writes a kubeconfig for this server to `path`: one context, `fake`, with `token` and the
    /// default namespace `namespace`.
    pub fn kubeconfig(&self, path: &Path, token: &str, namespace: &str) {
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n  - name: fake\n    cluster:\n      server: {}\n\
             contexts:\n  - name: fake\n    context:\n      cluster: fake\n      user: docket\n      namespace: {namespace}\n\
             users:\n  - name: docket\n    user:\n      token: {token}\n",
            self.url
        );
        std::fs::write(path, text).expect("the kubeconfig");
    }

    fn changed(&self) {
        let version = lock(&self.shared).version;
        self.changes.send_replace(version);
    }
}
