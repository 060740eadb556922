//! The `kubernetes` section of `docket.yaml`: the identities `kubernetes` steps act as, by name.
//! Each is a kubeconfig file and a context in it, or the service account of the pod Docket runs
//! in. Least privilege is an identity per workflow, bound to a Role that allows just what its
//! steps do (the README shows the smallest Role for each operation).
//!
//! ```yaml
//! kubernetes:
//!   prod-deployer: { kubeconfig: /etc/docket/kube/prod-deployer.yaml, context: prod }
//!   in-cluster: { in_cluster: true }
//! ```
//!
//! The files are read when a step needs them, so rotated credentials are picked up without a
//! restart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use docket_config::plugin::{
    Decoded, Fields, Node, Report, Section, SectionContext, boolean, ident, nonempty, open_map,
};

/// The section's key; `kubernetes` steps name its entries as their `cluster`.
pub const SECTION: &str = "kubernetes";

/// Where the identity comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cluster {
    /// A kubeconfig file (resolved against `docket.yaml`'s folder) and the context to use in it
    /// (its `current-context` when none is named).
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// The context.
        context: Option<String>,
    },
    /// The pod's service account: its token, CA and namespace under
    /// `/var/run/secrets/kubernetes.io/serviceaccount`, the API at `kubernetes.default.svc`.
    InCluster,
}

/// Every configured identity, by name, and the folder of `docket.yaml` (`apply` steps' relative
/// manifest paths are read from there).
#[derive(Clone, Debug, Default)]
pub struct Clusters {
    /// The identities.
    pub entries: BTreeMap<String, Cluster>,
    /// `docket.yaml`'s folder.
    pub folder: PathBuf,
}

impl Clusters {
    /// The entry `name`.
    pub fn get(&self, name: &str) -> Option<&Cluster> {
        self.entries.get(name)
    }

    /// `path`, resolved against `docket.yaml`'s folder when relative.
    pub fn resolve(&self, path: &std::path::Path) -> PathBuf {
        if path.is_relative() { self.folder.join(path) } else { path.to_path_buf() }
    }
}

/// The `kubernetes` section's reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct KubernetesSection;

impl Section for KubernetesSection {
    fn key(&self) -> &'static str {
        SECTION
    }

    fn reloads(&self) -> bool {
        true
    }

    fn decode(&self, node: &Node, cx: &mut SectionContext<'_>) -> Decoded {
        let folder = cx.folder().to_path_buf();
        let report = cx.report();
        let before = report.error_count();
        let Some(entries) = open_map(node, "cluster names to identities", report) else { return Decoded::invalid() };
        let mut names = BTreeSet::new();
        let mut out = BTreeMap::new();
        for (written, key, value) in entries {
            names.insert(written.to_owned());
            let name = ident(key, report);
            let cluster = cluster(value, report);
            if let (Some(name), Some(cluster)) = (name, cluster) {
                let cluster = match cluster {
                    Cluster::Kubeconfig { path, context } if path.is_relative() => {
                        Cluster::Kubeconfig { path: folder.join(path), context }
                    }
                    other => other,
                };
                out.insert(name, cluster);
            }
        }
        let decoded = if report.error_count() == before {
            Decoded::value(Clusters { entries: out, folder })
        } else {
            Decoded::invalid()
        };
        decoded.with_names(names)
    }
}

/// `{kubeconfig, context}` or `{in_cluster: true}`.
fn cluster(node: &Node, report: &mut Report) -> Option<Cluster> {
    let fields = Fields::open(node, "cluster", &["kubeconfig", "context", "in_cluster"], report)?;
    let kubeconfig = fields.opt("kubeconfig", report, nonempty).optional()?;
    let context = fields.opt("context", report, nonempty).optional()?;
    let in_cluster = fields.opt("in_cluster", report, boolean).or(false)?;
    match (kubeconfig, in_cluster) {
        (Some(path), false) => Some(Cluster::Kubeconfig { path: PathBuf::from(path), context }),
        (None, true) => {
            if context.is_some() {
                report
                    .error(node.pos, "`context` belongs to a kubeconfig; `in_cluster` uses the pod's service account");
                return None;
            }
            Some(Cluster::InCluster)
        }
        (Some(_), true) => {
            report.error_hint(node.pos, "a cluster is a kubeconfig or in_cluster, not both", "keep one of them");
            None
        }
        (None, false) => {
            report.error_hint(
                node.pos,
                "a cluster needs `kubeconfig` (with an optional `context`) or `in_cluster: true`",
                "write { kubeconfig: /etc/docket/kube/prod.yaml, context: prod }",
            );
            None
        }
    }
}
