//! The web UI in headless Chromium: starts `docket demo` on a free port and runs the
//! Playwright walkthrough in `crates/docket-web/browser/` against it (alice requests a prod
//! deploy, a bad version is shown next to its field, her approve button is absent and a forged
//! POST is refused, bob and carol approve from a phone-sized browser, the logs stream into her
//! open page until the ticket succeeds). It saves the screenshots in `docs/screenshots/`.
//!
//! Needs Debian's `chromium` and `npm ci` in `crates/docket-web/browser/`; `.ci/run` does both.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the whole walkthrough may take.
const LIMIT: Duration = Duration::from_secs(180);

/// Kills a process when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// What is missing to run the walkthrough, if anything.
fn missing(browser_dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if !chromium().exists() {
        out.push(format!("Chromium at {} (apt-get install -y chromium)", chromium().display()));
    }
    if Command::new("node").arg("--version").output().is_err() {
        out.push("Node.js (apt-get install -y nodejs npm)".to_owned());
    }
    if !browser_dir.join("node_modules/playwright-core").exists() {
        out.push(format!("playwright-core (npm ci in {})", browser_dir.display()));
    }
    out
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
    panic!("the demo did not become ready");
}

#[test]
fn the_demo_walkthrough_in_headless_chromium() {
    let browser_dir = repo().join("crates/docket-web/browser");
    let missing = missing(&browser_dir);
    assert!(missing.is_empty(), "the browser test needs {}; `.ci/run` installs them", missing.join(", "));
    let temp = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let demo = Command::new(env!("CARGO_BIN_EXE_docket"))
        .current_dir(temp.path())
        .env("RUST_LOG", "warn")
        .args(["demo", "--listen", &listen, "--data-dir", "demo"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _demo = Killed(demo);
    let base = format!("http://{listen}");
    wait_ready(&base);

    let shots = repo().join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let log = temp.path().join("walkthrough.log");
    let node = Command::new("node")
        .current_dir(&browser_dir)
        .arg("walkthrough.mjs")
        .arg(&base)
        .arg(&shots)
        .env("CHROMIUM", chromium())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut node = Killed(node);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = node.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < LIMIT, "the walkthrough took longer than {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "the walkthrough failed ({status}):\n{output}");
    for check in [
        "a bad version shows its error next to the field",
        "alice's own approve button is absent",
        "a forged POST (no CSRF token) is refused with 403",
        "the logs streamed into alice's open page",
        "walkthrough passed",
    ] {
        assert!(output.contains(check), "`{check}` missing from:\n{output}");
    }
    for shot in [
        "home",
        "catalog",
        "request-form-error",
        "ticket-awaiting",
        "ticket-phone",
        "ticket-succeeded",
        "ticket-dark",
        "audit",
    ] {
        assert!(shots.join(format!("{shot}.png")).exists(), "no screenshot {shot}.png");
    }
}
