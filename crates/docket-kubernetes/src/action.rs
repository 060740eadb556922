//! The `kubernetes` action: one operation on one workload, or a manifest applied, made with the
//! identity the step's `cluster` names.

use std::path::PathBuf;

use docket_core::catalog::template::Template;
use docket_core::{ActionSpec, ActionView, Detail, Duration, Params};
use serde_json::json;

/// `kubernetes: {cluster, namespace, set_image | rollback | restart | apply, timeout}`.
#[derive(Clone, Debug)]
pub struct KubernetesAction {
    /// The entry of the `kubernetes` section whose identity makes the calls.
    pub cluster: String,
    /// The namespace; without one, the kubeconfig context's (else `default`).
    pub namespace: Option<Template>,
    /// What to do.
    pub operation: Operation,
    /// How long planning or running (the rollout included) may take.
    pub timeout: Option<Duration>,
}

/// A kind of workload `restart` replaces the pods of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
}

impl Workload {
    /// Every kind, with the key a step names it by.
    pub const ALL: [(&'static str, Workload); 3] = [
        ("deployment", Workload::Deployment),
        ("statefulset", Workload::StatefulSet),
        ("daemonset", Workload::DaemonSet),
    ];

    /// `deployment`, `statefulset`, `daemonset`: as people read it and as the step names it.
    pub fn key(self) -> &'static str {
        match self {
            Workload::Deployment => "deployment",
            Workload::StatefulSet => "statefulset",
            Workload::DaemonSet => "daemonset",
        }
    }

    /// The collection in `apps/v1`: `deployments`, `statefulsets`, `daemonsets`.
    pub fn plural(self) -> &'static str {
        match self {
            Workload::Deployment => "deployments",
            Workload::StatefulSet => "statefulsets",
            Workload::DaemonSet => "daemonsets",
        }
    }
}

/// What a step does.
#[derive(Clone, Debug)]
pub enum Operation {
    /// Sets one container's image (`kubectl set image`).
    SetImage {
        /// The Deployment.
        deployment: Template,
        /// The container whose image changes.
        container: Template,
        /// The image to run.
        image: Template,
    },
    /// Returns to an earlier revision (`kubectl rollout undo`): the previous one, or the one
    /// named.
    Rollback {
        /// The Deployment.
        deployment: Template,
        /// The revision; empty (or absent) means the previous one.
        revision: Option<Template>,
    },
    /// Replaces every pod, one by one (`kubectl rollout restart`).
    Restart {
        /// The kind of workload.
        workload: Workload,
        /// Its name.
        name: Template,
    },
    /// Applies a manifest file's objects (server-side apply, field manager `docket`).
    Apply {
        /// The file, resolved against `docket.yaml`'s folder when relative; never a template.
        manifest: PathBuf,
        /// Whether fields another manager owns are taken over rather than refused as conflicts.
        force: bool,
    },
}

impl Operation {
    /// `set_image`, `rollback`, `restart` or `apply`.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::SetImage { .. } => "set_image",
            Operation::Rollback { .. } => "rollback",
            Operation::Restart { .. } => "restart",
            Operation::Apply { .. } => "apply",
        }
    }

    /// The workload the operation acts on and its name's template; `None` for `apply`.
    pub fn workload(&self) -> Option<(Workload, &Template)> {
        match self {
            Operation::SetImage { deployment, .. } | Operation::Rollback { deployment, .. } => {
                Some((Workload::Deployment, deployment))
            }
            Operation::Restart { workload, name } => Some((*workload, name)),
            Operation::Apply { .. } => None,
        }
    }
}

impl KubernetesAction {
    /// The namespace rendered with `params`, when the step names one.
    pub fn render_namespace(&self, params: &Params) -> Option<String> {
        self.namespace.as_ref().map(|n| n.render(params))
    }
}

impl ActionSpec for KubernetesAction {
    fn kind(&self) -> &'static str {
        "kubernetes"
    }

    fn templates(&self) -> Vec<&Template> {
        let mut all: Vec<&Template> = self.namespace.iter().collect();
        match &self.operation {
            Operation::SetImage { deployment, container, image } => all.extend([deployment, container, image]),
            Operation::Rollback { deployment, revision } => {
                all.push(deployment);
                all.extend(revision);
            }
            Operation::Restart { name, .. } => all.push(name),
            Operation::Apply { .. } => {}
        }
        all
    }

    /// The operation as it will be made; what the cluster holds now is the plan's to show.
    fn describe(&self, params: &Params) -> ActionView {
        let namespace = self.render_namespace(params);
        let mut details = vec![Detail::text("Cluster", &self.cluster)];
        if let Some(ns) = &namespace {
            details.push(Detail::text("Namespace", ns));
        }
        let (summary, document) = match &self.operation {
            Operation::Apply { manifest, force } => apply_view(manifest, *force, namespace.as_deref(), &mut details),
            other => workload_view(other, params, namespace.as_deref(), &mut details),
        };
        if let Some(timeout) = self.timeout {
            details.push(Detail::text("Time limit", timeout.to_string()));
        }
        let document = json!({"cluster": self.cluster, "namespace": namespace, "operation": document});
        ActionView { summary: format!("kubernetes: {summary}"), details, document }
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// A `kubernetes` step is its own dry run: it reads the Deployment and asks the API server
    /// to dry-run the change.
    fn plans_itself(&self) -> bool {
        true
    }
}

/// The one line and document of an operation on one workload.
fn workload_view(
    operation: &Operation,
    params: &Params,
    namespace: Option<&str>,
    details: &mut Vec<Detail>,
) -> (String, serde_json::Value) {
    let Some((workload, name)) = operation.workload() else { return (String::new(), serde_json::Value::Null) };
    let name = name.render(params);
    let kind = workload.key();
    let place = match namespace {
        Some(ns) => format!("{kind} {name} in {ns}"),
        None => format!("{kind} {name}"),
    };
    let label = match workload {
        Workload::Deployment => "Deployment",
        Workload::StatefulSet => "StatefulSet",
        Workload::DaemonSet => "DaemonSet",
    };
    details.push(Detail::text(label, &name));
    match operation {
        Operation::SetImage { container, image, .. } => {
            let (container, image) = (container.render(params), image.render(params));
            details.push(Detail::text("Container", &container));
            details.push(Detail::code("Image", &image));
            let summary = format!("set the image of {place} (container {container}) to {image}");
            (summary, json!({"set_image": {"deployment": name, "container": container, "image": image}}))
        }
        Operation::Rollback { revision, .. } => {
            let revision = revision.as_ref().map(|r| r.render(params)).filter(|r| !r.trim().is_empty());
            let to = match &revision {
                Some(r) => format!("revision {r}"),
                None => "the previous revision".to_owned(),
            };
            details.push(Detail::text("Back to", &to));
            (format!("roll {place} back to {to}"), json!({"rollback": {"deployment": name, "revision": revision}}))
        }
        _ => {
            let document = if workload == Workload::Deployment {
                json!({"restart": {"deployment": name}})
            } else {
                json!({"restart": {kind: name}})
            };
            (format!("restart {place} (every pod replaced, one by one)"), document)
        }
    }
}

/// The one line and document of `apply`.
fn apply_view(
    manifest: &std::path::Path,
    force: bool,
    namespace: Option<&str>,
    details: &mut Vec<Detail>,
) -> (String, serde_json::Value) {
    let file = manifest.display().to_string();
    details.push(Detail::code("Manifest", &file));
    if force {
        details.push(Detail::text("Conflicts", "taken over (force)"));
    }
    let place = namespace.map(|ns| format!(" in {ns}")).unwrap_or_default();
    let force_words = if force { ", taking over fields other managers own" } else { "" };
    (
        format!("apply {file}{place} (server-side apply{force_words})"),
        json!({"apply": {"manifest": file, "force": force}}),
    )
}
