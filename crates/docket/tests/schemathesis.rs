//! Schemathesis, a public API fuzzer, against a real `docket demo` with a few tickets in it:
//! it reads the served OpenAPI document, sends requests the document allows and requests it
//! forbids to every operation, and runs all its checks on the replies (statuses, content types,
//! headers, bodies and server-sent events against their schemas, valid data accepted, invalid
//! data refused, authentication not ignored). Any disagreement between the document and the
//! API fails the test. Schemathesis comes from `cargo xtask prepare`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The most one Schemathesis run may take.
const RUN_LIMIT: Duration = Duration::from_secs(150);

/// Kills a child process when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
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
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the demo did not become ready");
}

/// Opens a ticket as `token`'s person; returns its view.
fn open(base: &str, token: &str, body: Value) -> Value {
    let reply = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(reply.status().as_u16(), 201);
    reply.json().unwrap()
}

#[test]
fn schemathesis_finds_no_disagreement_between_the_document_and_the_api() {
    let schemathesis = repo().join("target/schemathesis-venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "Schemathesis is not installed at {}: run `cargo xtask prepare` (`cargo xtask test` does it too)",
        schemathesis.display()
    );
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let base = format!("http://127.0.0.1:{}", free_port());
    let _demo = Killed(
        Command::new(env!("CARGO_BIN_EXE_docket"))
            .args(["demo", "--listen", base.trim_start_matches("http://"), "--data-dir", "demo"])
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(&base);
    let credentials: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo/credentials.json")).unwrap()).unwrap();
    let token = |person: &str| credentials["tokens"][person].as_str().unwrap().to_owned();

    // Tickets for the operations on one (the document's examples name DKT-1): one that runs to
    // the end, one waiting for approval, one for a credential.
    let deploy = |environment: &str| json!({ "workflow": "deploy", "params": { "service": "api", "version": "1.4.2", "environment": environment } });
    open(&base, &token("alice"), deploy("staging"));
    open(&base, &token("alice"), deploy("prod"));
    let rotate =
        json!({ "workflow": "rotate-credential", "params": { "credential": "billing-db", "reason": "yearly" } });
    open(&base, &token("dana"), rotate);

    // As dana: an SRE (so an approver) and an admin (so the audit log is hers to read). Every
    // operation is tested, side effects and all: the demo's data is thrown away afterwards.
    let log = dir.join("schemathesis.log");
    let mut run = Command::new(&schemathesis);
    run.arg("--config-file")
        .arg(repo().join("crates/docket/tests/schemathesis.toml"))
        .arg("run")
        .arg(format!("{base}/api/v1/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {}", token("dana"))])
        .args(["--checks", "all", "--max-examples", "20", "--seed", "1", "--request-timeout", "5"])
        .args(["--workers", "1", "--no-color", "--generation-database", "none"])
        .current_dir(dir)
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::inherit());
    let mut child = Killed(run.spawn().unwrap());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < RUN_LIMIT, "Schemathesis ran over {RUN_LIMIT:?}:\n{}", read(&log));
        std::thread::sleep(Duration::from_millis(200));
    };
    let report = read(&log);
    assert!(status.success(), "Schemathesis found disagreements ({status}):\n{report}");
    // Every route but the document itself, which Schemathesis reads rather than tests.
    let operations = docket_web::route_table().len() - 1;
    let tested = format!("Tested: {operations}");
    assert!(report.lines().any(|l| l.trim() == tested), "not every operation was tested:\n{report}");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
