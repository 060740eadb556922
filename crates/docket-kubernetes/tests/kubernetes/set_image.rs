//! `set_image`: the plan shows current → target from the cluster, policies count it, the run
//! patches exactly what was planned and follows the rollout, and failures are the cluster's.

use std::time::Duration;

use docket_core::{Actor, TicketState};
use docket_testkit::kubernetes::TOKEN;
use serde_json::json;

use crate::support::{Cluster, REPO, change, deadline_passed, failure};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_shows_current_to_target_after_a_server_side_dry_run() {
    let c = Cluster::start(&["1.4.0", "1.4.1"]).await;
    let ticket = c.request("deploy", &[("env", "prod"), ("version", "1.4.2")]).await;
    assert_eq!(ticket.state, TicketState::AwaitingApproval, "{:?}", ticket.closing_reason);
    let (target, action, before, after) = change(&ticket);
    assert_eq!(target, "deployment api in prod (3 replicas)");
    assert_eq!(action, "update");
    assert_eq!(before, json!({"container": "api", "image": format!("{REPO}:1.4.1"), "replicas": 3}));
    assert_eq!(after, json!({"container": "api", "image": format!("{REPO}:1.4.2"), "replicas": 3}));
    let step = &ticket.plan.as_ref().unwrap().steps[0];
    let output = step.output.as_deref().unwrap();
    assert!(
        output.contains(&format!("api in prod: {REPO}:1.4.1 → {REPO}:1.4.2, 3 replicas (container api)")),
        "{output}"
    );
    assert_eq!(
        step.summary,
        format!("kubernetes: set the image of deployment api in prod (container api) to {REPO}:1.4.2")
    );
    // What both chats lead the approval request with.
    let summary = c.t.app.summarize(&ticket);
    let brief = summary.changes.unwrap();
    assert_eq!(brief.summary, "1 to change");
    let lines: Vec<&str> = brief.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(lines, [format!("~ update deployment api in prod (3 replicas): image {REPO}:1.4.1 → {REPO}:1.4.2")]);
    // One dry run of the very patch the run sends; nothing changed.
    let requests = c.kube.requests();
    let dry: Vec<_> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(dry.len(), 1);
    assert!(dry[0].query.contains("dryRun=All") && dry[0].query.contains("fieldManager=docket"), "{:?}", dry[0].query);
    assert_eq!(dry[0].content_type.as_deref(), Some("application/json-patch+json"));
    assert_eq!(
        dry[0].body,
        json!([
            {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "api"},
            {"op": "test", "path": "/spec/template/spec/containers/0/image", "value": format!("{REPO}:1.4.1")},
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": format!("{REPO}:1.4.2")},
        ])
    );
    assert_eq!(c.kube.image("prod", "api", "api"), format!("{REPO}:1.4.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_patches_and_follows_the_rollout_to_the_end() {
    let c = Cluster::start(&["1.4.1"]).await;
    let ticket = c.approve(&c.request("deploy", &[("env", "prod"), ("version", "1.4.2")]).await).await;
    let done = c.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    assert_eq!(c.kube.image("prod", "api", "api"), format!("{REPO}:1.4.2"));
    let patches = c.kube.patches();
    assert_eq!(patches.len(), 1, "{patches:?}");
    let sets = c.kube.replica_sets("prod");
    let new = sets.iter().find(|s| s.3.ends_with(":1.4.2")).unwrap();
    assert_eq!((new.1, new.2), (2, 3), "revision 2 runs every replica");
    assert!(sets.iter().filter(|s| s.3.ends_with(":1.4.1")).all(|s| s.2 == 0), "{sets:?}");
    let log = c.log(&done).await.join("\n");
    assert!(log.contains(&format!("rollout: ReplicaSet {} is revision 2 ({REPO}:1.4.2)", new.0)), "{log}");
    assert!(log.contains("new replicas updated"), "{log}");
    assert!(log.contains("deployment api in prod successfully rolled out"), "{log}");
    // It followed a watch, not a polling loop.
    assert!(
        c.kube
            .requests()
            .iter()
            .any(|r| r.query.contains("watch=true") && r.query.contains("fieldSelector=metadata.name%3Dapi"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_that_changes_nothing_is_approved_by_policy_and_patches_nothing() {
    let c = Cluster::start(&["1.4.1"]).await;
    let ticket = c.request("deploy", &[("env", "prod"), ("version", "1.4.1")]).await;
    assert_eq!(ticket.decision.as_ref().unwrap().rule.as_deref(), Some("nothing-changes"));
    assert_eq!(change(&ticket).1, "no-op");
    c.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    assert!(c.kube.requests().iter().all(|r| r.method != "PATCH"), "nothing to patch, not even a dry run");
    let frozen = c.request("deploy", &[("env", "frozen"), ("version", "9.9.9")]).await;
    assert_eq!(frozen.state, TicketState::Denied);
    assert!(!c.kube.requests().iter().any(|r| r.path.contains("/frozen/")), "a denied request never reads the cluster");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_past_its_deadline_fails_with_the_deployments_condition() {
    let c = Cluster::start(&["1.4.1"]).await;
    c.kube.broken_image(&format!("{REPO}:1.5.0"));
    c.kube.progress_deadline("prod", "api", 1);
    let ticket = c.approve(&c.request("deploy", &[("env", "prod"), ("version", "1.5.0")]).await).await;
    let failed = c.t.wait_for_state(&ticket.id, TicketState::Failed).await;
    assert_eq!(failure(&failed), deadline_passed(&c, "1.5.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_mid_rollout_stops_following_and_says_the_cluster_carries_on() {
    let c = Cluster::start_with(&["1.4.1"], Duration::from_millis(400), TOKEN).await;
    let ticket = c.approve(&c.request("deploy", &[("env", "prod"), ("version", "1.4.2")]).await).await;
    // The rollout stays in progress however long the cancel takes to come.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let begun = || {
        c.kube.replica_sets("prod").iter().any(|(_, _, replicas, image)| image.ends_with(":1.4.2") && *replicas >= 1)
    };
    while !begun() {
        assert!(tokio::time::Instant::now() < deadline, "the rollout never began: {:?}", c.kube.replica_sets("prod"));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    c.kube.freeze(true);
    c.wait_for_log(&ticket, "new replicas updated").await;
    c.t.app.cancel(&Actor::person("alice"), &ticket.id, Some("wrong window".into())).await.unwrap();
    let cancelled = c.t.wait_for_state(&ticket.id, TicketState::Cancelled).await;
    c.wait_for_log(&cancelled, "cancelled while following the rollout of deployment api in prod").await;
    let log = c.log(&cancelled).await.join("\n");
    assert!(log.contains("the cluster carries on with the change"), "{log}");
    assert!(!log.contains("successfully rolled out"), "{log}");
    assert_eq!(c.kube.patches().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_changed_since_the_plan_is_not_patched() {
    let c = Cluster::start(&["1.4.1"]).await;
    let ticket = c.request("deploy", &[("env", "prod"), ("version", "1.4.2")]).await;
    c.kube.set_image("prod", "api", "api", &format!("{REPO}:1.4.9"));
    let failed = c.t.wait_for_state(&c.approve(&ticket).await.id, TicketState::Failed).await;
    let message = failure(&failed);
    assert!(message.contains("changed since the plan"), "{message}");
    assert!(
        message.contains(&format!("its image is now \"{REPO}:1.4.9\", the plan saw \"{REPO}:1.4.1\"")),
        "{message}"
    );
    assert!(c.kube.patches().is_empty());
    assert_eq!(c.kube.image("prod", "api", "api"), format!("{REPO}:1.4.9"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_without_patch_fails_the_plan_in_the_api_servers_words() {
    let c = Cluster::start_with(&["1.4.1"], Duration::from_millis(20), "read-only-token").await;
    c.kube.grant("read-only-token", "system:serviceaccount:prod:viewer", &[("get", "deployments")]);
    let ticket = c.request("deploy", &[("env", "prod"), ("version", "1.4.2")]).await;
    assert_eq!(ticket.state, TicketState::PlanFailed);
    let reason = ticket.closing_reason.unwrap();
    assert!(
        reason.contains(
            "the server-side dry run of the change was refused: the Kubernetes API refused: deployments.apps \"api\" is \
             forbidden: User \"system:serviceaccount:prod:viewer\" cannot patch resource \"deployments\" in API group \
             \"apps\" in the namespace \"prod\" (403 Forbidden)"
        ),
        "{reason}"
    );
    let missing = c.request("deploy", &[("env", "staging"), ("version", "1.4.2")]).await;
    let reason = missing.closing_reason.unwrap();
    assert!(reason.contains("deployments.apps \"api\" not found (404 NotFound)"), "{reason}");
}
