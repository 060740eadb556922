//! The terminal client against a real server: the demo's walkthrough (request, a refused
//! self-approval, two stages of approvals, the log followed to the end, the list), and a log
//! followed across a server killed and started again mid-step.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::io::Read as _;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn docket(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docket"));
    command
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env_remove("DOCKET_CONFIG")
        .env_remove("DOCKET_TOKEN")
        .env_remove("DOCKET_URL")
        .env_remove("DOCKET_CREDENTIALS");
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_ready(base: &str) {
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if client.get(format!("{base}/readyz")).send().is_ok_and(|r| r.status().is_success()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the server did not become ready");
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a client command as `person` of the demo.
fn as_person(dir: &Path, base: &str, person: &str, args: &[&str]) -> Output {
    docket(dir)
        .args(args)
        .args(["--as", person, "--url", base, "--credentials", "demo/credentials.json"])
        .output()
        .unwrap()
}

#[test]
fn the_demo_walkthrough_from_the_terminal() {
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

    let out =
        as_person(dir, &base, "alice", &["request", "deploy", "service=api", "version=1.4.2", "environment=prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with("DKT-1 opened: "), "{shown}");
    assert!(shown.contains("plan       digest "), "{shown}");
    assert!(shown.ends_with("next       waiting for approval: stage sre (1 of group:sre), then security\n"), "{shown}");

    let out = as_person(dir, &base, "alice", &["request", "deploy", "service=api", "version=bad", "environment=moon"]);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stderr);
    assert!(said.starts_with("docket: invalid parameters:\n  "), "{said}");
    assert!(said.contains("\n  version: ") && said.contains("\n  environment: "), "{said}");

    let out = as_person(dir, &base, "alice", &["approve", "DKT-1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("you requested this ticket"), "{}", text(&out.stderr));

    let out = as_person(dir, &base, "bob", &["approve", "DKT-1", "--digest", "0000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("docket: not approved: the plan's digest is now "), "{}", text(&out.stderr));

    let out = as_person(dir, &base, "bob", &["approve", "DKT-1", "--comment", "diff looks right"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("approved stage sre; waiting for stage security (1 of group:security)\n"));
    let out = as_person(dir, &base, "carol", &["approve", "DKT-1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\nfully approved; "), "{}", text(&out.stdout));

    let out = as_person(dir, &base, "alice", &["logs", "DKT-1", "--follow"]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let log = text(&out.stdout);
    assert!(log.lines().all(|l| l.contains(" │ ") || l.contains(" ! ")), "{log}");
    assert!(log.contains("health-check │ "), "{log}");
    assert!(!log.contains('\x1b'), "no colours when piped: {log}");
    assert!(text(&out.stderr).ends_with("▸ succeeded\n"), "{}", text(&out.stderr));

    let out = as_person(dir, &base, "alice", &["show", "DKT-1"]);
    let shown = text(&out.stdout);
    assert!(shown.contains("  ✓ sre       1 of group:sre; approved by bob\n"), "{shown}");
    assert!(shown.contains("run 1      started "), "{shown}");
    let out = as_person(dir, &base, "alice", &["list", "--mine"]);
    let listed = text(&out.stdout);
    assert!(listed.lines().nth(1).is_some_and(|l| l.starts_with("DKT-1  succeeded")), "{listed}");

    let out = as_person(dir, &base, "dave", &["list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("it has tokens for: alice, bob, carol"), "{}", text(&out.stderr));
}

/// The demo's Terraform step through the API: its stand-in plans structured changes, the
/// policy reads them (a replace or destroy also needs security), and the run applies the plan.
#[test]
fn the_demo_plans_infrastructure_with_its_terraform_stand_in() {
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
    let token = |who: &str| credentials["tokens"][who].as_str().unwrap().to_owned();
    let http = reqwest::blocking::Client::new();
    let request = |workers: u32, machine: &str| -> serde_json::Value {
        let body = serde_json::json!({"workflow": "resize-workers",
            "params": {"environment": "prod", "workers": workers, "machine": machine}});
        let reply = http.post(format!("{base}/api/v1/tickets")).bearer_auth(token("alice")).json(&body).send().unwrap();
        assert!(reply.status().is_success(), "{}", reply.status());
        reply.json().unwrap()
    };
    let stages = |ticket: &serde_json::Value| -> Vec<String> {
        ticket["decision"]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let first = request(2, "small");
    let step = &first["plan"]["steps"][0];
    assert_eq!(step["change_summary"], "3 to add", "{step}");
    assert!(step["output"].as_str().unwrap().starts_with("Docket demo stand-in for Terraform — not Terraform"));
    let pool = step["changes"].as_array().unwrap().iter().find(|c| c["target"] == "demo_pool.workers").unwrap();
    assert_eq!(pool["after"]["join_token"], "(sensitive)");
    assert_eq!(stages(&first), ["sre"]);
    let id = first["id"].as_str().unwrap();
    let digest = first["digest"].as_str().unwrap();
    let approved = http
        .post(format!("{base}/api/v1/tickets/{id}/approve"))
        .bearer_auth(token("bob"))
        .json(&serde_json::json!({"digest": digest}))
        .send()
        .unwrap();
    assert!(approved.status().is_success(), "{}", approved.text().unwrap());
    let started = Instant::now();
    loop {
        let ticket: serde_json::Value =
            http.get(format!("{base}/api/v1/tickets/{id}")).bearer_auth(token("alice")).send().unwrap().json().unwrap();
        if ticket["state"] == "succeeded" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{ticket}");
        std::thread::sleep(Duration::from_millis(50));
    }

    let second = request(1, "large");
    let step = &second["plan"]["steps"][0];
    assert_eq!(step["change_summary"], "1 to change, 1 to replace, 1 to destroy", "{step}");
    assert_eq!(stages(&second), ["sre", "security"]);
}

const CONFIG: &str = r#"server: { listen: 127.0.0.1:0 }
storage: { url: sqlite://./docket.db }
catalog: ./workflows
people:
  - { id: alice, name: Alice }
policies:
  - { name: all, when: "true", auto_approve: true }
"#;

const SCRIPT: &str = "#!/bin/sh\necho started\nsleep 2\necho done\n";

#[test]
fn a_followed_log_survives_a_server_restart() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    std::fs::create_dir_all(dir.join("workflows")).unwrap();
    let workflow = format!(
        "id: slow\ntitle: slow\nsteps:\n  - name: work\n    exec: {{ argv: [\"./step.sh\"], cwd: \"{}\" }}\n    retry: safe\n",
        dir.display()
    );
    std::fs::write(dir.join("workflows/slow.yaml"), workflow).unwrap();
    std::fs::write(dir.join("docket.yaml"), CONFIG).unwrap();
    std::fs::write(dir.join("step.sh"), SCRIPT).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir.join("step.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = docket(dir).args(["token", "create", "--config", "docket.yaml", "--person", "alice"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let serve = || {
        let listen = format!("127.0.0.1:{port}");
        let child = docket(dir)
            .args(["serve", "--config", "docket.yaml", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Server(child)
    };
    let server = serve();
    wait_ready(&base);

    let client = ["--url", base.as_str(), "--token", token.as_str()];
    let out = docket(dir).args(["request", "slow"]).args(client).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut follower = docket(dir)
        .args(["logs", "DKT-1", "--follow"])
        .args(client)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Its output is read as it comes: the server is killed only once the follower shows the
    // step's first line, so it is past its first reads and follows the event stream.
    let mut stdout = follower.stdout.take().unwrap();
    let (lines, shown) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut chunk) {
            log.push_str(&String::from_utf8_lossy(&chunk[..n]));
            let _ = lines.send(log.clone());
        }
        log
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let so_far = shown.recv_timeout(Duration::from_secs(20)).expect("the follower showed nothing");
        if so_far.contains("work │ started") {
            break;
        }
        assert!(Instant::now() < deadline, "the follower never showed the step's first line: {so_far}");
    }
    while !step_started(&base, &token) {
        assert!(Instant::now() < deadline, "the step never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server); // SIGKILL mid-step
    let _server = serve();
    wait_ready(&base);

    let deadline = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(status) = follower.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the follower did not finish");
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = reader.join().unwrap();
    let mut said = String::new();
    follower.stderr.take().unwrap().read_to_string(&mut said).unwrap();
    assert!(status.success(), "{log}{said}");
    assert!(log.contains("work │ done\n"), "{log}");
    assert!(said.ends_with("▸ succeeded\n"), "{said}");
}

/// Whether ticket DKT-1's step has printed its first line.
fn step_started(base: &str, token: &str) -> bool {
    let client = reqwest::blocking::Client::new();
    let Ok(response) = client.get(format!("{base}/api/v1/tickets/DKT-1/logs")).bearer_auth(token).send() else {
        return false;
    };
    let page: serde_json::Value = response.json().unwrap_or_default();
    page["lines"].as_array().is_some_and(|lines| lines.iter().any(|l| l["text"] == "started"))
}

/// The demo's data workflows from the terminal: a report's table in `docket show` and `docket
/// result` (aligned, and as CSV with NULL as an empty field), and a controlled update whose
/// plan counts the rows, approved by count (three rows also need security), then committed.
#[test]
fn the_demo_reports_and_updates_its_shop_database() {
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

    let out = as_person(dir, &base, "alice", &["request", "sales-report", "day=2026-11-24", "--wait"]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let out = as_person(dir, &base, "alice", &["show", "DKT-1"]);
    let shown = text(&out.stdout);
    let table = "\nResult 1. query (run 1)\n  \
                 region  total    orders  note\n  \
                 ------  -------  ------  -------------------\n  \
                 amer    3020.75       1  NULL\n  \
                 emea    2049.75       2  black friday, early\n  \
                 apac    739.99        2  holiday in \"JP\"\n  \
                 3 rows — all of it: docket result DKT-1 --step 1\n";
    assert!(shown.ends_with(table), "{shown}");
    let out = as_person(dir, &base, "alice", &["result", "DKT-1", "--csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "region,total,orders,note\r\namer,3020.75,1,\r\nemea,2049.75,2,\"black friday, early\"\r\n\
         apac,739.99,2,\"holiday in \"\"JP\"\"\"\r\n"
    );

    let out = as_person(dir, &base, "alice", &["request", "close-accounts", "customer=globex"]);
    let shown = text(&out.stdout);
    assert!(shown.contains("│ will change 3 rows in shop (SQLite)\n"), "{shown}");
    // The approver sees the rows themselves, before → after, not only their number.
    for id in 3..=5 {
        let row = format!("~ id={id}: status 'open' → 'closed', note NULL → 'customer request'\n");
        assert!(shown.contains(&row), "{shown}");
    }
    assert!(shown.ends_with("waiting for approval: stage sre (1 of group:sre), then security\n"), "{shown}");
    assert!(as_person(dir, &base, "bob", &["approve", "DKT-2"]).status.success());
    assert!(as_person(dir, &base, "carol", &["approve", "DKT-2"]).status.success());
    let out = as_person(dir, &base, "alice", &["logs", "DKT-2", "--follow"]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("close │ changed 3 rows in shop (SQLite)"), "{}", text(&out.stdout));
    let out = as_person(dir, &base, "alice", &["result", "DKT-2", "--step", "1"]);
    assert_eq!(text(&out.stdout), "changed 3 rows\n");
    let out = as_person(dir, &base, "alice", &["result", "DKT-2"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "docket: no step of DKT-2 left a result table\n");
}
