//! The pod's own identity (`in_cluster: true`): the service account's token, CA and namespace
//! files and the API server's host and port (a pod's `KUBERNETES_SERVICE_HOST`/`_PORT`), all
//! given to the runner (no process environment is touched), against the fake API server over
//! TLS.

use std::path::Path;
use std::sync::Arc;

use docket_core::ticket::Origin;
use docket_core::{Actor, Ticket, TicketState};
use docket_kubernetes::InCluster;
use docket_testkit::kubernetes::{CA_PEM, FakeKubernetes, TOKEN};
use docket_testkit::{TestApp, base_plugins};
use serde_json::json;

use crate::support::REPO;

const DOCKET_YAML: &str = r#"server: { listen: 127.0.0.1:0, public_url: http://127.0.0.1:8080 }
storage: { url: sqlite://./docket.db }
catalog: ./workflows
timezone: UTC
kubernetes:
  pod: { in_cluster: true }
people:
  - { id: alice, name: Alice Ng, email: alice@example.com, groups: [sre] }
groups:
  - { id: sre }
policies:
  - { name: everything, when: "true", auto_approve: true }
"#;

/// No namespace: the service account's own.
const DEPLOY: &str = r#"id: deploy
title: Deploy the API
params:
  - { name: version, type: string }
steps:
  - name: rollout
    kubernetes:
      cluster: pod
      set_image: { deployment: api, container: api, image: "registry.example.com/api:{{version}}" }
      timeout: 30s
"#;

/// A CA that did not sign the fake's certificate.
const OTHER_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBgjCCASegAwIBAgIUfnsKfEVvIxBmBqT6J8WEwICc9T4wCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKYW5vdGhlci1jYTAgFw0yNjEyMDYxMzUxNDFaGA8yMTI2MTEx
MjEzNTE0MVowFTETMBEGA1UEAwwKYW5vdGhlci1jYTBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABJKyMvmLcbzcsSbTarWoNCLUpIvNBekziNhkJ3mUZp4FekX4GTcv
BQg0Dtxwl/Yfdx23hGkr5V3/4z7ch035Ho2jUzBRMB0GA1UdDgQWBBRST9zZW2Dl
PdlbJ4SzGQg2CgPVvzAfBgNVHSMEGDAWgBRST9zZW2DlPdlbJ4SzGQg2CgPVvzAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQC5HXNe3itIZthhAYzT
OnQFEOKuNF7JUuYCdRglGRgXVgIhAJOwOzEw5VE+ezC1JVSOdt97hYzBcP/1XkAh
4ikb9WbI
-----END CERTIFICATE-----
";

/// Writes a service account folder: `token`, `ca.crt`, `namespace`.
fn service_account(folder: &Path, token: &str, ca: &str) {
    std::fs::write(folder.join("token"), format!("{token}\n")).unwrap();
    std::fs::write(folder.join("ca.crt"), ca).unwrap();
    std::fs::write(folder.join("namespace"), "prod").unwrap();
}

async fn app(kube: &FakeKubernetes, folder: &Path) -> TestApp {
    let port = kube.url().rsplit(':').next().unwrap().to_owned();
    let pod = InCluster { folder: folder.to_path_buf(), host: Some("127.0.0.1".to_owned()), port: Some(port) };
    TestApp::builder()
        .config(DOCKET_YAML)
        .plugins(base_plugins().with(docket_kubernetes::plugins()))
        .runner(move |config| Arc::new(docket_kubernetes::runner(config).with_in_cluster(pod.clone())))
        .workflows(&[("deploy.yaml", DEPLOY)])
        .start()
        .await
}

async fn deploy(t: &TestApp, version: &str) -> Ticket {
    let params = [("version".to_owned(), json!(version))].into_iter().collect();
    t.app.request(&Actor::person("alice"), &"deploy".into(), params, Origin::default()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_accounts_token_ca_and_namespace_reach_the_api_over_tls() {
    let kube = FakeKubernetes::start_tls().await;
    assert!(kube.url().starts_with("https://127.0.0.1:"));
    kube.deployment("prod", "api", "api", &[&format!("{REPO}:1.4.1")], 3);
    let folder = tempfile::tempdir().unwrap();
    service_account(folder.path(), TOKEN, CA_PEM);
    let t = app(&kube, folder.path()).await;
    let ticket = deploy(&t, "1.4.2").await;
    let plan = ticket.plan.as_ref().unwrap_or_else(|| panic!("{:?}", ticket.closing_reason));
    assert_eq!(plan.steps[0].facts.changes[0].target, "deployment api in prod (3 replicas)", "the namespace file's");
    t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    assert_eq!(kube.image("prod", "api", "api"), format!("{REPO}:1.4.2"));
    assert!(kube.requests().iter().all(|r| r.path.contains("/namespaces/prod/")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_server_a_wrong_token_or_no_token_fail_the_plan() {
    let kube = FakeKubernetes::start_tls().await;
    kube.deployment("prod", "api", "api", &[&format!("{REPO}:1.4.1")], 3);
    let folder = tempfile::tempdir().unwrap();
    service_account(folder.path(), TOKEN, OTHER_CA);
    let t = app(&kube, folder.path()).await;
    let untrusted = deploy(&t, "1.4.2").await;
    assert_eq!(untrusted.state, TicketState::PlanFailed);
    let reason = untrusted.closing_reason.unwrap();
    assert!(reason.contains("could not be reached"), "{reason}");
    assert!(kube.requests().is_empty(), "no request got past the handshake");

    service_account(folder.path(), "not-the-token", CA_PEM);
    let refused = deploy(&t, "1.4.2").await;
    let reason = refused.closing_reason.unwrap();
    assert!(reason.contains("Unauthorized (401 Unauthorized)"), "{reason}");

    std::fs::remove_file(folder.path().join("token")).unwrap();
    let missing = deploy(&t, "1.4.2").await;
    let reason = missing.closing_reason.unwrap();
    assert!(reason.contains(&format!("{} cannot be read", folder.path().join("token").display())), "{reason}");
    assert_eq!(kube.image("prod", "api", "api"), format!("{REPO}:1.4.1"));
}
