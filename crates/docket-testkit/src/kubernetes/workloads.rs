//! The fake's StatefulSet and DaemonSet controllers. A StatefulSet whose pod template changed
//! gets a new `updateRevision`; pods are replaced from the highest ordinal down, each going
//! unready then coming back updated (`updatedReplicas`, `readyReplicas`), and when all are
//! updated `currentRevision` becomes the update revision. A DaemonSet's pods (one per node,
//! `desiredNumberScheduled`) are replaced one node at a time (`updatedNumberScheduled`,
//! `numberReady`, `numberAvailable`). Each tick moves one pod.

use serde_json::{Value, json};

use super::Inner;
use super::controller::hash_of;

/// A StatefulSet `name` in `ns` running `image` in container `container`, `replicas` pods, all
/// current.
pub(crate) fn stateful_set(ns: &str, name: &str, uid: &str, container: &str, image: &str, replicas: i64) -> Value {
    let labels = json!({"app": name});
    let template =
        json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": container, "image": image}]}});
    let revision = format!("{name}-{}", hash_of(&template));
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": ns, "uid": uid, "generation": 1, "labels": labels},
        "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": labels},
                 "podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10,
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                 "template": template},
        "status": {"observedGeneration": 1, "replicas": replicas, "readyReplicas": replicas,
                   "availableReplicas": replicas, "currentReplicas": replicas, "updatedReplicas": replicas,
                   "currentRevision": revision, "updateRevision": revision, "collisionCount": 0},
    })
}

/// A DaemonSet `name` in `ns` running `image` on `nodes` nodes, all current.
pub(crate) fn daemon_set(ns: &str, name: &str, uid: &str, container: &str, image: &str, nodes: i64) -> Value {
    let labels = json!({"app": name});
    let template =
        json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": container, "image": image}]}});
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": ns, "uid": uid, "generation": 1, "labels": labels},
        "spec": {"selector": {"matchLabels": labels}, "revisionHistoryLimit": 10,
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                 "template": template},
        "status": {"observedGeneration": 1, "desiredNumberScheduled": nodes, "currentNumberScheduled": nodes,
                   "updatedNumberScheduled": nodes, "numberReady": nodes, "numberAvailable": nodes,
                   "numberMisscheduled": 0},
    })
}

/// One tick of both controllers; whether anything changed.
pub(crate) fn reconcile(inner: &mut Inner) -> bool {
    let keys: Vec<(String, String, String)> =
        inner.objects.keys().filter(|(p, _, _)| p == "statefulsets" || p == "daemonsets").cloned().collect();
    let mut any = false;
    for key in keys {
        let Some(object) = inner.objects.get(&key).cloned() else { continue };
        let status = if key.0 == "statefulsets" { stateful(&key.2, &object) } else { daemon(&object) };
        if status != object["status"] {
            let version = inner.bump();
            if let Some(o) = inner.objects.get_mut(&key) {
                o["status"] = status;
                o["metadata"]["resourceVersion"] = json!(version);
            }
            any = true;
        }
    }
    any
}

fn count(status: &Value, key: &str) -> i64 {
    status[key].as_i64().unwrap_or(0)
}

fn stateful(name: &str, sts: &Value) -> Value {
    let mut status = sts["status"].clone();
    let generation = sts["metadata"]["generation"].as_i64().unwrap_or(1);
    let wanted = sts["spec"]["replicas"].as_i64().unwrap_or(1);
    let revision = format!("{name}-{}", hash_of(&sts["spec"]["template"]));
    if count(&status, "observedGeneration") < generation {
        status["observedGeneration"] = json!(generation);
        if status["updateRevision"] != json!(revision) {
            status["updateRevision"] = json!(revision);
            status["updatedReplicas"] = json!(0);
        }
        return status;
    }
    if status["currentRevision"] == status["updateRevision"] {
        status["replicas"] = json!(wanted);
        return status;
    }
    let (ready, updated) = (count(&status, "readyReplicas"), count(&status, "updatedReplicas"));
    if ready < wanted {
        // The replaced pod comes back, updated and ready.
        status["readyReplicas"] = json!(ready + 1);
        status["availableReplicas"] = json!(ready + 1);
        status["updatedReplicas"] = json!(updated + 1);
        status["currentReplicas"] = json!((wanted - updated - 1).max(0));
    } else if updated < wanted {
        // The next pod, highest ordinal first, is deleted.
        status["readyReplicas"] = json!(ready - 1);
        status["availableReplicas"] = json!(ready - 1);
    } else {
        status["currentRevision"] = status["updateRevision"].clone();
        status["currentReplicas"] = json!(wanted);
    }
    status
}

fn daemon(ds: &Value) -> Value {
    let mut status = ds["status"].clone();
    let generation = ds["metadata"]["generation"].as_i64().unwrap_or(1);
    let desired = count(&status, "desiredNumberScheduled");
    if count(&status, "observedGeneration") < generation {
        status["observedGeneration"] = json!(generation);
        status["updatedNumberScheduled"] = json!(0);
        return status;
    }
    let (ready, updated) = (count(&status, "numberReady"), count(&status, "updatedNumberScheduled"));
    if ready < desired {
        status["numberReady"] = json!(ready + 1);
        status["numberAvailable"] = json!(ready + 1);
        status["updatedNumberScheduled"] = json!(updated + 1);
    } else if updated < desired {
        status["numberReady"] = json!(ready - 1);
        status["numberAvailable"] = json!(ready - 1);
        status["numberUnavailable"] = json!(1);
    } else {
        status["numberUnavailable"] = json!(0);
    }
    status
}
