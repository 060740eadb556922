//! `apply`: the plan is a server-side dry run of each object of the manifest, shown per object
//! (created, changed fields current → target, unchanged); policies count it; the run applies
//! exactly the objects planned; refusals are the API server's own (422 invalid, 409 conflict);
//! a manifest that renders differently after approval is not applied; the rollout of each
//! workload the run created or changed is followed to its end.

use docket_core::TicketState;
use serde_json::{Value, json};

use crate::support::{Cluster, MANIFEST, REPO, changes, deadline_passed, failure};

/// A cluster with the API at 1.4.1 (3 replicas) and its ConfigMap as the manifest writes it.
async fn cluster() -> Cluster {
    let c = Cluster::start(&["1.4.1"]).await;
    c.kube.object("docket", config_map("info"));
    c
}

fn config_map(level: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config", "namespace": "prod"},
           "data": {"LOG_LEVEL": level}})
}

fn params<'a>(version: &'a str, replicas: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("env", "prod"), ("version", version), ("replicas", replicas)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_shows_each_objects_changes_after_a_server_side_dry_run() {
    let c = cluster().await;
    let ticket = c.request("apply", &params("1.4.2", "4")).await;
    assert_eq!(ticket.state, TicketState::AwaitingApproval, "{:?}", ticket.closing_reason);
    let found = changes(&ticket);
    assert_eq!(found.len(), 3, "{found:#?}");
    let (target, action, before, after) = &found[0];
    assert_eq!((target.as_str(), action.as_str()), ("deployment api in prod", "update"));
    assert_eq!(
        *before,
        json!({"spec.replicas": 3, "spec.template.spec.containers[api].image": format!("{REPO}:1.4.1")})
    );
    assert_eq!(
        *after,
        json!({"spec.replicas": 4, "spec.template.spec.containers[api].image": format!("{REPO}:1.4.2")})
    );
    assert_eq!((found[1].0.as_str(), found[1].1.as_str()), ("configmap api-config in prod", "no-op"));
    let (target, action, before, after) = &found[2];
    assert_eq!((target.as_str(), action.as_str(), before), ("service api in prod", "create", &Value::Null));
    assert_eq!(after["spec.ports[http].port"], json!(80), "an integer parameter stays a number");
    assert_eq!(after["kind"], json!("Service"));
    let step = &ticket.plan.as_ref().unwrap().steps[0];
    assert!(step.summary.starts_with("kubernetes: apply "), "{}", step.summary);
    assert!(step.summary.ends_with("api.yaml in prod (server-side apply)"), "{}", step.summary);
    assert_eq!(step.facts.saved_file.as_ref().map(String::len), Some(64), "the rendered manifest's SHA-256");
    let output = step.output.as_deref().unwrap();
    assert!(output.contains("+ create service api in prod"), "{output}");
    assert!(output.contains("= configmap api-config in prod unchanged"), "{output}");
    assert!(
        output.contains(&format!(
            "~ update deployment api in prod: spec.replicas 3 → 4; spec.template.spec.containers[api].image {REPO}:1.4.1 → {REPO}:1.4.2"
        )),
        "{output}"
    );
    // What both chats lead the approval request with.
    let brief = c.t.app.summarize(&ticket).changes.unwrap();
    assert_eq!(brief.summary, "1 to add, 1 to change (1 unchanged)");
    let lines: Vec<&str> = brief.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        lines,
        [
            "+ create service api in prod".to_owned(),
            format!(
                "~ update deployment api in prod: spec.replicas 3 → 4; spec.template.spec.containers[api].image {REPO}:1.4.1 → {REPO}:1.4.2"
            ),
        ]
    );
    // Three server-side dry runs as field manager docket; nothing stored.
    let requests = c.kube.requests();
    let dry: Vec<_> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(dry.len(), 3);
    for r in &dry {
        assert_eq!(r.content_type.as_deref(), Some("application/apply-patch+yaml"));
        assert!(r.query.contains("dryRun=All") && r.query.contains("fieldManager=docket"), "{}", r.query);
        assert!(!r.query.contains("force"), "{}", r.query);
    }
    assert_eq!(dry[2].path, "/api/v1/namespaces/prod/services/api");
    assert_eq!(dry[2].body["metadata"], json!({"name": "api", "namespace": "prod"}));
    assert_eq!(c.kube.get_object("services", "prod", "api"), Value::Null);
    assert_eq!(c.kube.image("prod", "api", "api"), format!("{REPO}:1.4.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_applies_every_object_as_planned() {
    let c = cluster().await;
    let ticket = c.approve(&c.request("apply", &params("1.4.2", "4")).await).await;
    let done = c.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let applies = c.kube.applies();
    assert_eq!(applies.len(), 3, "{applies:?}");
    assert!(applies.iter().all(|a| a.query == "fieldManager=docket"), "{applies:?}");
    let deployment = c.kube.get("prod", "api");
    assert_eq!(deployment["spec"]["replicas"], json!(4));
    assert_eq!(c.kube.image("prod", "api", "api"), format!("{REPO}:1.4.2"));
    let service = c.kube.get_object("services", "prod", "api");
    assert_eq!(service["spec"]["clusterIP"], json!("10.96.0.10"), "the server's defaults");
    assert_eq!(service["spec"]["ports"][0]["port"], json!(80));
    assert_eq!(service["metadata"]["managedFields"][0]["manager"], json!("docket"));
    assert_eq!(service["metadata"]["managedFields"][0]["operation"], json!("Apply"));
    let log = c.log(&done).await.join("\n");
    assert!(log.contains("deployment api in prod configured"), "{log}");
    assert!(log.contains("service api in prod created"), "{log}");
    assert!(log.contains("applied 3 objects"), "{log}");
    // The Deployment it changed is followed until its new pods are all ready.
    let rolled = log.find("deployment api in prod successfully rolled out").expect(&log);
    assert!(log.find("applied 3 objects").unwrap() < rolled, "{log}");
    assert!(log.contains("following the rollout of deployment api in prod (generation 2)"), "{log}");
    assert!(log.contains("rollout: ReplicaSet "), "the new ReplicaSet is named: {log}");
    let ready = c.kube.get("prod", "api");
    assert_eq!(ready["status"]["updatedReplicas"], json!(4), "{ready}");
    assert_eq!(ready["status"]["readyReplicas"], json!(4), "{ready}");
    assert!(!log.contains("rollout of configmap") && !log.contains("rollout of service"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_that_does_not_roll_out_fails_the_run_once_everything_is_applied() {
    let c = cluster().await;
    c.kube.broken_image(&format!("{REPO}:1.5.0"));
    c.kube.progress_deadline("prod", "api", 1);
    let ticket = c.approve(&c.request("apply", &params("1.5.0", "3")).await).await;
    let failed = c.t.wait_for_state(&ticket.id, TicketState::Failed).await;
    assert_eq!(failure(&failed), format!("{} (every object was applied)", deadline_passed(&c, "1.5.0")));
    assert_eq!(c.kube.applies().len(), 3, "the Service is applied before the rollout is followed");
    assert_eq!(c.kube.get_object("services", "prod", "api")["spec"]["ports"][0]["port"], json!(80));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_workload_has_no_rollout_to_follow() {
    let c = cluster().await;
    let ticket = c.approve(&c.request("apply", &params("1.4.1", "3")).await).await;
    let done = c.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let log = c.log(&done).await.join("\n");
    assert!(log.contains("applied 3 objects"), "{log}");
    assert!(!log.contains("following the rollout"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_that_changes_nothing_is_approved_by_policy() {
    let c = cluster().await;
    let first = c.approve(&c.request("apply", &params("1.4.1", "3")).await).await;
    c.t.wait_for_state(&first.id, TicketState::Succeeded).await;
    let again = c.request("apply", &params("1.4.1", "3")).await;
    let found = changes(&again);
    assert!(found.iter().all(|c| c.1 == "no-op"), "{found:#?}");
    assert_ne!(again.state, TicketState::AwaitingApproval, "plan.creates + plan.updates == 0 needs nobody");
    let done = c.t.wait_for_state(&again.id, TicketState::Succeeded).await;
    assert!(done.reviews.is_empty(), "{:?}", done.reviews);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_object_fails_the_plan_with_the_api_servers_reason() {
    let c = cluster().await;
    let mut p = params("1.4.2", "4");
    p.push(("port", "70000"));
    let ticket = c.request("apply", &p).await;
    assert_eq!(ticket.state, TicketState::PlanFailed);
    let reason = ticket.closing_reason.unwrap();
    assert!(
        reason.contains(
            "the server-side dry run of service api in prod was refused: the Kubernetes API refused: Service \"api\" is \
             invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive (422 Invalid)"
        ),
        "{reason}"
    );
    assert!(c.kube.applies().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_another_manager_owns_is_a_conflict_unless_forced() {
    let c = Cluster::start(&["1.4.1"]).await;
    c.kube.object("kubectl-edit", config_map("warn"));
    let ticket = c.request("apply", &params("1.4.2", "3")).await;
    assert_eq!(ticket.state, TicketState::PlanFailed);
    let reason = ticket.closing_reason.unwrap();
    assert!(
        reason.contains(
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.LOG_LEVEL (409 Conflict)"
        ),
        "{reason}"
    );
    // With `force: true` the plan shows the takeover and the run makes it.
    let forced = c.request("apply-force", &params("1.4.2", "3")).await;
    let found = changes(&forced);
    let cm = found.iter().find(|c| c.0 == "configmap api-config in prod").unwrap();
    assert_eq!(
        (cm.1.as_str(), &cm.2, &cm.3),
        ("update", &json!({"data.LOG_LEVEL": "warn"}), &json!({"data.LOG_LEVEL": "info"}))
    );
    c.t.wait_for_state(&c.approve(&forced).await.id, TicketState::Succeeded).await;
    assert!(c.kube.applies().iter().all(|a| a.query.contains("force=true")));
    assert_eq!(c.kube.get_object("configmaps", "prod", "api-config")["data"]["LOG_LEVEL"], json!("info"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_that_arises_after_approval_fails_the_run_in_the_servers_words() {
    let c = cluster().await;
    let ticket = c.request("apply", &params("1.4.2", "4")).await;
    // Someone edits the ConfigMap by hand between the plan and the run.
    c.kube.object("kubectl-edit", config_map("debug"));
    let failed = c.t.wait_for_state(&c.approve(&ticket).await.id, TicketState::Failed).await;
    let message = failure(&failed);
    assert!(
        message.contains("Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.LOG_LEVEL"),
        "{message}"
    );
    assert!(message.contains("nothing was applied"), "{message}");
    assert!(c.kube.applies().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_changed_after_approval_is_not_applied() {
    let c = cluster().await;
    let ticket = c.request("apply", &params("1.4.2", "4")).await;
    std::fs::write(&c.manifest, MANIFEST.replace("targetPort: 8080", "targetPort: 9090")).unwrap();
    let failed = c.t.wait_for_state(&c.approve(&ticket).await.id, TicketState::Failed).await;
    let message = failure(&failed);
    assert!(message.contains("renders to other objects than the approved plan"), "{message}");
    assert!(message.contains("nothing was applied"), "{message}");
    assert!(c.kube.applies().is_empty());
    assert_eq!(c.kube.get_object("services", "prod", "api"), Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_that_moved_since_the_plan_is_not_applied() {
    let c = cluster().await;
    let ticket = c.request("apply", &params("1.4.2", "4")).await;
    c.kube.set_image("prod", "api", "api", &format!("{REPO}:1.4.9"));
    let failed = c.t.wait_for_state(&c.approve(&ticket).await.id, TicketState::Failed).await;
    let message = failure(&failed);
    assert!(message.contains("deployment api in prod changed since the plan"), "{message}");
    assert!(message.contains(&format!("{REPO}:1.4.9 → {REPO}:1.4.2")), "{message}");
    assert!(c.kube.applies().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statefulset_the_apply_changed_is_followed_on_its_own_status() {
    let c = Cluster::start(&["1.4.1"]).await;
    c.kube.stateful_set("prod", "db", "postgres", "postgres:16.4", 3);
    let before = c.kube.get_object("statefulsets", "prod", "db")["status"]["currentRevision"].clone();
    let manifest = r#"apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, labels: { app: db } }
spec:
  replicas: "{{replicas}}"
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers:
        - name: postgres
          image: "postgres:{{version}}"
"#;
    std::fs::write(&c.manifest, manifest).unwrap();
    let ticket = c.approve(&c.request("apply", &params("16.5", "3")).await).await;
    let done = c.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let sts = c.kube.get_object("statefulsets", "prod", "db");
    assert_eq!(sts["spec"]["template"]["spec"]["containers"][0]["image"], json!("postgres:16.5"));
    let status = &sts["status"];
    assert_ne!(status["currentRevision"], before, "a new revision rolled out");
    assert_eq!(status["currentRevision"], status["updateRevision"]);
    assert_eq!((status["updatedReplicas"].clone(), status["readyReplicas"].clone()), (json!(3), json!(3)));
    let log = c.log(&done).await.join("\n");
    assert!(log.contains("following the rollout of statefulset db in prod"), "{log}");
    assert!(log.contains("statefulset db in prod successfully rolled out"), "{log}");
}
