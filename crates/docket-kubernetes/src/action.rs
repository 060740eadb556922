//! The `kubernetes` action: one operation on one Deployment, made with the identity the step's
//! `cluster` names.

use docket_core::catalog::template::Template;
use docket_core::{ActionSpec, ActionView, Detail, Duration, Params};
use serde_json::json;

/// `kubernetes: {cluster, namespace, set_image | rollback | restart, timeout}`.
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

/// What a step does to its Deployment.
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
        /// The Deployment.
        deployment: Template,
    },
}

impl Operation {
    /// `set_image`, `rollback` or `restart`.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::SetImage { .. } => "set_image",
            Operation::Rollback { .. } => "rollback",
            Operation::Restart { .. } => "restart",
        }
    }

    /// The Deployment's template.
    pub fn deployment(&self) -> &Template {
        match self {
            Operation::SetImage { deployment, .. }
            | Operation::Rollback { deployment, .. }
            | Operation::Restart { deployment } => deployment,
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
            Operation::Restart { deployment } => all.push(deployment),
        }
        all
    }

    /// The operation as it will be made; what the cluster holds now is the plan's to show.
    fn describe(&self, params: &Params) -> ActionView {
        let namespace = self.render_namespace(params);
        let deployment = self.operation.deployment().render(params);
        let place = match &namespace {
            Some(ns) => format!("deployment {deployment} in {ns}"),
            None => format!("deployment {deployment}"),
        };
        let mut details = vec![Detail::text("Cluster", &self.cluster)];
        if let Some(ns) = &namespace {
            details.push(Detail::text("Namespace", ns));
        }
        details.push(Detail::text("Deployment", &deployment));
        let (summary, document) = match &self.operation {
            Operation::SetImage { container, image, .. } => {
                let (container, image) = (container.render(params), image.render(params));
                details.push(Detail::text("Container", &container));
                details.push(Detail::code("Image", &image));
                let summary = format!("set the image of {place} (container {container}) to {image}");
                (summary, json!({"set_image": {"deployment": deployment, "container": container, "image": image}}))
            }
            Operation::Rollback { revision, .. } => {
                let revision = revision.as_ref().map(|r| r.render(params)).filter(|r| !r.trim().is_empty());
                let to = match &revision {
                    Some(r) => format!("revision {r}"),
                    None => "the previous revision".to_owned(),
                };
                details.push(Detail::text("Back to", &to));
                (
                    format!("roll {place} back to {to}"),
                    json!({"rollback": {"deployment": deployment, "revision": revision}}),
                )
            }
            Operation::Restart { .. } => (
                format!("restart {place} (every pod replaced, one by one)"),
                json!({"restart": {"deployment": deployment}}),
            ),
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
