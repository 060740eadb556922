//! What a step will do to its Deployment, worked out from what the cluster holds now: the
//! structured change approvers read (current → target), a sentence for the plan's text, and the
//! patch that makes it — the same computation for the plan and the run, so the run can tell
//! whether the Deployment is still as planned.

use docket_core::Params;
use docket_core::plan::{Change, ChangeAction};
use serde_json::{Value, json};

use super::follow::Followed;
use crate::action::{KubernetesAction, Operation, Workload};
use crate::client::{Kube, Patch, is_name};
use crate::rollout::{self, RESTARTED_AT, REVISION, pointer_token};

/// The step's parameters rendered and checked.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) namespace: String,
    /// The kind of workload.
    pub(crate) kind: Workload,
    /// Its name.
    pub(crate) name: String,
    operation: Rendered,
}

#[derive(Clone, Debug)]
enum Rendered {
    SetImage { container: String, image: String },
    Rollback { revision: Option<i64> },
    Restart,
}

impl Target {
    /// Renders `action` with `params`; the namespace defaults to the context's, then `default`.
    pub(crate) fn render(action: &KubernetesAction, params: &Params, context_ns: Option<&str>) -> Result<Self, String> {
        let namespace = action
            .render_namespace(params)
            .filter(|n| !n.trim().is_empty())
            .or(context_ns.map(str::to_owned))
            .unwrap_or_else(|| "default".to_owned());
        let Some((kind, name)) = action.operation.workload() else {
            return Err(format!("`{}` acts on no single workload", action.operation.name()));
        };
        let name = name.render(params);
        for (what, name) in [("namespace", &namespace), (kind.key(), &name)] {
            if !is_name(name) {
                return Err(format!("{name:?} is not a Kubernetes {what} name (lower-case letters, digits, `-`, `.`)"));
            }
        }
        let operation = match &action.operation {
            Operation::SetImage { container, image, .. } => {
                let (container, image) = (container.render(params), image.render(params));
                if !is_name(&container) {
                    return Err(format!("{container:?} is not a container name"));
                }
                if image.is_empty() || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(format!("{image:?} is not an image reference"));
                }
                Rendered::SetImage { container, image }
            }
            Operation::Rollback { revision, .. } => {
                let text = revision.as_ref().map(|r| r.render(params)).unwrap_or_default();
                let revision = match text.trim() {
                    "" => None,
                    n => Some(n.parse::<i64>().ok().filter(|r| *r > 0).ok_or_else(|| {
                        format!("{n:?} is not a revision (a whole number above 0; empty means the previous one)")
                    })?),
                };
                Rendered::Rollback { revision }
            }
            Operation::Restart { .. } | Operation::Apply { .. } => Rendered::Restart,
        };
        Ok(Self { namespace, kind, name, operation })
    }

    /// `deployment api in prod`.
    pub(crate) fn place(&self) -> String {
        self.followed().place()
    }

    /// The workload, for following its rollout.
    pub(crate) fn followed(&self) -> Followed<'_> {
        Followed { kind: self.kind, namespace: &self.namespace, name: &self.name }
    }
}

/// What the step will do.
#[derive(Clone, Debug)]
pub(crate) struct Intent {
    /// The Deployment as read.
    pub(crate) deployment: Value,
    /// Its generation as read.
    pub(crate) generation: i64,
    /// Its revision as read.
    pub(crate) revision: Option<i64>,
    /// The structured change.
    pub(crate) change: Change,
    /// One sentence: `api in prod: registry/api:1.4.1 → registry/api:1.4.2, 3 replicas`.
    pub(crate) story: String,
    /// The patch, or `None` when there is nothing to change.
    pub(crate) patch: Option<(Patch, Value)>,
}

impl Intent {
    /// Reads the workload (and its history, for a rollback) and works out the change.
    pub(crate) async fn read(kube: &Kube, target: &Target) -> Result<Self, String> {
        let place = target.place();
        let deployment = kube
            .workload(target.kind, &target.namespace, &target.name)
            .await
            .map_err(|e| format!("reading {place}: {e}"))?;
        let generation = deployment["metadata"]["generation"].as_i64().unwrap_or(0);
        let revision = rollout::revision(&deployment);
        let replicas = rollout::pods(target.kind, &deployment);
        let template = &deployment["spec"]["template"];
        let subject = format!("{} in {}", target.name, target.namespace);
        let unit = if target.kind == Workload::DaemonSet { "pod" } else { "replica" };
        let label = format!("{place} ({replicas} {unit}{})", if replicas == 1 { "" } else { "s" });
        let (change, story, patch) = match &target.operation {
            Rendered::SetImage { container, image } => {
                let containers = rollout::containers(template);
                let Some(at) = containers.iter().position(|(n, _)| n == container) else {
                    let names: Vec<&str> = containers.iter().map(|(n, _)| n.as_str()).collect();
                    return Err(format!("{place} has no container `{container}` (it has: {})", names.join(", ")));
                };
                let current = containers[at].1.clone();
                let action = if &current == image { ChangeAction::NoOp } else { ChangeAction::Update };
                let change = Change {
                    target: label,
                    action,
                    before: json!({"container": container, "image": current, "replicas": replicas}),
                    after: json!({"container": container, "image": image, "replicas": replicas}),
                };
                let story = if &current == image {
                    format!("{subject}: already runs {image}, {replicas} replicas; nothing to change")
                } else {
                    format!("{subject}: {current} → {image}, {replicas} replicas (container {container})")
                };
                let path = format!("/spec/template/spec/containers/{at}");
                let patch = (&current != image).then(|| {
                    let body = json!([
                        {"op": "test", "path": format!("{path}/name"), "value": container},
                        {"op": "test", "path": format!("{path}/image"), "value": current},
                        {"op": "replace", "path": format!("{path}/image"), "value": image},
                    ]);
                    (Patch::Json, body)
                });
                (change, story, patch)
            }
            Rendered::Rollback { revision: wanted } => {
                let selector = rollout::selector(&deployment).ok_or_else(|| {
                    format!("{place} selects its pods without matchLabels; Docket cannot find its history")
                })?;
                let all = kube
                    .replica_sets(&target.namespace, &selector)
                    .await
                    .map_err(|e| format!("reading the rollout history of {place}: {e}"))?;
                let history = rollout::history(&deployment, all);
                let current =
                    revision.ok_or_else(|| format!("{place} has no revision yet; there is nothing to roll back to"))?;
                let found = match wanted {
                    Some(r) => history.iter().find(|(rev, _)| rev == r),
                    None => history.iter().find(|(rev, _)| *rev < current),
                };
                let Some((to, replica_set)) = found else {
                    let known: Vec<String> = history.iter().map(|(r, _)| r.to_string()).collect();
                    return Err(match wanted {
                        Some(r) => format!("{place} has no revision {r} (its history: {})", known.join(", ")),
                        None => format!(
                            "{place} has no earlier revision to roll back to (its history: {})",
                            known.join(", ")
                        ),
                    });
                };
                let back = rollout::template_of(replica_set);
                let (from_image, to_image) = (rollout::images(template), rollout::images(&back));
                let next = history.first().map_or(current, |(r, _)| *r).max(current) + 1;
                let same = *to == current;
                let change = Change {
                    target: label,
                    action: if same { ChangeAction::NoOp } else { ChangeAction::Update },
                    before: json!({"image": from_image, "replicas": replicas, "revision": current.to_string()}),
                    after: json!({"image": to_image, "replicas": replicas,
                                  "revision": if same { current.to_string() } else { format!("{to} (as revision {next})") }}),
                };
                let story = if same {
                    format!("{subject}: already at revision {current} ({from_image}); nothing to roll back")
                } else {
                    format!(
                        "{subject}: {from_image} → {to_image}, {replicas} replicas (back to revision {to} of {current})"
                    )
                };
                let patch = (!same).then(|| {
                    let body = json!([
                        {"op": "test", "path": format!("/metadata/annotations/{}", pointer_token(REVISION)), "value": current.to_string()},
                        {"op": "replace", "path": "/spec/template", "value": back},
                    ]);
                    (Patch::Json, body)
                });
                (change, story, patch)
            }
            Rendered::Restart => {
                let last = template["metadata"]["annotations"][RESTARTED_AT].as_str().unwrap_or("never").to_owned();
                let images = rollout::images(template);
                let change = Change {
                    target: label,
                    action: ChangeAction::Update,
                    before: json!({"image": images, "replicas": replicas, "restarted": last}),
                    after: json!({"image": images, "replicas": replicas, "restarted": "when the run starts"}),
                };
                let story = format!(
                    "{subject}: every pod replaced, one by one ({replicas} {unit}{} of {images})",
                    if replicas == 1 { "" } else { "s" }
                );
                let now = jiff::Timestamp::now().to_string();
                let body = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}});
                (change, story, Some((Patch::Merge, body)))
            }
        };
        Ok(Self { deployment, generation, revision, change, story, patch })
    }

    /// Whether the Deployment is still as `planned` saw it: the same image for `set_image` (or
    /// already the target, when a run is resumed), the same revision and target for a rollback.
    pub(crate) fn still_as(&self, planned: &Change) -> Result<(), String> {
        let now = &self.change;
        let field = |c: &Change, side: &str, key: &str| -> Value {
            let value = if side == "before" { &c.before } else { &c.after };
            value.get(key).cloned().unwrap_or(Value::Null)
        };
        let keys: &[&str] = if now.before.get("restarted").is_some() {
            &[]
        } else if now.before.get("revision").is_some() {
            &["revision", "image"]
        } else {
            &["image"]
        };
        for key in keys {
            let (was, is) = (field(planned, "before", key), field(now, "before", key));
            let resumed = field(planned, "after", key) == is && *key == "image" && self.patch.is_none();
            if was != is && !resumed {
                return Err(format!(
                    "{} changed since the plan: its {key} is now {is}, the plan saw {was}; nothing was changed — retry \
                     the ticket to plan again",
                    now.target
                ));
            }
        }
        if field(planned, "after", "image") != field(now, "after", "image") {
            return Err(format!(
                "{} would now become {} rather than the planned {}; nothing was changed — retry the ticket to plan again",
                now.target,
                field(now, "after", "image"),
                field(planned, "after", "image")
            ));
        }
        Ok(())
    }
}
