//! The web UI in headless Chromium, driven by the Playwright scripts in
//! `crates/docket-web/browser/`:
//!
//! - the demo walkthrough against `docket demo` on a free port (alice requests a prod deploy, a
//!   bad version is shown next to its field, her approve button is absent and a forged POST is
//!   refused, bob and carol approve from a phone-sized browser, their approvals, bob's comment,
//!   the logs and the final state reach her open page live; the catalog, a workflow's choices,
//!   an unknown page, a step not started, and the audit page refused to alice and opened as
//!   dana); it saves the screenshots in `docs/screenshots/`;
//! - signing in to `docket serve` through a certified OpenID provider (node `oidc-provider`,
//!   `provider.mjs`, in its default configuration): the browser logs in on the provider's own
//!   page and lands on Docket's home page as alice. That provider keeps the email out of the
//!   ID token, so this works only if Docket asks UserInfo.
//!
//! Needs Debian's `chromium` and `npm ci` in `crates/docket-web/browser/`; `.ci/run` does both.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
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
    for package in ["playwright-core", "oidc-provider"] {
        if !browser_dir.join("node_modules").join(package).exists() {
            out.push(format!("{package} (npm ci in {})", browser_dir.display()));
        }
    }
    out
}

fn browser_dir() -> PathBuf {
    let dir = repo().join("crates/docket-web/browser");
    let missing = missing(&dir);
    assert!(missing.is_empty(), "the browser test needs {}; `.ci/run` installs them", missing.join(", "));
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until `url` answers with success.
fn wait_for(url: &str, what: &str) {
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if client.get(url).send().is_ok_and(|r| r.status().is_success()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{what} did not become ready");
}

/// Runs `node script args…` in `dir` with Chromium's path, its output to `log`; returns how
/// it ended and what it printed.
fn run_script(dir: &Path, script: &str, args: &[&str], log: &Path) -> (ExitStatus, String) {
    let node = Command::new("node")
        .current_dir(dir)
        .arg(script)
        .args(args)
        .env("CHROMIUM", chromium())
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut node = Killed(node);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = node.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < LIMIT, "{script} took longer than {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(log).unwrap())
}

#[test]
fn the_demo_walkthrough_in_headless_chromium() {
    let browser_dir = browser_dir();
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
    wait_for(&format!("{base}/readyz"), "the demo");

    let shots = repo().join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let log = temp.path().join("walkthrough.log");
    let shots_arg = shots.to_str().unwrap();
    let (status, output) = run_script(&browser_dir, "walkthrough.mjs", &[&base, shots_arg], &log);
    assert!(status.success(), "the walkthrough failed ({status}):\n{output}");
    for check in [
        "a bad version shows its error next to the field",
        "alice's own approve button is absent",
        "a forged POST (no CSRF token) is refused with 403",
        "the logs streamed into alice's open page",
        "bob's comment reached alice's open page",
        "the sre stage shows approved on alice's open page",
        "the succeeded badge never sits beside a waiting headline",
        "both stages show approved, and alice's cancel button is gone",
        "a step not started says so",
        "a catalog card takes its row",
        "descriptions show `code` as code",
        "the workflow page lists a choice's values",
        "an unknown page says so, with the way back",
        "nothing overflows sideways on bob's phone",
        "the audit page refuses alice inside the frame",
        "and says dana is the demo's admin",
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

/// `docket serve`'s configuration: alice, whose email the provider knows, signs in with it.
fn serve_config(listen: &str, issuer: &str) -> String {
    format!(
        r#"server: {{ listen: {listen}, public_url: http://{listen} }}
storage: {{ url: sqlite://./docket.db }}
catalog: ./workflows
people:
  - {{ id: alice, name: Alice Ng, email: alice@example.com }}
policies:
  - {{ name: all, when: "true", auto_approve: true }}
web:
  oidc: {{ issuer: {issuer}, client_id: docket, client_secret: docket-test-secret }}
"#
    )
}

#[test]
fn signs_in_through_a_certified_openid_provider_in_headless_chromium() {
    let browser_dir = browser_dir();
    let temp = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let provider_port = free_port().to_string();
    let issuer = format!("http://127.0.0.1:{provider_port}");

    let provider_log = temp.path().join("provider.log");
    let provider = Command::new("node")
        .current_dir(&browser_dir)
        .args(["provider.mjs", &provider_port, &base])
        .stdout(std::fs::File::create(&provider_log).unwrap())
        .stderr(std::fs::File::create(temp.path().join("provider.err")).unwrap())
        .spawn()
        .unwrap();
    let _provider = Killed(provider);
    wait_for(&format!("{issuer}/.well-known/openid-configuration"), "the OpenID provider");

    std::fs::create_dir_all(temp.path().join("workflows")).unwrap();
    std::fs::write(temp.path().join("docket.yaml"), serve_config(&listen, &issuer)).unwrap();
    let docket_log = temp.path().join("docket.log");
    let docket = Command::new(env!("CARGO_BIN_EXE_docket"))
        .current_dir(temp.path())
        .env("RUST_LOG", "warn")
        .env_remove("DOCKET_CONFIG")
        .args(["serve", "--config", "docket.yaml"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&docket_log).unwrap())
        .spawn()
        .unwrap();
    let _docket = Killed(docket);
    wait_for(&format!("{base}/readyz"), "docket serve");

    let log = temp.path().join("signin.log");
    let (status, output) = run_script(&browser_dir, "signin.mjs", &[&base, &issuer], &log);
    let provider_said = std::fs::read_to_string(&provider_log).unwrap();
    let docket_said = std::fs::read_to_string(&docket_log).unwrap();
    let everything = format!("{output}\n--- provider:\n{provider_said}\n--- docket:\n{docket_said}");
    assert!(status.success(), "the sign-in failed ({status}):\n{everything}");
    for check in [
        "Docket sent the browser to the provider",
        "the provider shows its own login page",
        "signed in to Docket as alice (Alice Ng)",
        "signed out",
        "sign-in passed",
    ] {
        assert!(output.contains(check), "`{check}` missing from:\n{everything}");
    }
    // The code was exchanged (with the secret by Basic, the client's registered method) and
    // the email came from UserInfo (`/me`), asked with the access token.
    for call in ["POST /token 200", "GET /me 200"] {
        assert!(provider_said.contains(call), "the provider never answered `{call}`:\n{everything}");
    }
}
