//! Reading a `kubernetes` action from a workflow file:
//!
//! ```yaml
//! kubernetes:
//!   cluster: prod-deployer              # an entry of the `kubernetes` section
//!   namespace: "{{env}}"                # optional: the context's namespace, else `default`
//!   set_image: { deployment: api, container: api, image: "registry/api:{{version}}" }
//!   # or: rollback: { deployment: api, revision: "{{revision}}" }   (revision optional)
//!   # or: restart: { deployment: api }    (or statefulset: db, or daemonset: agent)
//!   # or: apply: { manifest: manifests/api.yaml, force: false }
//!   timeout: 15m
//! ```
//!
//! Exactly one operation; `cluster` is a name, never a template (a parameter cannot choose the
//! identity a step acts as), and neither is `apply`'s `manifest` (a file, resolved against
//! `docket.yaml`'s folder when relative; its values hold the templates).

use std::path::PathBuf;

use docket_config::plugin::{Fields, Node, Report, StepContext, StepKind, boolean, duration, ident, nonempty};
use docket_core::Action;
use docket_core::catalog::template::Template;

use crate::action::{KubernetesAction, Operation, Workload};
use crate::section::SECTION;

/// The operations, by key.
const OPERATIONS: [&str; 4] = ["set_image", "rollback", "restart", "apply"];

/// The `kubernetes` step kind's decoder.
#[derive(Clone, Copy, Debug, Default)]
pub struct KubernetesKind;

impl StepKind for KubernetesKind {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    /// A `kubernetes` step plans itself; it is not a `plan` of another step.
    fn plannable(&self) -> bool {
        false
    }

    fn decode(&self, node: &Node, cx: &mut StepContext<'_>) -> Option<Action> {
        kubernetes(node, cx).map(Action::new)
    }
}

fn kubernetes(node: &Node, cx: &mut StepContext<'_>) -> Option<KubernetesAction> {
    let keys = ["cluster", "namespace", "set_image", "rollback", "restart", "apply", "timeout"];
    let fields = Fields::open(node, "kubernetes action", &keys, cx.report())?;
    let cluster = fields.req("cluster", cx.report(), ident);
    if let (Some(name), Some(at)) = (&cluster, fields.get("cluster")) {
        cx.refer(SECTION, "cluster", name.clone(), at.pos);
    }
    let namespace = match fields.get("namespace") {
        Some(n) => cx.template(n).map(Some),
        None => Some(None),
    };
    let timeout = fields.opt("timeout", cx.report(), duration).optional();
    let given: Vec<&str> = OPERATIONS.iter().copied().filter(|k| fields.get(k).is_some()).collect();
    let operation = match given.as_slice() {
        [one] => fields.get(one).and_then(|n| operation(one, n, cx)),
        [] => {
            cx.report().error_hint(
                node.pos,
                "a kubernetes action needs an operation",
                "write one of `set_image`, `rollback`, `restart`, `apply`",
            );
            None
        }
        _ => {
            let message = format!("a kubernetes action does one thing; this one has {}", given.join(", "));
            cx.report().error_hint(node.pos, message, "split it into one step per operation");
            None
        }
    };
    Some(KubernetesAction { cluster: cluster?, namespace: namespace?, operation: operation?, timeout: timeout? })
}

fn operation(key: &str, node: &Node, cx: &mut StepContext<'_>) -> Option<Operation> {
    match key {
        "set_image" => {
            let fields = Fields::open(node, "set_image", &["deployment", "container", "image"], cx.report())?;
            let deployment = required(&fields, "deployment", cx);
            let container = required(&fields, "container", cx);
            let image = required(&fields, "image", cx);
            Some(Operation::SetImage { deployment: deployment?, container: container?, image: image? })
        }
        "rollback" => {
            let fields = Fields::open(node, "rollback", &["deployment", "revision"], cx.report())?;
            let deployment = required(&fields, "deployment", cx);
            let revision = match fields.get("revision") {
                Some(n) => cx.template(n).map(Some),
                None => Some(None),
            };
            Some(Operation::Rollback { deployment: deployment?, revision: revision? })
        }
        "restart" => {
            let keys: Vec<&str> = Workload::ALL.iter().map(|(k, _)| *k).collect();
            let fields = Fields::open(node, "restart", &keys, cx.report())?;
            let given: Vec<(&str, Workload)> =
                Workload::ALL.iter().copied().filter(|(k, _)| fields.get(k).is_some()).collect();
            let [(key, workload)] = given.as_slice() else {
                cx.report().error_hint(
                    node.pos,
                    "`restart` names one workload",
                    "write one of `deployment: api`, `statefulset: db`, `daemonset: agent`",
                );
                return None;
            };
            Some(Operation::Restart { workload: *workload, name: required(&fields, key, cx)? })
        }
        _ => {
            let fields = Fields::open(node, "apply", &["manifest", "force"], cx.report())?;
            let manifest = fields.req("manifest", cx.report(), nonempty);
            let force = fields.opt("force", cx.report(), boolean).or(false);
            let manifest = manifest?;
            if manifest.contains("{{") {
                let at = fields.get("manifest").map_or(node.pos, |n| n.pos);
                cx.report().error_hint(
                    at,
                    "`manifest` is a file, not a template",
                    "name one file; put `{{param}}` in the values inside it",
                );
                return None;
            }
            Some(Operation::Apply { manifest: PathBuf::from(manifest), force: force? })
        }
    }
}

fn required(fields: &Fields<'_>, key: &str, cx: &mut StepContext<'_>) -> Option<Template> {
    let node = fields.require(key, cx.report())?;
    let template = cx.template(node)?;
    if template.is_literal() && template.render(&Default::default()).trim().is_empty() {
        empty(node, key, cx.report());
        return None;
    }
    Some(template)
}

fn empty(node: &Node, key: &str, report: &mut Report) {
    report.error(node.pos, format!("`{key}` is empty"));
}
