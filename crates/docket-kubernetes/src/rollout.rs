//! What a Deployment says about itself: its containers' images, replicas, revision and
//! ReplicaSets (`deployment.kubernetes.io/revision` annotations are the rollout history), and
//! where its rollout stands — read the way `kubectl rollout status` reads it; and where a
//! StatefulSet's or DaemonSet's rollout stands, read from their own status fields.

use serde_json::Value;

use crate::action::Workload;

/// The annotation holding a Deployment's (and each of its ReplicaSets') revision.
pub(crate) const REVISION: &str = "deployment.kubernetes.io/revision";
/// The label the controller adds to a ReplicaSet's pod template; not part of the Deployment's.
pub(crate) const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The pod-template annotation `kubectl rollout restart` sets.
pub(crate) const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
/// What the API server defaults `progressDeadlineSeconds` to.
const DEFAULT_PROGRESS_DEADLINE: i64 = 600;

/// Where a rollout stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Still going, in words.
    Waiting(String),
    /// Every replica updated and available, no old one left.
    Complete,
    /// The controller gave up: the Deployment's `Progressing` condition, in its words.
    Failed(String),
}

/// The rollout of `deployment` after the change that made generation `generation`.
pub(crate) fn progress(deployment: &Value, generation: i64) -> Progress {
    let status = &deployment["status"];
    let observed = status["observedGeneration"].as_i64().unwrap_or(0);
    if observed < generation {
        return Progress::Waiting("waiting for the Deployment controller to see the change".to_owned());
    }
    let conditions = status["conditions"].as_array().map(Vec::as_slice).unwrap_or_default();
    if let Some(stuck) =
        conditions.iter().find(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded")
    {
        let deadline = deployment["spec"]["progressDeadlineSeconds"].as_i64().unwrap_or(DEFAULT_PROGRESS_DEADLINE);
        let message = stuck["message"].as_str().unwrap_or("no message");
        return Progress::Failed(format!(
            "the rollout passed its progress deadline ({deadline}s): ProgressDeadlineExceeded: {message}"
        ));
    }
    let wanted = replicas(deployment);
    let updated = status["updatedReplicas"].as_i64().unwrap_or(0);
    let total = status["replicas"].as_i64().unwrap_or(0);
    let ready = status["readyReplicas"].as_i64().unwrap_or(0);
    let available = status["availableReplicas"].as_i64().unwrap_or(0);
    if updated < wanted {
        return Progress::Waiting(format!("{updated} of {wanted} new replicas updated, {ready} ready"));
    }
    if total > updated {
        let old = total - updated;
        return Progress::Waiting(format!("{old} old replica{} pending termination", if old == 1 { "" } else { "s" }));
    }
    if available < updated {
        return Progress::Waiting(format!("{available} of {updated} updated replicas available"));
    }
    Progress::Complete
}

/// How many pods the workload runs: `spec.replicas` of a Deployment or StatefulSet, a
/// DaemonSet's `status.desiredNumberScheduled` (one per node it fits).
pub(crate) fn pods(kind: Workload, object: &Value) -> i64 {
    match kind {
        Workload::DaemonSet => object["status"]["desiredNumberScheduled"].as_i64().unwrap_or(0),
        _ => replicas(object),
    }
}

/// Where the rollout of a `kind` workload stands after the change that made `generation`.
pub(crate) fn progress_of(kind: Workload, object: &Value, generation: i64) -> Progress {
    let status = &object["status"];
    if kind != Workload::Deployment && status["observedGeneration"].as_i64().unwrap_or(0) < generation {
        return Progress::Waiting(format!("waiting for the {} controller to see the change", kind.key()));
    }
    let count = |key: &str| status[key].as_i64().unwrap_or(0);
    match kind {
        Workload::Deployment => progress(object, generation),
        Workload::StatefulSet => {
            let strategy = object["spec"]["updateStrategy"]["type"].as_str().unwrap_or("RollingUpdate");
            if strategy != "RollingUpdate" {
                return Progress::Failed(format!(
                    "its updateStrategy is {strategy}: the controller replaces a pod only when it is deleted, so \
                     there is no rollout to follow"
                ));
            }
            let wanted = replicas(object);
            let partition = object["spec"]["updateStrategy"]["rollingUpdate"]["partition"].as_i64().unwrap_or(0);
            let (updated, ready) = (count("updatedReplicas"), count("readyReplicas"));
            let update = status["updateRevision"].as_str().unwrap_or("");
            if ready < wanted {
                return Progress::Waiting(format!("{ready} of {wanted} pods ready, {updated} updated"));
            }
            if partition > 0 {
                let due = (wanted - partition).max(0);
                return if updated < due {
                    Progress::Waiting(format!("{updated} of {due} pods above the partition updated to {update}"))
                } else {
                    Progress::Complete
                };
            }
            if status["currentRevision"].as_str().unwrap_or("") != update || updated < wanted {
                return Progress::Waiting(format!("{updated} of {wanted} pods at revision {update}, {ready} ready"));
            }
            Progress::Complete
        }
        Workload::DaemonSet => {
            let desired = count("desiredNumberScheduled");
            let (updated, ready) = (count("updatedNumberScheduled"), count("numberReady"));
            if updated < desired {
                return Progress::Waiting(format!("{updated} of {desired} new pods updated, {ready} ready"));
            }
            if ready < desired {
                return Progress::Waiting(format!("{ready} of {desired} updated pods ready"));
            }
            Progress::Complete
        }
    }
}

/// `spec.replicas` (1 when unset, as the API server defaults it).
pub(crate) fn replicas(deployment: &Value) -> i64 {
    deployment["spec"]["replicas"].as_i64().unwrap_or(1)
}

/// The object's revision annotation.
pub(crate) fn revision(object: &Value) -> Option<i64> {
    object["metadata"]["annotations"][REVISION].as_str().and_then(|r| r.parse().ok())
}

/// The pod template's containers as (name, image).
pub(crate) fn containers(template: &Value) -> Vec<(String, String)> {
    template["spec"]["containers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|c| (text(&c["name"]), text(&c["image"])))
        .collect()
}

/// The images of a pod template as people read them: the image alone for one container,
/// `name=image, …` for several.
pub(crate) fn images(template: &Value) -> String {
    match containers(template).as_slice() {
        [(_, image)] => image.clone(),
        several => several.iter().map(|(n, i)| format!("{n}={i}")).collect::<Vec<_>>().join(", "),
    }
}

/// The Deployment's `spec.selector.matchLabels` as a label selector (`app=api`); `None` when it
/// selects by expressions only, which Docket does not rebuild.
pub(crate) fn selector(deployment: &Value) -> Option<String> {
    let labels = deployment["spec"]["selector"]["matchLabels"].as_object()?;
    if labels.is_empty() {
        return None;
    }
    Some(labels.iter().map(|(k, v)| format!("{k}={}", text(v))).collect::<Vec<_>>().join(","))
}

/// The ReplicaSets among `all` that `deployment` controls (by owner reference), each with its
/// revision, newest first.
pub(crate) fn history(deployment: &Value, all: Vec<Value>) -> Vec<(i64, Value)> {
    let uid = &deployment["metadata"]["uid"];
    let mut owned: Vec<(i64, Value)> = all
        .into_iter()
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| &r["uid"] == uid && r["controller"] == true))
        })
        .filter_map(|rs| revision(&rs).map(|r| (r, rs)))
        .collect();
    owned.sort_by_key(|rs| std::cmp::Reverse(rs.0));
    owned
}

/// A ReplicaSet's pod template as the Deployment's would be: without the controller's
/// `pod-template-hash` label.
pub(crate) fn template_of(replica_set: &Value) -> Value {
    let mut template = replica_set["spec"]["template"].clone();
    if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
        labels.remove(POD_TEMPLATE_HASH);
    }
    template
}

/// A JSON Pointer token (RFC 6901): `~` and `/` escaped.
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;
    use serde_json::json;

    fn deployment(status: Value) -> Value {
        json!({"metadata": {"generation": 2}, "spec": {"replicas": 3, "progressDeadlineSeconds": 30}, "status": status})
    }

    #[test]
    fn the_rollout_reads_as_kubectl_reads_it() {
        let unseen = deployment(json!({"observedGeneration": 1}));
        assert!(matches!(progress(&unseen, 2), Progress::Waiting(w) if w.contains("controller")));
        let half =
            deployment(json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 1, "readyReplicas": 3}));
        assert_eq!(progress(&half, 2), Progress::Waiting("1 of 3 new replicas updated, 3 ready".into()));
        let old = deployment(json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3}));
        assert_eq!(progress(&old, 2), Progress::Waiting("1 old replica pending termination".into()));
        let unavailable =
            deployment(json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}));
        assert_eq!(progress(&unavailable, 2), Progress::Waiting("2 of 3 updated replicas available".into()));
        let done =
            deployment(json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}));
        assert_eq!(progress(&done, 2), Progress::Complete);
        let stuck = deployment(json!({"observedGeneration": 2, "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": "ReplicaSet \"api-5f7d\" has timed out progressing."}
        ]}));
        assert_eq!(
            progress(&stuck, 2),
            Progress::Failed(
                "the rollout passed its progress deadline (30s): ProgressDeadlineExceeded: ReplicaSet \"api-5f7d\" has timed out progressing.".into()
            )
        );
    }

    #[test]
    fn stateful_and_daemon_sets_read_their_own_status() {
        let sts = |status: Value| json!({"spec": {"replicas": 3}, "status": status});
        assert!(
            matches!(progress_of(Workload::StatefulSet, &sts(json!({"observedGeneration": 1})), 2), Progress::Waiting(w) if w.contains("statefulset controller"))
        );
        let rolling = sts(json!({"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 1,
                                 "currentRevision": "db-1", "updateRevision": "db-2"}));
        assert_eq!(
            progress_of(Workload::StatefulSet, &rolling, 2),
            Progress::Waiting("1 of 3 pods at revision db-2, 3 ready".into())
        );
        let unready = sts(json!({"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": 3,
                                 "currentRevision": "db-1", "updateRevision": "db-2"}));
        assert_eq!(
            progress_of(Workload::StatefulSet, &unready, 2),
            Progress::Waiting("2 of 3 pods ready, 3 updated".into())
        );
        let done = sts(json!({"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 3,
                              "currentRevision": "db-2", "updateRevision": "db-2"}));
        assert_eq!(progress_of(Workload::StatefulSet, &done, 2), Progress::Complete);
        let on_delete = json!({"spec": {"replicas": 3, "updateStrategy": {"type": "OnDelete"}}, "status": {"observedGeneration": 2}});
        assert!(
            matches!(progress_of(Workload::StatefulSet, &on_delete, 2), Progress::Failed(w) if w.contains("OnDelete"))
        );
        let ds = |status: Value| json!({"status": status});
        let half = ds(
            json!({"observedGeneration": 2, "desiredNumberScheduled": 4, "updatedNumberScheduled": 2, "numberReady": 3}),
        );
        assert_eq!(
            progress_of(Workload::DaemonSet, &half, 2),
            Progress::Waiting("2 of 4 new pods updated, 3 ready".into())
        );
        let unready = ds(
            json!({"observedGeneration": 2, "desiredNumberScheduled": 4, "updatedNumberScheduled": 4, "numberReady": 3}),
        );
        assert_eq!(
            progress_of(Workload::DaemonSet, &unready, 2),
            Progress::Waiting("3 of 4 updated pods ready".into())
        );
        let done = ds(
            json!({"observedGeneration": 2, "desiredNumberScheduled": 4, "updatedNumberScheduled": 4, "numberReady": 4}),
        );
        assert_eq!(progress_of(Workload::DaemonSet, &done, 2), Progress::Complete);
    }

    #[test]
    fn history_keeps_owned_replica_sets_newest_first() {
        let d = json!({"metadata": {"uid": "u1"}});
        let rs = |name: &str, uid: &str, rev: &str| {
            json!({"metadata": {"name": name, "annotations": {REVISION: rev},
                   "ownerReferences": [{"uid": uid, "controller": true}]}})
        };
        let found = history(&d, vec![rs("a", "u1", "1"), rs("b", "u2", "9"), rs("c", "u1", "3")]);
        let names: Vec<(i64, &str)> =
            found.iter().map(|(r, v)| (*r, v["metadata"]["name"].as_str().unwrap())).collect();
        assert_eq!(names, [(3, "c"), (1, "a")]);
        assert_eq!(pointer_token(REVISION), "deployment.kubernetes.io~1revision");
    }
}
