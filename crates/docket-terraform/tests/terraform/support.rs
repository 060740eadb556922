//! A test app with the `terraform` step kind, a Terraform folder with the stand-in in it, and
//! helpers to read what the stand-in was asked to do.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use docket_core::ticket::Origin;
use docket_core::{Actor, Ticket, TicketState};
use docket_testkit::{TestApp, TestAppBuilder, base_plugins};
use serde_json::{Value, json};

/// The policy: frozen requests are denied before planning; plans that change nothing run at
/// once; destroys also need security.
pub(crate) const DOCKET_YAML: &str = r#"server: { listen: 127.0.0.1:0, public_url: http://127.0.0.1:8080 }
storage: { url: sqlite://./docket.db }
catalog: ./workflows
timezone: UTC
ticket_prefix: INF
terraform: { interrupt_grace: 5s }

people:
  - { id: alice, name: Alice Ng, email: alice@example.com, groups: [dev] }
  - { id: bob, name: Bob Ruiz, email: bob@example.com, groups: [sre] }
  - { id: sam, name: Sam Sec, email: sam@example.com, groups: [security] }

groups:
  - { id: dev }
  - { id: sre }
  - { id: security }

policies:
  - name: freeze
    when: params.env == "frozen"
    deny: Infrastructure in the frozen environment does not change.
  - name: nothing-changes
    when: plan.creates + plan.updates + plan.replaces + plan.deletes == 0
    auto_approve: true
  - name: infrastructure
    when: "true"
    stages:
      - { name: sre, from: [group:sre], count: 1 }
      - { name: security, from: [group:security], count: 1, when: "plan.deletes > 0 || plan.replaces > 0" }
"#;

/// The workflow: one `terraform` step in the test's folder.
pub(crate) fn workflow(dir: &Path, binary: &Path) -> String {
    format!(
        r#"id: network
title: Change the network
risk: high
params:
  - {{ name: env, type: choice, choices: [dev, prod, frozen] }}
  - {{ name: size, type: string, default: small }}
steps:
  - name: network
    terraform:
      binary: {binary}
      dir: {dir}
      workspace: "{{{{env}}}}"
      vars: {{ size: "{{{{size}}}}" }}
      env: {{ AWS_REGION: eu-west-1 }}
"#,
        binary = binary.display(),
        dir = dir.display()
    )
}

/// A running app and its Terraform folder.
pub(crate) struct Infra {
    pub(crate) t: TestApp,
    pub(crate) dir: PathBuf,
    _folder: tempfile::TempDir,
}

pub(crate) fn builder() -> TestAppBuilder {
    TestApp::builder()
        .config(DOCKET_YAML)
        .plugins(base_plugins().with(docket_terraform::plugins()))
        .runner(|config| Arc::new(docket_terraform::runner(config)))
}

impl Infra {
    /// An app whose Terraform folder wants `wanted` (`stand-in.json`).
    pub(crate) async fn start(wanted: Value) -> Self {
        Self::start_with(wanted, |b| b).await
    }

    pub(crate) async fn start_with(wanted: Value, change: impl FnOnce(TestAppBuilder) -> TestAppBuilder) -> Self {
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path().join("network");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("stand-in.json"), serde_json::to_vec_pretty(&wanted).unwrap()).unwrap();
        let binary = docket_testkit::terraform::install(folder.path());
        let t = change(builder().workflows(&[])).workflow("network.yaml", &workflow(&dir, &binary)).start().await;
        Self { t, dir, _folder: folder }
    }

    /// Asks for the network change in `env` with `size`, as alice.
    pub(crate) async fn request(&self, env: &str, size: &str) -> Ticket {
        let params = [("env".to_owned(), json!(env)), ("size".to_owned(), json!(size))].into_iter().collect();
        self.t.app.request(&Actor::person("alice"), &"network".into(), params, Origin::default()).await.unwrap()
    }

    /// The commands the stand-in ran, one line each.
    pub(crate) fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("stand-in.calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Approves `ticket` by everyone its stages need, in order.
    pub(crate) async fn approve_all(&self, ticket: &Ticket) -> Ticket {
        let mut current = ticket.clone();
        for person in ["bob", "sam"] {
            if current.state != TicketState::AwaitingApproval {
                break;
            }
            current =
                self.t.app.approve(&Actor::person(person), &current.id, current.digest.unwrap(), None).await.unwrap();
        }
        current
    }

    /// The state the stand-in keeps for `workspace`.
    pub(crate) fn state(&self, workspace: &str) -> Value {
        let path = if workspace == "default" {
            self.dir.join("terraform.tfstate")
        } else {
            self.dir.join("terraform.tfstate.d").join(workspace).join("terraform.tfstate")
        };
        std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null)
    }

    /// Every log line of `ticket`.
    pub(crate) async fn log(&self, ticket: &Ticket) -> Vec<String> {
        self.t.app.logs(&ticket.id, 0, 10_000).await.unwrap().into_iter().map(|l| l.text).collect()
    }
}

/// Runs `test` on a runtime of its own.
pub(crate) fn block_on(test: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(test);
}

/// Two resources: a network (its CIDR forces a new one) and a database with a password.
pub(crate) fn network(cidr: &str) -> Value {
    json!({
        "variables": ["size"],
        "sensitive": ["password"],
        "force_new": ["cidr"],
        "resources": {
            "aws_vpc.main": {"cidr": cidr},
            "aws_db_instance.main": {"size": "${var.size}", "password": "hunter2-s3cret"},
        }
    })
}
