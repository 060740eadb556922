//! What `docket check` says about `kubernetes` steps and the `kubernetes` section: every
//! problem at its place, all at once.

use docket_testkit::base_plugins;

fn check(docket_yaml: &str, workflow: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("workflows")).unwrap();
    std::fs::write(dir.path().join("workflows/w.yaml"), workflow).unwrap();
    std::fs::write(dir.path().join("docket.yaml"), docket_yaml).unwrap();
    let plugins = base_plugins().with(docket_kubernetes::plugins());
    match docket_config::load(&dir.path().join("docket.yaml"), &|_: &str| None, &plugins) {
        Ok(_) => String::new(),
        Err(errors) => errors.to_string(),
    }
}

const CONFIG: &str = r#"storage: { url: sqlite://./docket.db }
people:
  - { id: alice, name: Alice Ng, email: alice@example.com }
policies:
  - { name: all, when: "true", auto_approve: true }
kubernetes:
  deployer: { kubeconfig: ./kube.yaml, context: prod }
  both: { kubeconfig: ./kube.yaml, in_cluster: true }
  neither: { context: prod }
"#;

#[test]
fn every_mistake_is_reported_at_its_place() {
    let workflow = r#"id: w
title: W
params:
  - { name: v, type: string }
steps:
  - name: none
    kubernetes: { cluster: deployer }
  - name: two
    kubernetes: { cluster: deployer, restart: { deployment: api }, rollback: { deployment: api } }
  - name: unknown
    kubernetes: { cluster: elsewhere, set_image: { deployment: api, container: api, image: "r/api:{{vv}}" } }
  - name: fine
    kubernetes: { cluster: deployer, restart: { deployment: "" } }
  - name: kinds
    kubernetes: { cluster: deployer, restart: { deployment: api, statefulset: db } }
  - name: templated
    kubernetes: { cluster: deployer, apply: { manifest: "manifests/{{v}}.yaml" } }
  - name: forced
    kubernetes: { cluster: deployer, apply: { manifest: m.yaml, force: maybe } }
"#;
    let said = check(CONFIG, workflow);
    for expected in [
        "docket.yaml:8:9: a cluster is a kubeconfig or in_cluster, not both",
        "docket.yaml:9:12: a cluster needs `kubeconfig` (with an optional `context`) or `in_cluster: true`",
        "workflows/w.yaml:7:17: a kubernetes action needs an operation",
        "workflows/w.yaml:9:17: a kubernetes action does one thing; this one has rollback, restart",
        "unknown parameter `{{vv}}`",
        "unknown cluster `elsewhere`",
        "`deployment` is empty",
        "workflows/w.yaml:15:47: `restart` names one workload",
        "workflows/w.yaml:17:57: `manifest` is a file, not a template",
        "workflows/w.yaml:19:72:",
    ] {
        assert!(said.contains(expected), "missing {expected:?} in:\n{said}");
    }
}
