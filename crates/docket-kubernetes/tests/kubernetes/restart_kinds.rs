//! `restart` of a StatefulSet and a DaemonSet: the plan names the workload and its pods, the
//! run sets the pod template's `kubectl.kubernetes.io/restartedAt` and follows the rollout on
//! each kind's own status fields until every pod is replaced.

use docket_core::TicketState;
use serde_json::json;

use crate::support::{Cluster, REPO, change};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statefulset_restart_follows_its_revisions_to_the_end() {
    let c = Cluster::start(&["1.4.1"]).await;
    c.kube.stateful_set("prod", "db", "postgres", "postgres:16.4", 3);
    let before = c.kube.get_object("statefulsets", "prod", "db")["status"]["currentRevision"].clone();
    let ticket = c.request("restart-db", &[("env", "prod")]).await;
    let (target, action, was, will) = change(&ticket);
    assert_eq!((target.as_str(), action.as_str()), ("statefulset db in prod (3 replicas)", "update"));
    assert_eq!((was["restarted"].clone(), will["restarted"].clone()), (json!("never"), json!("when the run starts")));
    let step = &ticket.plan.as_ref().unwrap().steps[0];
    assert_eq!(step.summary, "kubernetes: restart statefulset db in prod (every pod replaced, one by one)");
    assert!(
        step.output
            .as_deref()
            .unwrap()
            .contains("db in prod: every pod replaced, one by one (3 replicas of postgres:16.4)")
    );
    let done = c.t.wait_for_state(&c.approve(&ticket).await.id, TicketState::Succeeded).await;
    let sts = c.kube.get_object("statefulsets", "prod", "db");
    let restarted = &sts["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"];
    assert!(restarted.as_str().is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()), "{restarted}");
    let status = &sts["status"];
    assert_ne!(status["currentRevision"], before, "a new revision rolled out");
    assert_eq!(status["currentRevision"], status["updateRevision"]);
    assert_eq!((status["updatedReplicas"].clone(), status["readyReplicas"].clone()), (json!(3), json!(3)));
    let patches = c.kube.patches();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].path, "/apis/apps/v1/namespaces/prod/statefulsets/db");
    assert_eq!(patches[0].content_type.as_deref(), Some("application/merge-patch+json"));
    let log = c.log(&done).await.join("\n");
    assert!(log.contains("pods at revision db-"), "{log}");
    assert!(log.contains("statefulset db in prod successfully rolled out"), "{log}");
    assert!(c.kube.requests().iter().any(|r| r.path == "/apis/apps/v1/namespaces/prod/statefulsets"
        && r.query.contains("watch=true")
        && r.query.contains("fieldSelector=metadata.name%3Ddb")));
    // The Deployment next to it was left alone.
    assert_eq!(c.kube.image("prod", "api", "api"), format!("{REPO}:1.4.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemonset_restart_follows_every_node() {
    let c = Cluster::start(&["1.4.1"]).await;
    c.kube.daemon_set("prod", "agent", "agent", "agent:2.0", 4);
    let ticket = c.request("restart-agent", &[("env", "prod")]).await;
    let (target, _, _, _) = change(&ticket);
    assert_eq!(target, "daemonset agent in prod (4 pods)");
    let done = c.t.wait_for_state(&c.approve(&ticket).await.id, TicketState::Succeeded).await;
    let ds = c.kube.get_object("daemonsets", "prod", "agent");
    assert!(ds["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_string());
    let status = &ds["status"];
    assert_eq!(status["observedGeneration"], json!(2));
    assert_eq!((status["updatedNumberScheduled"].clone(), status["numberReady"].clone()), (json!(4), json!(4)));
    let log = c.log(&done).await.join("\n");
    assert!(log.contains("of 4 new pods updated"), "{log}");
    assert!(log.contains("daemonset agent in prod successfully rolled out"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_a_statefulset_that_is_not_there_fails_the_plan() {
    let c = Cluster::start(&["1.4.1"]).await;
    let ticket = c.request("restart-db", &[("env", "prod")]).await;
    assert_eq!(ticket.state, TicketState::PlanFailed);
    let reason = ticket.closing_reason.unwrap();
    assert!(reason.contains("statefulsets.apps \"db\" not found (404 NotFound)"), "{reason}");
}
