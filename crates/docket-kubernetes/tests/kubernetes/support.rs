//! A test app with the `kubernetes` step kind acting as one identity in the fake cluster, and
//! the workflows the tests request.

use std::sync::Arc;
use std::time::Duration;

use docket_core::ticket::{Origin, StepOutcome};
use docket_core::{Actor, Ticket, TicketState};
use docket_testkit::kubernetes::{FakeKubernetes, TOKEN};
use docket_testkit::{TestApp, base_plugins};
use serde_json::{Value, json};

/// Deploys in `frozen` are denied before planning; plans that change nothing run at once;
/// anything else needs SRE.
const DOCKET_YAML: &str = r#"server: { listen: 127.0.0.1:0, public_url: http://127.0.0.1:8080 }
storage: { url: sqlite://./docket.db }
catalog: ./workflows
timezone: UTC
ticket_prefix: DEP
kubernetes:
  deployer: { kubeconfig: KUBECONFIG }

people:
  - { id: alice, name: Alice Ng, email: alice@example.com, groups: [dev] }
  - { id: bob, name: Bob Ruiz, email: bob@example.com, groups: [sre] }

groups:
  - { id: dev }
  - { id: sre }

policies:
  - name: freeze
    when: params.env == "frozen"
    deny: Nothing deploys to the frozen environment.
  - name: nothing-changes
    when: plan.creates + plan.updates + plan.replaces + plan.deletes == 0
    auto_approve: true
  - name: deploys
    when: "true"
    stages:
      - { name: sre, from: [group:sre], count: 1 }
"#;

/// The image repository of the tests' Deployment.
pub(crate) const REPO: &str = "registry.example.com/api";

const DEPLOY: &str = r#"id: deploy
title: Deploy the API
params:
  - { name: env, type: choice, choices: [staging, prod, frozen] }
  - { name: version, type: string }
steps:
  - name: rollout
    kubernetes:
      cluster: deployer
      namespace: "{{env}}"
      set_image: { deployment: api, container: api, image: "registry.example.com/api:{{version}}" }
      timeout: 30s
"#;

const ROLLBACK: &str = r#"id: rollback
title: Roll the API back
params:
  - { name: env, type: choice, choices: [staging, prod] }
  - { name: revision, type: string, required: false }
steps:
  - name: rollback
    kubernetes:
      cluster: deployer
      namespace: "{{env}}"
      rollback: { deployment: api, revision: "{{revision}}" }
      timeout: 30s
"#;

const RESTART: &str = r#"id: restart
title: Restart the API
params:
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: restart
    kubernetes:
      cluster: deployer
      namespace: "{{env}}"
      restart: { deployment: api }
      timeout: 30s
"#;

const APPLY: &str = r#"id: apply
title: Apply the API's manifest
params:
  - { name: env, type: choice, choices: [staging, prod] }
  - { name: version, type: string }
  - { name: replicas, type: integer, default: 3 }
  - { name: log_level, type: string, default: info }
  - { name: port, type: integer, default: 80 }
steps:
  - name: apply
    kubernetes:
      cluster: deployer
      namespace: "{{env}}"
      apply: { manifest: MANIFEST }
      timeout: 30s
"#;

const RESTART_DB: &str = r#"id: restart-db
title: Restart the database
params:
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: restart
    kubernetes:
      cluster: deployer
      namespace: "{{env}}"
      restart: { statefulset: db }
      timeout: 30s
"#;

const RESTART_AGENT: &str = r#"id: restart-agent
title: Restart the node agent
params:
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: restart
    kubernetes:
      cluster: deployer
      namespace: "{{env}}"
      restart: { daemonset: agent }
      timeout: 30s
"#;

/// The manifest `apply` sends: the API's Deployment, its ConfigMap and its Service.
pub(crate) const MANIFEST: &str = r#"# The API, as the apply workflow deploys it.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: { app: api }
spec:
  replicas: "{{replicas}}"
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: "registry.example.com/api:{{version}}"
---
apiVersion: v1
kind: ConfigMap
metadata: { name: api-config }
data:
  LOG_LEVEL: "{{log_level}}"
---
apiVersion: v1
kind: Service
metadata: { name: api }
spec:
  selector: { app: api }
  ports:
    - { name: http, port: "{{port}}", targetPort: 8080 }
"#;

/// A running app and its fake cluster.
pub(crate) struct Cluster {
    pub(crate) t: TestApp,
    pub(crate) kube: FakeKubernetes,
    /// The manifest `apply` reads (written from [`MANIFEST`]).
    pub(crate) manifest: std::path::PathBuf,
    _folder: tempfile::TempDir,
}

impl Cluster {
    /// An app whose cluster has `api` in `prod` (3 replicas) with the history `versions`.
    pub(crate) async fn start(versions: &[&str]) -> Self {
        Self::start_with(versions, Duration::from_millis(20), TOKEN).await
    }

    /// The same with the controller's pace and the token the kubeconfig carries.
    pub(crate) async fn start_with(versions: &[&str], pace: Duration, token: &str) -> Self {
        let kube = FakeKubernetes::start_with_pace(pace).await;
        let images: Vec<String> = versions.iter().map(|v| format!("{REPO}:{v}")).collect();
        let images: Vec<&str> = images.iter().map(String::as_str).collect();
        kube.deployment("prod", "api", "api", &images, 3);
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("deployer.yaml");
        kube.kubeconfig(&path, token, "default");
        let config = DOCKET_YAML.replace("KUBECONFIG", &path.display().to_string());
        let manifest = folder.path().join("api.yaml");
        std::fs::write(&manifest, MANIFEST).unwrap();
        let apply = APPLY.replace("MANIFEST", &manifest.display().to_string());
        let apply_force =
            apply.replace("id: apply", "id: apply-force").replace("manifest: ", "force: true, manifest: ");
        let t = TestApp::builder()
            .config(&config)
            .plugins(base_plugins().with(docket_kubernetes::plugins()))
            .runner(|config| Arc::new(docket_kubernetes::runner(config)))
            .workflows(&[
                ("deploy.yaml", DEPLOY),
                ("rollback.yaml", ROLLBACK),
                ("restart.yaml", RESTART),
                ("apply.yaml", &apply),
                ("apply-force.yaml", &apply_force),
                ("restart-db.yaml", RESTART_DB),
                ("restart-agent.yaml", RESTART_AGENT),
            ])
            .start()
            .await;
        Self { t, kube, manifest, _folder: folder }
    }

    /// Asks for `workflow` with `params`, as alice.
    pub(crate) async fn request(&self, workflow: &str, params: &[(&str, &str)]) -> Ticket {
        let params = params.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        self.t.app.request(&Actor::person("alice"), &workflow.into(), params, Origin::default()).await.unwrap()
    }

    /// Approves `ticket` as bob.
    pub(crate) async fn approve(&self, ticket: &Ticket) -> Ticket {
        assert_eq!(ticket.state, TicketState::AwaitingApproval, "{:?}", ticket.closing_reason);
        self.t.app.approve(&Actor::person("bob"), &ticket.id, ticket.digest.unwrap(), None).await.unwrap()
    }

    /// Every log line of `ticket`.
    pub(crate) async fn log(&self, ticket: &Ticket) -> Vec<String> {
        self.t.app.logs(&ticket.id, 0, 10_000).await.unwrap().into_iter().map(|l| l.text).collect()
    }

    /// Waits until a log line of `ticket` contains `words`.
    pub(crate) async fn wait_for_log(&self, ticket: &Ticket, words: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !self.log(ticket).await.iter().any(|l| l.contains(words)) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no log line with {words:?}: {:#?}",
                self.log(ticket).await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The failure message of the last run's first step.
pub(crate) fn failure(ticket: &Ticket) -> String {
    match &ticket.last_run().unwrap().steps[0].outcome {
        Some(StepOutcome::Failed { message, .. }) => message.clone(),
        other => panic!("the step did not fail: {other:?}"),
    }
}

/// What the step says when the rollout of `api` in `prod` to `version` (an image made broken,
/// with a 1 s deadline) passed its progress deadline, naming the ReplicaSet of that version.
pub(crate) fn deadline_passed(c: &Cluster, version: &str) -> String {
    let image = format!(":{version}");
    let rs = c.kube.replica_sets("prod").into_iter().find(|s| s.3.ends_with(&image)).unwrap().0;
    format!(
        "deployment api in prod: the rollout passed its progress deadline (1s): ProgressDeadlineExceeded: \
         ReplicaSet \"{rs}\" has timed out progressing."
    )
}

/// Every planned change as (target, action, before, after), in step order.
pub(crate) fn changes(ticket: &Ticket) -> Vec<(String, String, Value, Value)> {
    let plan = ticket.plan.as_ref().unwrap_or_else(|| panic!("no plan: {:?}", ticket.closing_reason));
    plan.changes().map(|c| (c.target.clone(), c.action.to_string(), c.before.clone(), c.after.clone())).collect()
}

/// The first planned change's (target, action, before, after).
pub(crate) fn change(ticket: &Ticket) -> (String, String, Value, Value) {
    let plan = ticket.plan.as_ref().unwrap_or_else(|| panic!("no plan: {:?}", ticket.closing_reason));
    let c = &plan.steps[0].facts.changes[0];
    (c.target.clone(), c.action.to_string(), c.before.clone(), c.after.clone())
}
