//! The fake's Deployment controller: a changed pod template gets its ReplicaSet (a new one, or
//! the old one with the same template, for a rollback) under the next revision; each tick adds
//! one pod to it or removes one from an old ReplicaSet; pods of a broken image never become
//! ready; and a rollout that has not progressed for `progressDeadlineSeconds` is marked
//! `Progressing=False` with reason `ProgressDeadlineExceeded`, as the real controller marks it.

use std::hash::{Hash as _, Hasher as _};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Shared, lock};

const REVISION: &str = "deployment.kubernetes.io/revision";

/// A short, stable hash of a pod template (the fake's `pod-template-hash`).
pub fn hash_of(template: &Value) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    template.to_string().hash(&mut hasher);
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = hasher.finish();
    (0..10)
        .map(|_| {
            let c = alphabet[(n % alphabet.len() as u64) as usize];
            n /= alphabet.len() as u64;
            c as char
        })
        .collect()
}

/// A ReplicaSet of Deployment `name` (uid `uid`) for `template`, at `revision`, with `replicas`
/// pods, all ready.
pub(crate) fn replica_set(ns: &str, name: &str, uid: &str, template: &Value, revision: i64, replicas: i64) -> Value {
    let hash = hash_of(template);
    let mut labels = template["metadata"]["labels"].clone();
    labels["pod-template-hash"] = json!(hash);
    let mut pod_template = template.clone();
    pod_template["metadata"]["labels"] = labels.clone();
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"), "namespace": ns, "labels": labels,
            "annotations": {REVISION: revision.to_string()},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": uid,
                                 "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": pod_template},
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    })
}

/// Runs the controller until the task is dropped.
pub(crate) async fn run(shared: Shared, changes: tokio::sync::watch::Sender<u64>, pace: Duration) {
    loop {
        tokio::time::sleep(pace).await;
        let changed = {
            let mut inner = lock(&shared);
            if inner.frozen {
                None
            } else {
                let keys: Vec<(String, String)> = inner.deployments.keys().cloned().collect();
                let mut any = false;
                for key in keys {
                    any |= reconcile(&mut inner, &key);
                }
                any |= super::workloads::reconcile(&mut inner);
                any.then_some(inner.version)
            }
        };
        if let Some(version) = changed {
            changes.send_replace(version);
        }
    }
}

fn owned<'a>(inner: &'a super::Inner, ns: &str, uid: &Value) -> Vec<(String, &'a Value)> {
    inner
        .replica_sets
        .iter()
        .filter(|((n, _), rs)| n == ns && rs["metadata"]["ownerReferences"][0]["uid"] == *uid)
        .map(|((_, name), rs)| (name.clone(), rs))
        .collect()
}

fn revision_of(rs: &Value) -> i64 {
    rs["metadata"]["annotations"][REVISION].as_str().and_then(|r| r.parse().ok()).unwrap_or(0)
}

fn template_without_hash(rs: &Value) -> Value {
    let mut t = rs["spec"]["template"].clone();
    if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
        labels.remove("pod-template-hash");
    }
    t
}

/// One step of the controller for Deployment `key`; whether anything changed.
fn reconcile(inner: &mut super::Inner, key: &(String, String)) -> bool {
    let Some(deployment) = inner.deployments.get(key).cloned() else { return false };
    let (ns, name) = (key.0.as_str(), key.1.as_str());
    let uid = deployment["metadata"]["uid"].clone();
    let template = deployment["spec"]["template"].clone();
    let generation = deployment["metadata"]["generation"].as_i64().unwrap_or(1);
    let mut status = deployment["status"].clone();
    let mut annotations = deployment["metadata"]["annotations"].clone();
    let now = Instant::now();
    let mut rs_changes: Vec<(String, Value)> = Vec::new();
    let mut progressed = false;
    let mut message_reason: Option<(&str, String)> = None;

    // The ReplicaSet for the current template, under the newest revision.
    let sets = owned(inner, ns, &uid);
    let newest = sets.iter().map(|(_, rs)| revision_of(rs)).max().unwrap_or(0);
    let found =
        sets.iter().find(|(_, rs)| template_without_hash(rs) == template).map(|(n, rs)| (n.clone(), (*rs).clone()));
    let (new_name, mut new_rs) = match found {
        Some((n, rs)) => (n, rs),
        None => {
            let rs = replica_set(ns, name, uid.as_str().unwrap_or(""), &template, newest + 1, 0);
            let n = rs["metadata"]["name"].as_str().unwrap_or("").to_owned();
            (n, rs)
        }
    };
    if status["observedGeneration"].as_i64().unwrap_or(0) < generation {
        let is_new = !sets.iter().any(|(n, _)| *n == new_name);
        if revision_of(&new_rs) != newest || is_new {
            new_rs["metadata"]["annotations"][REVISION] = json!((newest + 1).to_string());
        }
        annotations[REVISION] = new_rs["metadata"]["annotations"][REVISION].clone();
        status["observedGeneration"] = json!(generation);
        let (reason, words) =
            if is_new { ("NewReplicaSetCreated", "Created new") } else { ("FoundNewReplicaSet", "Found new") };
        message_reason = Some((reason, format!("{words} replica set \"{new_name}\"")));
        progressed = true;
        rs_changes.push((new_name.clone(), new_rs.clone()));
    }

    // Move one pod.
    let wanted = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    let image = new_rs["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or("").to_owned();
    let healthy = !inner.broken.contains(&image);
    let new_count = new_rs["spec"]["replicas"].as_i64().unwrap_or(0);
    let mut old: Vec<(String, Value)> = sets
        .iter()
        .filter(|(n, rs)| *n != new_name && rs["spec"]["replicas"].as_i64().unwrap_or(0) > 0)
        .map(|(n, rs)| (n.clone(), (*rs).clone()))
        .collect();
    if new_count < wanted && (healthy || new_count == 0) {
        let ready = if healthy { new_count + 1 } else { 0 };
        new_rs["spec"]["replicas"] = json!(new_count + 1);
        new_rs["status"] = json!({"replicas": new_count + 1, "readyReplicas": ready, "availableReplicas": ready});
        rs_changes.push((new_name.clone(), new_rs.clone()));
        progressed = true;
    } else if healthy && let Some((old_name, old_rs)) = old.first_mut() {
        let n = old_rs["spec"]["replicas"].as_i64().unwrap_or(1) - 1;
        old_rs["spec"]["replicas"] = json!(n);
        old_rs["status"] = json!({"replicas": n, "readyReplicas": n, "availableReplicas": n});
        rs_changes.push((old_name.clone(), old_rs.clone()));
        progressed = true;
    }
    for (rs_name, mut rs) in rs_changes {
        rs["metadata"]["resourceVersion"] = json!(inner.bump());
        inner.replica_sets.insert((ns.to_owned(), rs_name), rs);
    }

    // The Deployment's status from its ReplicaSets.
    let sets = owned(inner, ns, &uid);
    let sum = |field: &str| sets.iter().map(|(_, rs)| rs["status"][field].as_i64().unwrap_or(0)).sum::<i64>();
    let new_rs = sets.iter().find(|(n, _)| *n == new_name).map(|(_, rs)| (*rs).clone()).unwrap_or(new_rs);
    let updated = new_rs["status"]["replicas"].as_i64().unwrap_or(0);
    let new_ready = new_rs["status"]["readyReplicas"].as_i64().unwrap_or(0);
    let (total, ready, available) = (sum("replicas"), sum("readyReplicas"), sum("availableReplicas"));
    status["replicas"] = json!(total);
    status["updatedReplicas"] = json!(updated);
    status["readyReplicas"] = json!(ready);
    status["availableReplicas"] = json!(available);
    status["unavailableReplicas"] = json!((total - available).max(0));
    let complete = new_ready == wanted && total == wanted;
    if progressed {
        inner.progressed.insert(key.clone(), now);
    }
    let deadline = deployment["spec"]["progressDeadlineSeconds"].as_i64().unwrap_or(600);
    let since = inner.progressed.get(key).copied().unwrap_or(now);
    let (state, reason, message) = if complete {
        ("True", "NewReplicaSetAvailable", format!("ReplicaSet \"{new_name}\" has successfully progressed."))
    } else if !progressed && now.duration_since(since) > Duration::from_secs(u64::try_from(deadline).unwrap_or(600)) {
        ("False", "ProgressDeadlineExceeded", format!("ReplicaSet \"{new_name}\" has timed out progressing."))
    } else if let Some((reason, message)) = message_reason {
        ("True", reason, message)
    } else {
        ("True", "ReplicaSetUpdated", format!("ReplicaSet \"{new_name}\" is progressing."))
    };
    let at = jiff::Timestamp::now().to_string();
    let progressing = json!({"type": "Progressing", "status": state, "reason": reason, "message": message,
                             "lastUpdateTime": at, "lastTransitionTime": at});
    let availability = if available >= wanted - (wanted / 4) {
        json!({"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
               "message": "Deployment has minimum availability."})
    } else {
        json!({"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
               "message": "Deployment does not have minimum availability."})
    };
    let old_progressing = status["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing").cloned())
        .unwrap_or(Value::Null);
    let same =
        old_progressing["reason"] == progressing["reason"] && old_progressing["message"] == progressing["message"];
    status["conditions"] = json!([availability, if same { old_progressing } else { progressing }]);
    if status == deployment["status"] && annotations == deployment["metadata"]["annotations"] {
        return false;
    }
    let version = inner.bump();
    if let Some(d) = inner.deployments.get_mut(key) {
        d["status"] = status;
        d["metadata"]["annotations"] = annotations;
        d["metadata"]["resourceVersion"] = json!(version);
    }
    true
}
