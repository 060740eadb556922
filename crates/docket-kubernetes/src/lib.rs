//! The `kubernetes` step kind, everything about it in one place: the action and how it reads
//! (`action`), how it is read from a workflow file (`decode`), the `kubernetes` section naming
//! the identities steps act as (`section`), kubeconfig files and the in-cluster service account
//! (`kubeconfig`), the API calls (`client`), what a workload's status says about its rollout
//! (`rollout`), manifests rendered for `apply` (`manifest`) and what applying one changes
//! (`diff`), and the runner (`runner`).
//!
//! Planned, a step reads the Deployment and reports one structured change — current → target
//! image, replicas, namespace — after a server-side dry run of the very patch it will send, so
//! a missing permission or a refusing admission webhook fails the plan, not the run. Run, it
//! checks the Deployment is still as planned, patches it and follows the rollout until it
//! completes or the Deployment reports that its progress deadline passed. `restart` works on
//! Deployments, StatefulSets and DaemonSets alike. `apply` plans with a server-side dry run of
//! each object of a manifest file and runs a server-side apply of the same objects.

mod action;
mod client;
mod decode;
mod diff;
mod kubeconfig;
mod manifest;
mod rollout;
mod runner;
mod section;

use std::sync::Arc;

use docket_config::Config;
use docket_config::plugin::Plugins;

pub use action::{KubernetesAction, Operation, Workload};
pub use decode::KubernetesKind;
pub use kubeconfig::InCluster;
pub use runner::KubernetesRunner;
pub use section::{Cluster, Clusters, KubernetesSection, SECTION};

/// The `kubernetes` kind's decoder and its section, for the configuration loader.
pub fn plugins() -> Plugins {
    Plugins::new().step_kind(Arc::new(KubernetesKind)).section(Arc::new(KubernetesSection))
}

/// The runner, with the clusters the `kubernetes` section names (none without it).
pub fn runner(config: &Config) -> KubernetesRunner {
    KubernetesRunner::new(config.sections.get::<Clusters>(SECTION).cloned().unwrap_or_default())
}
