//! `apply`: a manifest's objects sent with server-side apply (field manager `docket`).
//!
//! Planned: the manifest is read and rendered (`manifest`), each object is read as the cluster
//! holds it and applied as a server-side dry run (`dryRun=All`); the two are compared field by
//! field (`diff`) into one structured change per object — created, changed fields current →
//! target, or unchanged — and the rendered objects' SHA-256 goes into the plan, which the
//! approval binds to.
//!
//! Run: the manifest is rendered again and must hash the same, else nothing is applied; each
//! object is dry-run again and must still change what the plan said (or nothing, when it is
//! already as wanted); then each is applied for real, in file order. A refusal — a conflict
//! with another field manager (409), an invalid object (422), a missing permission (403) — fails
//! the step in the API server's words, naming what was applied before it. Once every object is
//! applied, the rollout of each workload (Deployment, StatefulSet, DaemonSet) the apply created
//! or changed is followed, in file order, as `set_image` follows its own: the step succeeds when
//! they have all rolled out and fails on the first that cannot (a Deployment past its progress
//! deadline), the step's time limit bounding the rest.

use std::path::Path;

use docket_app::{LogStream, StepJob, StepLog};
use docket_core::plan::{Change, ChangeAction};
use docket_core::ticket::StepOutcome;
use docket_core::{Params, PlanFacts};
use serde_json::{Value, json};

use super::fail;
use super::follow::{self, Followed};
use crate::client::Kube;
use crate::diff;
use crate::manifest::{self, Manifest, Object};

/// Fields named in one log line of an update.
const FIELDS_LOGGED: usize = 5;

/// What applying one object will do, worked out from a dry run.
struct Planned {
    change: Change,
    line: String,
}

/// Renders the manifest, dry-runs each object and reports the changes.
pub(crate) async fn plan(
    kube: &Kube,
    file: &Path,
    force: bool,
    namespace: &str,
    params: &Params,
    log: &dyn StepLog,
) -> StepOutcome {
    let manifest = match manifest::read(file, params, namespace).await {
        Ok(m) => m,
        Err(message) => return fail(log, message),
    };
    let mut changes = Vec::with_capacity(manifest.objects.len());
    for object in &manifest.objects {
        match dry_run(kube, object, force).await {
            Ok(planned) => {
                log.line(LogStream::Stdout, &planned.line);
                changes.push(planned.change);
            }
            Err(message) => return fail(log, message),
        }
    }
    log.line(
        LogStream::System,
        &format!("the API server accepted every object in a dry run (dryRun=All); manifest sha256 {}", manifest.sha256),
    );
    log.facts(PlanFacts { changes, saved_file: Some(manifest.sha256), ..PlanFacts::default() });
    StepOutcome::Succeeded
}

/// Applies the manifest the plan saw, object by object.
pub(crate) async fn run(
    kube: &Kube,
    file: &Path,
    force: bool,
    namespace: &str,
    job: &StepJob<'_>,
    log: &dyn StepLog,
) -> StepOutcome {
    let manifest = match manifest::read(file, job.params, namespace).await {
        Ok(m) => m,
        Err(message) => return fail(log, message),
    };
    let Some(planned) = job.planned else {
        return fail(log, "there is no plan to check the manifest against; nothing was applied");
    };
    if let Err(message) = same_manifest(&manifest, planned.facts.saved_file.as_deref(), file) {
        return fail(log, message);
    }
    let mut actions = Vec::with_capacity(manifest.objects.len());
    for object in &manifest.objects {
        let now = match dry_run(kube, object, force).await {
            Ok(now) => now.change,
            Err(message) => return fail(log, format!("{message}; nothing was applied")),
        };
        let then = planned.facts.changes.iter().find(|c| c.target == now.target);
        let as_planned = then.is_some_and(|then| *then == now) || now.action == ChangeAction::NoOp;
        if !as_planned {
            let was = then.map_or_else(|| "nothing".to_owned(), |c| c.action.verb().to_owned());
            return fail(
                log,
                format!(
                    "{} changed since the plan: applying it would now {} ({}), the plan said {was}; nothing was \
                     applied — retry the ticket to plan again",
                    now.target,
                    now.action.verb(),
                    fields_text(&now)
                ),
            );
        }
        actions.push(now.action);
    }
    let mut applied: Vec<String> = Vec::new();
    let mut rollouts: Vec<Rollout<'_>> = Vec::new();
    for (object, action) in manifest.objects.iter().zip(actions) {
        let place = object.place();
        let path = object.resource.path(&object.namespace, &object.name);
        let current = match kube.get(&path).await {
            Ok(current) => current,
            Err(e) => return fail(log, failed_at(&place, &e.to_string(), &applied)),
        };
        match kube.apply(&path, &object.body, false, force).await {
            Ok(after) => {
                let version = after["metadata"]["resourceVersion"].as_str().unwrap_or("?");
                let how = if current.is_some() { "configured" } else { "created" };
                log.line(LogStream::Stdout, &format!("{place} {how} (resourceVersion {version})"));
                if let Some(kind) = object.workload().filter(|_| action != ChangeAction::NoOp) {
                    let revision_before = current.as_ref().and_then(crate::rollout::revision);
                    let followed = Followed { kind, namespace: &object.namespace, name: &object.name };
                    rollouts.push(Rollout { followed, after, revision_before });
                }
                applied.push(place);
            }
            Err(e) => return fail(log, failed_at(&place, &e.to_string(), &applied)),
        }
    }
    log.line(
        LogStream::System,
        &format!("applied {} object{}", applied.len(), if applied.len() == 1 { "" } else { "s" }),
    );
    for Rollout { followed, after, revision_before } in rollouts {
        let place = followed.place();
        let generation = after["metadata"]["generation"].as_i64().unwrap_or(1);
        log.line(LogStream::System, &format!("following the rollout of {place} (generation {generation})"));
        if let Err(message) = follow::follow(kube, followed, after, generation, revision_before, log).await {
            return fail(log, format!("{place}: {message} (every object was applied)"));
        }
        log.line(LogStream::System, &format!("{place} successfully rolled out"));
    }
    StepOutcome::Succeeded
}

/// A workload the apply created or changed, whose rollout the step follows.
struct Rollout<'a> {
    followed: Followed<'a>,
    /// The workload as the apply answered it.
    after: Value,
    /// Its Deployment revision before the apply, if it had one.
    revision_before: Option<i64>,
}

/// Whether `manifest` is the one the plan rendered.
fn same_manifest(manifest: &Manifest, planned: Option<&str>, file: &Path) -> Result<(), String> {
    match planned {
        Some(sha) if sha == manifest.sha256 => Ok(()),
        Some(sha) => Err(format!(
            "the manifest {} renders to other objects than the approved plan (sha256 {} then, {} now); nothing was \
             applied — retry the ticket to plan the manifest as it is now",
            file.display(),
            short(sha),
            short(&manifest.sha256)
        )),
        None => Err("the plan recorded no manifest hash to check against; nothing was applied".to_owned()),
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn failed_at(place: &str, why: &str, applied: &[String]) -> String {
    let before = if applied.is_empty() {
        "nothing was applied before it".to_owned()
    } else {
        format!("already applied: {}", applied.join(", "))
    };
    format!("applying {place} was refused: {why} ({before})")
}

/// Reads the object, dry-runs its apply and compares the two.
async fn dry_run(kube: &Kube, object: &Object, force: bool) -> Result<Planned, String> {
    let place = object.place();
    let path = object.resource.path(&object.namespace, &object.name);
    let current = kube.get(&path).await.map_err(|e| format!("reading {place}: {e}"))?;
    let after = kube
        .apply(&path, &object.body, true, force)
        .await
        .map_err(|e| format!("the server-side dry run of {place} was refused: {e}"))?;
    let change = match &current {
        None => Change {
            target: place.clone(),
            action: ChangeAction::Create,
            before: Value::Null,
            after: Value::Object(diff::all_fields(&object.body).into_iter().collect()),
        },
        Some(current) => {
            let changed = diff::fields(current, &after);
            if changed.is_empty() {
                Change { target: place.clone(), action: ChangeAction::NoOp, before: json!({}), after: json!({}) }
            } else {
                let (before, after) = diff::sides(&changed);
                Change { target: place.clone(), action: ChangeAction::Update, before, after }
            }
        }
    };
    let line = match change.action {
        ChangeAction::Create => format!("+ create {place}"),
        ChangeAction::NoOp => format!("= {place} unchanged"),
        _ => format!("~ update {place}: {}", fields_text(&change)),
    };
    Ok(Planned { change, line })
}

/// `spec.replicas 2 → 3; data.LOG_LEVEL info → debug` (the first few), for logs and refusals.
fn fields_text(change: &Change) -> String {
    let Some(before) = change.before.as_object() else { return change.action.verb().to_owned() };
    let mut parts: Vec<String> = before
        .iter()
        .take(FIELDS_LOGGED)
        .map(|(path, was)| format!("{path} {} → {}", shown(was), shown(&change.after[path.as_str()])))
        .collect();
    if before.len() > FIELDS_LOGGED {
        parts.push(format!("and {} more", before.len() - FIELDS_LOGGED));
    }
    if parts.is_empty() { "no field".to_owned() } else { parts.join("; ") }
}

fn shown(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
