//! The demo's cluster deploy through the API: `docket demo` starts its own stand-in Kubernetes
//! cluster, the plan reads the Deployment and shows its image current → target, staging runs
//! at once and follows the rollout to the end, and production waits for its approvals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{Server, docket, free_port, wait_ready};

#[test]
fn the_demo_deploys_to_its_own_stand_in_cluster_showing_current_to_target() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let base = format!("http://127.0.0.1:{}", free_port());
    let listen = base.trim_start_matches("http://");
    let _demo = Server(
        docket(dir)
            .args(["demo", "--listen", listen, "--data-dir", "demo"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(&base);
    let credentials: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo/credentials.json")).unwrap()).unwrap();
    let alice = credentials["tokens"]["alice"].as_str().unwrap().to_owned();
    let http = reqwest::blocking::Client::new();
    let request = |environment: &str| -> serde_json::Value {
        let body = serde_json::json!({"workflow": "deploy-to-cluster",
            "params": {"service": "api", "version": "1.4.2", "environment": environment}});
        let reply = http.post(format!("{base}/api/v1/tickets")).bearer_auth(&alice).json(&body).send().unwrap();
        assert!(reply.status().is_success(), "{}", reply.status());
        reply.json().unwrap()
    };

    let staging = request("staging");
    let step = &staging["plan"]["steps"][0];
    assert_eq!(step["change_summary"], "1 to change", "{step}");
    let change = &step["changes"][0];
    assert_eq!(change["target"], "deployment api in staging (3 replicas)");
    assert_eq!(change["before"]["image"], "registry.demo.local/api:1.4.1");
    assert_eq!(change["after"]["image"], "registry.demo.local/api:1.4.2");
    let output = step["output"].as_str().unwrap();
    assert!(
        output.contains("api in staging: registry.demo.local/api:1.4.1 → registry.demo.local/api:1.4.2, 3 replicas"),
        "{output}"
    );
    let id = staging["id"].as_str().unwrap();
    let started = Instant::now();
    loop {
        let ticket: serde_json::Value =
            http.get(format!("{base}/api/v1/tickets/{id}")).bearer_auth(&alice).send().unwrap().json().unwrap();
        if ticket["state"] == "succeeded" {
            break;
        }
        assert!(ticket["state"] != "failed", "{ticket}");
        assert!(started.elapsed() < Duration::from_secs(30), "{ticket}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let logs: serde_json::Value =
        http.get(format!("{base}/api/v1/tickets/{id}/logs")).bearer_auth(&alice).send().unwrap().json().unwrap();
    let text = logs.to_string();
    assert!(text.contains("deployment api in staging successfully rolled out"), "{text}");
    assert!(text.contains("ReplicaSet api-2 is revision 2"), "{text}");

    // Staging now runs 1.4.2; production still runs 1.4.1 and waits for approval.
    let prod = request("prod");
    assert_eq!(prod["state"], "awaiting_approval", "{prod}");
    assert_eq!(prod["plan"]["steps"][0]["changes"][0]["before"]["image"], "registry.demo.local/api:1.4.1");
    let again = request("staging");
    assert_eq!(again["plan"]["steps"][0]["change_summary"], "no changes (1 unchanged)", "{again}");
}
