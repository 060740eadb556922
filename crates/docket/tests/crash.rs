//! Crash safety, for real: `docket serve` is killed with SIGKILL in the middle of a step and
//! started again. A `retry: safe` step runs again with the same idempotency key; a step that
//! is not safe to repeat is never repeated and its ticket ends `interrupted`; every
//! acknowledged ticket and the audit chain survive.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CONFIG: &str = r#"server: { listen: 127.0.0.1:0 }
storage: { url: sqlite://./docket.db }
catalog: ./workflows
people:
  - { id: alice, name: Alice }
policies:
  - { name: all, when: "true", auto_approve: true }
"#;

/// A step that records its attempt (with its idempotency key), then works for a while.
const SCRIPT: &str =
    "#!/bin/sh\necho \"$1 $DOCKET_IDEMPOTENCY_KEY\" >> attempts.log\necho started\nsleep 3\necho done\n";

fn workflow(id: &str, safe: bool) -> String {
    format!(
        "id: {id}\ntitle: {id}\nsteps:\n  - name: work\n    exec: {{ argv: [\"./step.sh\", \"{id}\"], cwd: \"@DIR@\" }}\n{}",
        if safe { "    retry: safe\n" } else { "" }
    )
}

fn setup(dir: &Path) {
    std::fs::create_dir_all(dir.join("workflows")).unwrap();
    let shown = dir.to_str().unwrap();
    for (id, safe) in [("safe", true), ("unsafe", false)] {
        std::fs::write(dir.join(format!("workflows/{id}.yaml")), workflow(id, safe).replace("@DIR@", shown)).unwrap();
    }
    let quick = "id: quick\ntitle: quick\nsteps:\n  - name: pause\n    wait: 50ms\n    retry: safe\n";
    std::fs::write(dir.join("workflows/quick.yaml"), quick).unwrap();
    std::fs::write(dir.join("docket.yaml"), CONFIG).unwrap();
    let script = dir.join("step.sh");
    std::fs::write(&script, SCRIPT).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn docket(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docket"));
    command.current_dir(dir).env("RUST_LOG", "warn").env_remove("DOCKET_CONFIG");
    command
}

fn start(dir: &Path, port: u16) -> Child {
    docket(dir)
        .args(["serve", "--config", "docket.yaml", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_ready(client: &reqwest::blocking::Client, base: &str) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if client.get(format!("{base}/readyz")).send().is_ok_and(|r| r.status().is_success()) {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the server did not become ready");
}

fn ticket(client: &reqwest::blocking::Client, base: &str, token: &str, id: &str) -> Value {
    client.get(format!("{base}/api/v1/tickets/{id}")).bearer_auth(token).send().unwrap().json().unwrap()
}

fn attempts(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("attempts.log")).unwrap_or_default().lines().map(str::to_owned).collect()
}

#[test]
fn sigkill_mid_step_resumes_safe_steps_and_interrupts_the_rest() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    setup(dir);
    let out = docket(dir).args(["token", "create", "--config", "docket.yaml", "--person", "alice"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();

    let mut server = start(dir, port);
    wait_ready(&client, &base);
    let mut ids = Vec::new();
    for workflow in ["safe", "unsafe"] {
        let response = client
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(&token)
            .json(&json!({ "workflow": workflow, "params": {} }))
            .send()
            .unwrap();
        assert_eq!(response.status(), 201);
        ids.push(response.json::<Value>().unwrap()["id"].as_str().unwrap().to_owned());
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while attempts(dir).len() < 2 {
        assert!(Instant::now() < deadline, "the steps never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // More acknowledged tickets, some still queued or running when the server dies.
    let mut acknowledged = Vec::new();
    for _ in 0..30 {
        let response = client
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(&token)
            .json(&json!({ "workflow": "quick", "params": {} }))
            .send()
            .unwrap();
        assert_eq!(response.status(), 201);
        acknowledged.push(response.json::<Value>().unwrap()["id"].as_str().unwrap().to_owned());
    }
    server.kill().unwrap(); // SIGKILL, mid-step
    server.wait().unwrap();
    let before = attempts(dir);
    let spawned = Instant::now();

    let mut server = start(dir, port);
    let ready = wait_ready(&client, &base);
    while attempts(dir).len() < 3 {
        assert!(spawned.elapsed() < Duration::from_secs(10), "the safe step did not resume");
        std::thread::sleep(Duration::from_millis(5));
    }
    let resumed = spawned.elapsed();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (safe, unsafe_) = loop {
        let safe = ticket(&client, &base, &token, &ids[0]);
        let unsafe_ = ticket(&client, &base, &token, &ids[1]);
        if safe["state"] == "succeeded" && unsafe_["state"] == "interrupted" {
            break (safe, unsafe_);
        }
        assert!(Instant::now() < deadline, "not resumed: {safe:#}\n{unsafe_:#}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let after = attempts(dir);
    let safe_attempts: Vec<_> = after.iter().filter(|l| l.starts_with("safe ")).collect();
    let unsafe_attempts: Vec<_> = after.iter().filter(|l| l.starts_with("unsafe ")).collect();
    assert_eq!(safe_attempts.len(), 2, "the safe step ran again: {after:?} (before: {before:?})");
    assert_eq!(safe_attempts[0], safe_attempts[1], "with the same idempotency key");
    assert_eq!(unsafe_attempts.len(), 1, "the unsafe step was never repeated: {after:?}");
    assert_eq!(safe["runs"][0]["steps"][0]["attempts"], 2, "{safe:#}");
    assert!(unsafe_["closing_reason"].as_str().unwrap_or_default().contains("not marked `retry: safe`"), "{unsafe_:#}");
    assert!(ready < Duration::from_secs(5));
    // Resumed right after start-up, not after the lease would have lapsed (30 s).
    assert!(resumed < Duration::from_secs(5), "resumed after {resumed:?}");
    for id in &acknowledged {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let t = ticket(&client, &base, &token, id);
            if t["state"] == "succeeded" {
                break;
            }
            assert!(Instant::now() < deadline, "acknowledged ticket {id} did not finish: {t:#}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    server.kill().unwrap();
    server.wait().unwrap();
    let out = docket(dir).args(["audit", "verify", "--config", "docket.yaml"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.starts_with("audit chain intact"), "{said}");
}
