//! Reloading `docket serve`'s configuration while it runs, with `SIGHUP` and `docket reload`: a
//! broken configuration is refused with every error at file:line and the running one stays; a
//! change only a restart takes on is named; someone who is not an admin is refused; a good
//! configuration takes effect at once (a new workflow, a new person, a changed workflow) while a
//! ticket opened before keeps the workflow version it pinned, and neither an open event stream
//! nor Slack's Socket Mode connection drops. Every reload, taken or refused, is in the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use docket_testkit::slack::{BOT_TOKEN, FakeSlack, FakeSocketMode};
use serde_json::{Value, json};
use support::api::{Api, reload, token};
use support::{Server, docket, free_port, text, wait_for_text, wait_ready};

fn config(port: u16, people: &str, slack: &str) -> String {
    format!(
        r#"server: {{ listen: "127.0.0.1:{port}" }}
storage: {{ url: sqlite://./docket.db }}
slack: {{ signing_secret: s3cr3t, bot_token: {BOT_TOKEN}, app_token: xapp-1-test, api_url: "{slack}" }}
catalog: ./workflows
people:
  - {{ id: alice, name: Alice Ng, admin: true }}
  - {{ id: bob, name: Bob Ruiz, groups: [ops] }}
{people}policies:
  - {{ name: hello-needs-ops, when: 'workflow.id == "hello"', stages: [{{ name: ops, from: [group:ops], count: 1 }}] }}
  - {{ name: rest, when: "true", auto_approve: true }}
"#
    )
}

fn hello(words: &str) -> String {
    format!("id: hello\ntitle: Say hello\nsteps:\n  - {{ name: say, exec: [echo, \"{words}\"] }}\n")
}

const GREET: &str = "id: greet\ntitle: Greet\nsteps:\n  - { name: say, exec: [echo, greetings] }\n";

/// Sends SIGHUP to the server.
fn hang_up(server: &Server) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(server.0.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
}

#[test]
fn a_reload_refuses_what_is_wrong_and_takes_what_is_right_without_dropping_anything() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let port = free_port();
    // Slack in Socket Mode: its one connection must outlive every reload.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (slack, socket) = runtime.block_on(async {
        let (slack, socket) = (FakeSlack::start().await, FakeSocketMode::start().await);
        slack.with_socket(socket.clone());
        (slack, socket)
    });
    let slack_url = slack.url();
    let config = |port: u16, people: &str| config(port, people, &slack_url);
    std::fs::write(root.join("docket.yaml"), config(port, "")).unwrap();
    std::fs::create_dir(root.join("workflows")).unwrap();
    std::fs::write(root.join("workflows/hello.yaml"), hello("version one")).unwrap();
    let log_path = root.join("serve.log");
    let server = Server(
        docket(root)
            .args(["serve", "--config", "docket.yaml"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base);
    let api = Api { base: base.clone(), http: reqwest::blocking::Client::new() };
    runtime.block_on(socket.wait_for_open(1));
    let (alice, bob) = (token(root, "alice"), token(root, "bob"));

    // A ticket pinned to version one, waiting for Bob, with its event stream open.
    let opened: Value = api.post(&alice, "/tickets", &json!({ "workflow": "hello" })).json().unwrap();
    let pinned = opened["id"].as_str().unwrap().to_owned();
    let waiting = api.wait_state(&alice, &pinned, "awaiting_approval");
    let (events, received) = mpsc::channel::<String>();
    let stream = api.get(&alice, &format!("/tickets/{pinned}/events"));
    assert_eq!(stream.status(), 200);
    let streaming = std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if events.send(line).is_err() {
                return;
            }
        }
    });

    // A broken configuration, by SIGHUP: refused, every error at file:line, the old one stays.
    std::fs::write(
        root.join("docket.yaml"),
        config(port, "").replace("auto_approve: true", "auto_approve: maybe").replace("catalog:", "catalogue:"),
    )
    .unwrap();
    hang_up(&server);
    let said = wait_for_text(&log_path, "configuration reload refused");
    assert!(said.contains("docket.yaml:"), "{said}");
    assert!(said.contains("catalogue"), "every error is named: {said}");
    assert!(said.contains("`maybe`"), "every error is named: {said}");
    let refused = reload(root, &base, &alice);
    assert!(!refused.status.success());
    let why = text(&refused.stderr);
    assert!(why.contains("the running one stays") && why.contains("docket.yaml:"), "{why}");
    assert_eq!(api.workflows(&alice), ["hello"]);

    // A change only a restart takes on is named, and nothing else is taken either.
    let other_port = free_port();
    std::fs::write(root.join("docket.yaml"), config(other_port, "")).unwrap();
    std::fs::write(root.join("workflows/greet.yaml"), GREET).unwrap();
    let refused = reload(root, &base, &alice);
    assert!(!refused.status.success());
    let why = text(&refused.stderr);
    assert!(why.contains("`server` changed, which only a restart takes on"), "{why}");
    assert_eq!(api.workflows(&alice), ["hello"]);

    // Only admins reload.
    let refused = api.post(&bob, "/config/reload", &json!({}));
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().unwrap();
    assert_eq!(body["error"]["code"], "admin_only", "{body}");

    // A good configuration: a new person, a new workflow, a changed one.
    std::fs::write(root.join("docket.yaml"), config(port, "  - { id: carol, name: Carol Diaz }\n")).unwrap();
    std::fs::write(root.join("workflows/hello.yaml"), hello("version two")).unwrap();
    let carol = token(root, "carol");
    let connected = socket.open();
    let unknown = api.get(&carol, "/me").status();
    assert!(unknown == 401 || unknown == 403, "Carol is not in the running directory yet: {unknown}");
    let taken = reload(root, &base, &alice);
    let said = text(&taken.stdout);
    assert!(taken.status.success(), "{}{said}", text(&taken.stderr));
    assert!(said.contains("reloaded: 2 workflows, 3 people, 2 policy rules"), "{said}");
    assert!(said.contains("added      greet") && said.contains("changed    hello"), "{said}");
    assert_eq!(api.workflows(&alice), ["greet", "hello"]);
    assert_eq!(api.get(&carol, "/me").status(), 200, "Carol is known at once");

    // The ticket opened before keeps version one; a new one gets version two.
    let approved = api.post(&bob, &format!("/tickets/{pinned}/approve"), &json!({ "digest": waiting["digest"] }));
    assert_eq!(approved.status(), 200, "{}", approved.text().unwrap());
    api.wait_state(&alice, &pinned, "succeeded");
    assert!(api.log(&alice, &pinned).contains("version one"), "{}", api.log(&alice, &pinned));
    let fresh: Value = api.post(&carol, "/tickets", &json!({ "workflow": "hello" })).json().unwrap();
    let fresh = fresh["id"].as_str().unwrap().to_owned();
    let fresh_waiting = api.wait_state(&carol, &fresh, "awaiting_approval");
    assert_ne!(fresh_waiting["version"], waiting["version"]);
    let approved = api.post(&bob, &format!("/tickets/{fresh}/approve"), &json!({ "digest": fresh_waiting["digest"] }));
    assert_eq!(approved.status(), 200);
    api.wait_state(&carol, &fresh, "succeeded");
    assert!(api.log(&carol, &fresh).contains("version two"));

    // The stream opened before the reloads saw the run to its end.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.starts_with("event: end")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("the event stream stopped: {seen:#?}"),
        }
    }
    assert!(seen.iter().any(|l| l.contains("succeeded")), "{seen:#?}");
    streaming.join().unwrap();

    // Socket Mode's connections are the ones opened at start, all still open.
    assert_eq!(socket.open(), connected, "{:?}", socket.connections());
    assert!(socket.connections().iter().all(|c| c.closed.is_none()), "{:?}", socket.connections());

    // Every reload is in the audit log: the digest of what was taken, the reasons for refusals.
    let audit = api.audit(&alice);
    let actions: Vec<&str> = audit.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "config.reload_refused").count(), 3, "{actions:?}");
    let taken = audit.iter().find(|r| r["action"] == "config.reloaded").unwrap();
    assert_eq!(taken["actor"], "alice");
    assert_eq!(taken["details"]["digest"].as_str().unwrap().len(), 64, "{taken}");
    assert_eq!(taken["details"]["added"], json!(["greet"]));
    let restart = audit.iter().find(|r| r["details"]["code"] == "needs_restart").unwrap();
    assert_eq!(restart["details"]["keys"], json!(["server"]));
    let by_signal = audit.iter().find(|r| r["details"]["code"] == "invalid").unwrap();
    assert_eq!(by_signal["actor"], "docket", "{by_signal}");
    assert!(audit.iter().any(|r| r["details"]["code"] == "admin_only" && r["actor"] == "bob"), "{actions:?}");
    drop(server);
}
