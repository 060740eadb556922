//! `rollback` (to the previous revision or a named one, from the ReplicaSets' revision
//! annotations) and `restart` (a new pod template annotation, every pod replaced).

use docket_core::TicketState;
use serde_json::json;

use crate::support::{Cluster, REPO, change, failure};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_shows_the_image_it_returns_to_and_runs_it() {
    let c = Cluster::start(&["1.4.0", "1.4.1", "1.4.2"]).await;
    let ticket = c.request("rollback", &[("env", "prod")]).await;
    let (target, action, before, after) = change(&ticket);
    assert_eq!((target.as_str(), action.as_str()), ("deployment api in prod (3 replicas)", "update"));
    assert_eq!(before, json!({"image": format!("{REPO}:1.4.2"), "replicas": 3, "revision": "3"}));
    assert_eq!(after, json!({"image": format!("{REPO}:1.4.1"), "replicas": 3, "revision": "2 (as revision 4)"}));
    let lines: Vec<String> = c.t.app.summarize(&ticket).changes.unwrap().lines.into_iter().map(|l| l.text).collect();
    assert_eq!(
        lines,
        [format!(
            "~ update deployment api in prod (3 replicas): image {REPO}:1.4.2 → {REPO}:1.4.1; revision 3 → 2 (as revision 4)"
        )]
    );
    let done = c.t.wait_for_state(&c.approve(&ticket).await.id, TicketState::Succeeded).await;
    assert_eq!(c.kube.image("prod", "api", "api"), format!("{REPO}:1.4.1"));
    // The old ReplicaSet is scaled up again under the next revision, as the controller does.
    let sets = c.kube.replica_sets("prod");
    let back = sets.iter().find(|s| s.3.ends_with(":1.4.1")).unwrap();
    assert_eq!((back.1, back.2), (4, 3), "{sets:?}");
    assert_eq!(sets.len(), 3, "no new ReplicaSet: {sets:?}");
    let patch = &c.kube.patches()[0];
    assert_eq!(
        patch.body[0],
        json!({"op": "test", "path": "/metadata/annotations/deployment.kubernetes.io~1revision", "value": "3"})
    );
    assert_eq!(patch.body[1]["path"], "/spec/template");
    assert!(patch.body[1]["value"]["metadata"]["labels"].get("pod-template-hash").is_none());
    let log = c.log(&done).await.join("\n");
    assert!(log.contains(&format!("rollout: ReplicaSet {} is revision 4 ({REPO}:1.4.1)", back.0)), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_to_a_named_revision_or_one_that_is_not_there() {
    let c = Cluster::start(&["1.4.0", "1.4.1", "1.4.2"]).await;
    let ticket = c.request("rollback", &[("env", "prod"), ("revision", "1")]).await;
    assert_eq!(change(&ticket).3["image"], json!(format!("{REPO}:1.4.0")));
    let missing = c.request("rollback", &[("env", "prod"), ("revision", "7")]).await;
    assert_eq!(missing.state, TicketState::PlanFailed);
    let reason = missing.closing_reason.unwrap();
    assert!(reason.contains("deployment api in prod has no revision 7 (its history: 3, 2, 1)"), "{reason}");
    let nonsense = c.request("rollback", &[("env", "prod"), ("revision", "latest")]).await;
    assert!(nonsense.closing_reason.unwrap().contains("\"latest\" is not a revision"));
    let first = Cluster::start(&["1.4.0"]).await;
    let nothing = first.request("rollback", &[("env", "prod")]).await;
    assert!(
        nothing
            .closing_reason
            .unwrap()
            .contains("deployment api in prod has no earlier revision to roll back to (its history: 1)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_refuses_a_deployment_that_moved_on_since_the_plan() {
    let c = Cluster::start(&["1.4.0", "1.4.1"]).await;
    let ticket = c.request("rollback", &[("env", "prod")]).await;
    c.kube.set_image("prod", "api", "api", &format!("{REPO}:1.5.0"));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while c.kube.get("prod", "api")["metadata"]["annotations"]["deployment.kubernetes.io/revision"] != "3" {
        assert!(tokio::time::Instant::now() < deadline, "the fake never rolled out");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let failed = c.t.wait_for_state(&c.approve(&ticket).await.id, TicketState::Failed).await;
    let message = failure(&failed);
    assert!(message.contains("its revision is now \"3\", the plan saw \"2\""), "{message}");
    assert!(c.kube.patches().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_replaces_every_pod() {
    let c = Cluster::start(&["1.4.1"]).await;
    let ticket = c.request("restart", &[("env", "prod")]).await;
    let (_, action, before, after) = change(&ticket);
    assert_eq!(action, "update");
    assert_eq!(before["restarted"], "never");
    assert_eq!(after["restarted"], "when the run starts");
    let output = ticket.plan.as_ref().unwrap().steps[0].output.clone().unwrap();
    assert!(
        output.contains(&format!("api in prod: every pod replaced, one by one (3 replicas of {REPO}:1.4.1)")),
        "{output}"
    );
    let done = c.t.wait_for_state(&c.approve(&ticket).await.id, TicketState::Succeeded).await;
    let restarted =
        c.kube.get("prod", "api")["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .clone();
    assert!(restarted.as_str().is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()), "{restarted}");
    let patch = &c.kube.patches()[0];
    assert_eq!(patch.content_type.as_deref(), Some("application/merge-patch+json"));
    let sets = c.kube.replica_sets("prod");
    assert_eq!(sets.len(), 2, "a new ReplicaSet for the new template: {sets:?}");
    assert!(c.log(&done).await.iter().any(|l| l.contains("successfully rolled out")));
}
