//! The terminal client's commands through the real binary against a real `docket serve`:
//! `workflows`, a request in words, `waiting`, `comment`, `amend`, `retry`, `show` as the state
//! asks, `--json` on each, and `--help` on each.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod support;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use support::{Server, docket, free_port, text, wait_ready};

const CONFIG: &str = r#"server: { listen: 127.0.0.1:0 }
storage: { url: sqlite://./docket.db }
people:
  - { id: alice, name: Alice Ng, groups: [dev] }
  - { id: bob, name: Bob Ruiz, groups: [sre] }
policies:
  - name: prod-needs-sre
    when: params.environment == "prod"
    stages: [{ name: sre, from: [group:sre], count: 1 }]
  - { name: the-rest, when: "true", auto_approve: true }
"#;

const DEPLOY: &str = r#"id: deploy
title: Deploy a service
category: Deployments
examples: ["deploy {service} {version} to {environment}"]
params:
  - { name: service, type: choice, choices: [api, web] }
  - { name: version, type: string, pattern: '^\d+\.\d+\.\d+$', help: "A release such as 1.4.2" }
  - { name: environment, type: choice, choices: [staging, prod] }
steps:
  - name: release
    exec: [echo, "releasing {{service}} {{version}} to {{environment}}"]
"#;

/// Fails the first time it runs in a folder, then succeeds.
const FLAKY: &str = r#"id: flaky
title: Flaky job
steps:
  - name: attempt
    exec: { argv: ["./flaky.sh"], cwd: "@DIR@" }
"#;

/// Two steps: the first prints three lines at once, the second takes two seconds.
const TWO_STEPS: &str = r#"id: two-steps
title: Two steps
steps:
  - name: first
    exec: { argv: ["./first.sh"], cwd: "@DIR@" }
  - name: second
    exec: { argv: ["./second.sh"], cwd: "@DIR@" }
"#;

const FIRST_SH: &str = "#!/bin/sh\necho one-a\necho one-b\necho one-c\n";
/// Runs until the test writes `go` (at most 30 s), so a follower can start while it runs.
const SECOND_SH: &str = "#!/bin/sh\necho two-started\ni=0\nwhile [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\necho two-done\n";

const FLAKY_SH: &str = "#!/bin/sh\nif [ -e tried ]; then echo 'second time lucky'; exit 0; fi\n\
                        touch tried; echo 'first try fails' >&2; exit 3\n";

struct Site {
    _temp: tempfile::TempDir,
    _server: Server,
    base: String,
    tokens: [(String, String); 2],
}

impl Site {
    fn start() -> Self {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        std::fs::create_dir(dir.join("workflows")).unwrap();
        std::fs::write(dir.join("docket.yaml"), CONFIG).unwrap();
        std::fs::write(dir.join("workflows/deploy.yaml"), DEPLOY).unwrap();
        std::fs::write(dir.join("workflows/flaky.yaml"), FLAKY.replace("@DIR@", dir.to_str().unwrap())).unwrap();
        std::fs::write(dir.join("workflows/two-steps.yaml"), TWO_STEPS.replace("@DIR@", dir.to_str().unwrap()))
            .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        for (name, script) in [("flaky.sh", FLAKY_SH), ("first.sh", FIRST_SH), ("second.sh", SECOND_SH)] {
            std::fs::write(dir.join(name), script).unwrap();
            std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let token = |person: &str| {
            let out = docket(dir).args(["token", "create", "--config", "docket.yaml", "--person", person]).output();
            (person.to_owned(), text(&out.unwrap().stdout).trim().to_owned())
        };
        let tokens = [token("alice"), token("bob")];
        let listen = format!("127.0.0.1:{}", free_port());
        let child = docket(dir)
            .args(["serve", "--config", "docket.yaml", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server(child);
        let base = format!("http://{listen}");
        wait_ready(&base);
        Self { _temp: temp, _server: server, base, tokens }
    }

    fn dir(&self) -> &Path {
        self._temp.path()
    }

    /// `docket ARGS… --url … --token …` as `person`.
    fn run(&self, person: &str, args: &[&str]) -> Output {
        let token = &self.tokens.iter().find(|(p, _)| p == person).unwrap().1;
        docket(self.dir()).args(args).args(["--url", &self.base, "--token", token]).output().unwrap()
    }

    /// Like `run`, and it must succeed; answers its stdout.
    fn ok(&self, person: &str, args: &[&str]) -> String {
        let out = self.run(person, args);
        assert!(out.status.success(), "{args:?}: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    fn json(&self, person: &str, args: &[&str]) -> serde_json::Value {
        let said = self.ok(person, &[args, &["--json"]].concat());
        serde_json::from_str(&said).unwrap_or_else(|e| panic!("{args:?} --json printed no JSON ({e}):\n{said}"))
    }

    fn wait_for_state(&self, id: &str, state: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.json("alice", &["show", id])["state"] != state {
            assert!(Instant::now() < deadline, "{id} never became {state}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn the_catalog_from_the_terminal() {
    let site = Site::start();
    let listed = site.ok("alice", &["workflows"]);
    assert!(listed.starts_with("ID         TITLE             CATEGORY     RISK    PARAMETERS\n"), "{listed}");
    assert!(listed.contains("\ndeploy     Deploy a service  Deployments  medium  service, version, environment\n"));
    assert!(listed.contains("\nflaky      Flaky job         General      medium\n"), "{listed}");
    let shown = site.ok("alice", &["workflows", "show", "deploy"]);
    assert!(shown.contains("\n  service      one of api | web\n"), "{shown}");
    assert!(
        shown.contains("\n  version      string matching ^\\d+\\.\\d+\\.\\d+$ — A release such as 1.4.2\n"),
        "{shown}"
    );
    assert!(
        shown.contains("\nin words\n  docket request \"deploy {service} {version} to {environment}\"\n"),
        "{shown}"
    );
    assert!(shown.ends_with("request it\n  docket request deploy service=… version=… environment=…\n"), "{shown}");
    assert_eq!(site.json("alice", &["workflows"])["workflows"].as_array().unwrap().len(), 3);
    assert_eq!(site.json("alice", &["workflows", "show", "deploy"])["params"][0]["choices"][1]["value"], "web");
    let out = site.run("alice", &["workflows", "show", "deploi"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "docket: there is no workflow `deploi`\n");
}

#[test]
fn request_in_words_then_wait_comment_amend_and_approve() {
    let site = Site::start();
    // In words, quoted or not: the same matcher as Slack and Teams.
    let said = site.ok("alice", &["request", "deploy api 1.4.2 to prod"]);
    assert!(
        said.starts_with(
            "“deploy {service} {version} to {environment}”: docket request deploy environment=prod service=api \
             version=1.4.2\nDKT-1 opened: Deploy a service (deploy)\n"
        ),
        "{said}"
    );
    let said = site.ok("alice", &["request", "deploy", "web", "2.0.0", "to", "staging"]);
    assert!(said.contains("\nDKT-2 opened: "), "{said}");
    let out = site.run("alice", &["request", "deploy", "api", "1.4", "to", "prod"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("docket: “deploy api 1.4 to prod” reads as deploy ("),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("\n  version: "), "{}", text(&out.stderr));
    let out = site.run("alice", &["request", "make", "me", "a", "coffee"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("docket: no workflow matches “make me a coffee”"), "{}", text(&out.stderr));
    let created = site.json("alice", &["request", "deploy", "service=web", "version=2.0.1", "environment=prod"]);
    assert_eq!(created["id"], "DKT-3");

    // What waits for bob, and not for alice, who asked.
    let waiting = site.ok("bob", &["waiting"]);
    let ids: Vec<&str> = waiting.lines().skip(1).filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(&ids[..2], ["DKT-3", "DKT-1"], "{waiting}");
    assert!(waiting.ends_with("`docket show ID` shows a plan; `docket approve ID` approves it\n"), "{waiting}");
    assert_eq!(site.ok("alice", &["waiting"]), "nothing waits for your approval\n");
    assert_eq!(site.json("bob", &["waiting"])["tickets"][1]["id"], "DKT-1");

    let said = site.ok("bob", &["comment", "DKT-1", "which", "change", "is", "this?"]);
    assert_eq!(said, "DKT-1: comment added; waiting for approval: stage sre (1 of group:sre)\n");
    assert_eq!(site.json("bob", &["comment", "DKT-1", "thanks"])["comments"][1]["text"], "thanks");
    site.ok("bob", &["request-changes", "DKT-1", "--reason", "ship 1.4.3, it has the fix"]);
    let said = site.ok("alice", &["amend", "DKT-1", "version=1.4.3"]);
    assert!(said.starts_with("DKT-1 amended: version=1.4.3\nstate      awaiting_approval\n"), "{said}");
    let ticket = site.json("alice", &["show", "DKT-1"]);
    assert_eq!(ticket["params"], serde_json::json!({"service": "api", "version": "1.4.3", "environment": "prod"}));
    let amended = site.json("alice", &["amend", "DKT-1", "service=web"]);
    assert_eq!(amended["params"]["version"], "1.4.3", "the parameters not named keep their values");

    // While it waits, show says who must approve by when; once it ran, how it ended.
    let shown = site.ok("alice", &["show", "DKT-1"]);
    assert!(shown.contains("\nrespond by "), "{shown}");
    assert!(shown.contains("  · sre  1 of group:sre; needs 1 more\n"), "{shown}");
    let approved = site.json("bob", &["approve", "DKT-1"]);
    assert_eq!(approved["reviews"].as_array().unwrap().last().unwrap()["verdict"], "approve");
    site.wait_for_state("DKT-1", "succeeded");
    let shown = site.ok("alice", &["show", "DKT-1"]);
    assert!(shown.contains("\nstate      succeeded\n"), "{shown}");
    assert!(shown.contains("\nended      "), "{shown}");
    assert!(!shown.contains("respond by") && !shown.contains("start by") && !shown.contains("needs 1 more"), "{shown}");
    assert!(shown.contains("approval   policy prod-needs-sre required approval\n"), "{shown}");
    let listed = site.json("alice", &["list", "--state", "succeeded"]);
    assert!(listed["tickets"].as_array().unwrap().iter().any(|t| t["id"] == "DKT-1"), "{listed}");
    let cancelled = site.json("alice", &["cancel", "DKT-3"]);
    assert_eq!(cancelled["state"], "cancelled");
}

#[test]
fn a_failed_ticket_is_retried_from_the_terminal() {
    let site = Site::start();
    let out = site.run("alice", &["request", "flaky", "--wait"]);
    assert_eq!(out.status.code(), Some(1), "{}{}", text(&out.stdout), text(&out.stderr));
    let shown = site.ok("alice", &["show", "DKT-1"]);
    assert!(shown.contains("\nstate      failed  — failed at step 1 attempt (exit 3)"), "{shown}");
    let said = site.ok("alice", &["retry", "DKT-1"]);
    assert!(said.starts_with("DKT-1 retried: planned again\n"), "{said}");
    site.wait_for_state("DKT-1", "succeeded");
    let retried = site.json("alice", &["show", "DKT-1"]);
    assert_eq!(retried["runs"].as_array().unwrap().len(), 2);
    let out = site.run("alice", &["retry", "DKT-1", "--json"]);
    assert_eq!(out.status.code(), Some(1), "a succeeded ticket is not retried");
}

#[test]
fn every_client_command_has_help_and_json() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        "request",
        "workflows",
        "show",
        "list",
        "waiting",
        "approve",
        "reject",
        "request-changes",
        "amend",
        "comment",
        "cancel",
        "retry",
    ] {
        let out = docket(dir.path()).args([command, "--help"]).output().unwrap();
        assert!(out.status.success(), "{command} --help");
        let help = text(&out.stdout);
        assert!(help.contains("Usage: docket "), "{command}: {help}");
        assert!(help.contains("--json"), "`{command}` has --json:\n{help}");
    }
    let out = docket(dir.path()).args(["workflows", "show", "--help"]).output().unwrap();
    assert!(text(&out.stdout).contains("--json"), "{}", text(&out.stdout));
}

/// Regression: `logs --follow` started mid-run printed "running step 2/2" before step 1's lines.
#[test]
fn a_log_followed_mid_run_reads_in_the_run_s_own_order() {
    let site = Site::start();
    site.ok("alice", &["request", "two-steps"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shown = site.ok("alice", &["logs", "DKT-1"]);
        if shown.contains("two-started") {
            break;
        }
        assert!(Instant::now() < deadline, "the second step never started:\n{shown}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Log lines and status lines in one file, as a terminal shows them.
    let path = site.dir().join("followed.txt");
    let file = std::fs::File::create(&path).unwrap();
    let token = &site.tokens[0].1;
    let mut follower = docket(site.dir())
        .args(["logs", "DKT-1", "--follow", "--url", &site.base, "--token", token])
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    // The second step goes on only once the follower shows it running.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&path).unwrap().contains("▸ running step 2/2") {
        assert!(Instant::now() < deadline, "never shown running:\n{}", std::fs::read_to_string(&path).unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(site.dir().join("go"), "").unwrap();
    let status = follower.wait().unwrap();
    let followed = std::fs::read_to_string(&path).unwrap();
    assert!(status.success(), "{followed}");
    let at = |needle: &str| followed.find(needle).unwrap_or_else(|| panic!("no `{needle}` in:\n{followed}"));
    assert!(at("first  │ one-a") < at("first  │ one-b") && at("first  │ one-b") < at("first  │ one-c"), "{followed}");
    assert!(at("first  │ one-c") < at("▸ running step 2/2 second"), "step 1's lines come first:\n{followed}");
    assert!(at("second │ two-started") < at("second │ two-done"), "{followed}");
    assert!(followed.ends_with("▸ succeeded\n"), "{followed}");
    assert_eq!(followed.matches("one-a").count(), 1, "each line once:\n{followed}");
}

/// A pipeline that runs `docket request` again with its own key gets the ticket its first run
/// opened, not a second one; the same key with other values is refused.
#[test]
fn a_request_run_again_with_its_key_opens_one_ticket() {
    let site = Site::start();
    let args =
        ["request", "deploy", "service=web", "version=2.0.1", "environment=staging", "--idempotency-key", "ci-7"];
    let first = site.json("alice", &args);
    let again = site.json("alice", &args);
    assert_eq!(first["id"], again["id"]);
    let said = site.ok("alice", &args);
    assert!(said.starts_with(&format!("{} opened before with this key: ", first["id"].as_str().unwrap())), "{said}");
    let listed = site.json("alice", &["list"]);
    assert_eq!(listed["tickets"].as_array().unwrap().len(), 1, "{listed}");
    let other =
        ["request", "deploy", "service=web", "version=2.0.2", "environment=staging", "--idempotency-key", "ci-7"];
    let out = site.run("alice", &other);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("Idempotency-Key was sent before with another request"),
        "{}",
        text(&out.stderr)
    );
}
