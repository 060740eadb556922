//! The `docket` binary end to end: exit codes and what people read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn docket(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docket"))
        .args(args)
        .current_dir(repo())
        .env_remove("DOCKET_CONFIG")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_example_configuration_checks_clean() {
    let out = docket(&["check", "--config", "examples/docket.yaml"]);
    assert!(out.status.success(), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout(&out), "examples/docket.yaml: ok — 9 workflows, 5 people, 6 policy rules\n");
}

#[test]
fn every_error_is_printed_with_its_place_and_the_exit_code_is_one() {
    let out = docket(&["check", "--config", "crates/docket-plugins/tests/broken/cel/docket.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let errors: Vec<&str> =
        text.lines().filter(|l| l.starts_with("crates/docket-plugins/tests/broken/cel/docket.yaml:")).collect();
    assert_eq!(errors.len(), 7, "{text}");
    assert!(
        text.contains("docket.yaml:22:57: invalid condition: `workflow` has no field `rsk` (did you mean `risk`?)")
    );
    assert!(text.ends_with("7 errors in crates/docket-plugins/tests/broken/cel/docket.yaml\n"), "{text}");
}

#[test]
fn a_missing_file_is_an_error_not_a_crash() {
    let out = docket(&["check", "--config", "no/such/docket.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("no/such/docket.yaml"), "{}", stdout(&out));
    assert!(out.stderr.is_empty() || !String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn the_bench_harness_measures_every_figure() {
    let out = docket(&["bench", "--tickets", "40", "--rounds", "1", "--json"]);
    let said = stdout(&out);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    for figure in [
        "end-to-end tickets (auto, wait 0s)",
        "request → succeeded p99 (one at a time)",
        "approve → first step's process started p99",
        "40 sequential exec [true] steps",
        "exec [true] step beyond its process (per step)",
        "idle RSS",
        "start-up to ready",
    ] {
        assert!(said.contains(figure), "{figure} missing from:\n{said}");
    }
    assert!(said.contains("\"value\""), "--json prints the figures:\n{said}");
}

#[test]
fn the_slack_bench_sends_signed_requests_to_a_real_server_and_checks_what_was_stored() {
    let out = docket(&["bench", "--target", "slack", "--rate", "100", "--duration", "1", "--rounds", "1", "--json"]);
    let said = stdout(&out);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    let json = said.find("\n[").map(|at| &said[at..]).unwrap_or_else(|| panic!("no JSON in:\n{said}"));
    let figures: Vec<serde_json::Value> = serde_json::from_str(json).unwrap();
    let value = |name: &str| {
        let figure =
            figures.iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("{name} missing from:\n{said}"));
        figure["value"].as_f64().unwrap()
    };
    for latency in ["slack command → HTTP 200 p99", "slack submit → ticket stored, 200 p99"] {
        assert!(value(latency) > 0.0, "{latency} was measured:\n{said}");
    }
    assert_eq!(value("slack command errors"), 0.0, "{said}");
    assert_eq!(value("slack submit errors"), 0.0, "{said}");
    assert_eq!(value("slack acked tickets stored after kill -9"), 100.0, "{said}");
    assert!(value("slack modals opened (views.open budget)") >= 1.0, "{said}");
}

/// `docket` run in `dir`, with none of the variables the tests' configurations refer to set.
fn docket_in(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docket"));
    command.args(args).current_dir(dir).env_remove("DOCKET_CONFIG");
    for name in ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "OIDC_CLIENT_SECRET", "DATABASE_URL"] {
        command.env_remove(name);
    }
    command.output().unwrap()
}

/// A folder with `docket.yaml` and one workflow.
fn folder(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("docket.yaml"), config).unwrap();
    std::fs::create_dir(dir.path().join("workflows")).unwrap();
    let workflow = "id: deploy\ntitle: Deploy\nparams: [{ name: environment }]\n\
                    steps: [{ name: deploy, exec: [/bin/true, \"{{environment}}\"] }]\n";
    std::fs::write(dir.path().join("workflows/deploy.yaml"), workflow).unwrap();
    dir
}

/// Regression: `when: '1 + 1 + … + 1 > 0'` with 3,000 terms passed `docket check` and then
/// aborted `docket serve` with a stack overflow on the first request; 50,000 terms aborted
/// `docket check` itself; deep brackets gave a debug dump of the parser's error.
#[test]
fn a_deep_condition_is_an_error_with_its_place_not_an_abort() {
    let chain = |n: usize| format!("{} > 0", vec!["1"; n].join(" + "));
    let parens = format!("{}true{}", "(".repeat(3_000), ")".repeat(3_000));
    let config = format!(
        "people: [{{ id: alice }}]\npolicies:\n  - name: chain\n    when: {}\n    auto_approve: true\n  \
         - name: long-chain\n    when: {}\n    auto_approve: true\n  - name: brackets\n    when: {parens}\n    \
         auto_approve: true\n",
        chain(3_000),
        chain(50_000),
    );
    let dir = folder(&config);
    let out = docket_in(dir.path(), &["check", "--config", "docket.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    let hint = "(every operator, call and bracket nests a level (`&&` and `||` few): split it into simpler \
                conditions or rules)";
    // `    when: ` is ten characters; the 65th `+` is 258 bytes into a chain, the 65th `(` 64.
    assert_eq!(
        stdout(&out),
        format!(
            "docket.yaml:4:269: invalid condition: it nests 3,000 levels deep; the limit is 64 {hint}\n\
             docket.yaml:7:269: invalid condition: it nests 50,000 levels deep; the limit is 64 {hint}\n\
             docket.yaml:10:75: invalid condition: it nests 3,000 levels deep; the limit is 64 {hint}\n\
             3 errors in docket.yaml\n"
        )
    );
    let out = docket_in(dir.path(), &["serve", "--config", "docket.yaml", "--listen", "127.0.0.1:0"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("docket.yaml cannot be loaded (3 errors in docket.yaml):"), "{said}");
    assert!(said.contains("docket.yaml:4:269: invalid condition: it nests 3,000 levels deep"), "{said}");
}

/// Regression: with a workflow file that could not be read, a misspelt `params.NAME` in a policy
/// went unreported, and the summary named only docket.yaml for errors in several files.
#[test]
fn check_counts_errors_per_file_and_still_checks_policy_parameters() {
    let case = "crates/docket-plugins/tests/broken/policy-params-beside-broken-workflow";
    let out = docket(&["check", "--config", &format!("{case}/docket.yaml")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        format!(
            "{case}/docket.yaml:6:18: no workflow has a parameter `enviroment`, so `params.enviroment` never matches \
             (did you mean `environment`? 1 workflow file could not be read, so its parameters are not known)\n\
             {case}/workflows/broken.yaml:2:8: invalid YAML: unclosed quote\n\
             2 errors in 2 files:\n  1 error in {case}/docket.yaml\n  1 error in {case}/workflows/broken.yaml\n"
        )
    );
}

#[test]
fn check_says_one_workflow_not_one_workflows() {
    let dir = folder("people: [{ id: alice }]\npolicies: [{ name: all, when: 'true', auto_approve: true }]\n");
    let out = docket_in(dir.path(), &["check", "--config", "docket.yaml"]);
    assert_eq!(stdout(&out), "docket.yaml: ok — 1 workflow, 1 person, 1 policy rule\n");
}

/// Regression: `docket audit verify` and `export` failed unless every `${VAR}` in the
/// configuration was set, Slack and sign-in secrets included, just to read the database.
#[test]
fn audit_commands_need_only_the_storage_settings() {
    let config = "server: { public_url: http://127.0.0.1:8080 }\n\
                  storage: { url: sqlite://./data/docket.db }\n\
                  people: [{ id: alice, slack: U0ALICE }]\n\
                  policies: [{ name: all, when: 'true', auto_approve: true }]\n\
                  slack: { signing_secret: '${SLACK_SIGNING_SECRET}', bot_token: '${SLACK_BOT_TOKEN}' }\n\
                  web: { oidc: { issuer: https://id.example.com, client_id: docket, client_secret: '${OIDC_CLIENT_SECRET}' } }\n";
    let dir = folder(config);
    let check = docket_in(dir.path(), &["check", "--config", "docket.yaml"]);
    assert!(stdout(&check).contains("environment variable `SLACK_SIGNING_SECRET` is not set"), "the server needs them");
    // A token needs the people, not the chat or sign-in secrets; making one writes an audit record.
    let out = docket_in(dir.path(), &["token", "create", "--config", "docket.yaml", "--person", "alice"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).starts_with("dkt_"));
    assert!(dir.path().join("data/docket.db").exists(), "the SQLite path is relative to the configuration");
    let out = docket_in(dir.path(), &["audit", "verify", "--config", "docket.yaml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).starts_with("audit chain intact: 1 record, head "), "{}", stdout(&out));
    let out = docket_in(dir.path(), &["audit", "export", "--config", "docket.yaml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let records: Vec<serde_json::Value> =
        stdout(&out).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["action"], "token.created");

    // A variable the storage settings do need is named, with its place.
    let dir = folder("storage: { url: '${DATABASE_URL}' }\nslack: { signing_secret: '${SLACK_SIGNING_SECRET}' }\n");
    for command in [&["audit", "verify"][..], &["audit", "export"][..]] {
        let out = docket_in(dir.path(), &[command, &["--config", "docket.yaml"]].concat());
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "docket: docket.yaml cannot be loaded (1 error in docket.yaml):\n  \
             docket.yaml:1:18: environment variable `DATABASE_URL` is not set\n"
        );
    }
}

/// Tokens from the command line: made for a person (with an expiry) and for an agent, listed
/// without their secrets, revoked by id; each step is an audit record naming the operator.
#[test]
fn tokens_are_made_listed_and_revoked_from_the_command_line() {
    let config = "storage: { url: sqlite://./docket.db }\n\
                  people: [{ id: alice, name: Alice Ng }, { id: bob }]\n\
                  agents: [{ id: deploy-bot, owner: alice, may_request: [deploy] }]\n\
                  tokens: { expires: 30d }\n";
    let dir = folder(config);
    let run = |args: &[&str]| {
        let out = docket_in(dir.path(), &[args, &["--config", "docket.yaml"]].concat());
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    };
    let person = run(&["token", "create", "--person", "alice", "--name", "laptop", "--expires", "12h"]);
    let secret = stdout(&person);
    assert!(secret.starts_with("dkt_") && secret.trim().len() == 68, "{secret}");
    let said = String::from_utf8_lossy(&person.stderr).into_owned();
    assert!(said.starts_with("token tok_") && said.contains("for alice made (expires "), "{said}");
    let agent = run(&["token", "create", "--agent", "deploy-bot"]);
    let said = String::from_utf8_lossy(&agent.stderr).into_owned();
    assert!(said.contains("for agent deploy-bot (of alice)"), "{said}");
    let never = run(&["token", "create", "--person", "bob", "--expires", "never"]);
    assert!(String::from_utf8_lossy(&never.stderr).contains("never expires"));

    let listed: Vec<serde_json::Value> =
        stdout(&run(&["token", "list", "--json"])).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(listed.len(), 3);
    assert!(
        listed.iter().all(|t| t["status"] == "active" && t["created_by"].as_str().unwrap().starts_with("operator:"))
    );
    assert!(!listed.iter().any(|t| t.to_string().contains(secret.trim())), "never the secret");
    let laptop = listed.iter().find(|t| t["name"] == "laptop").unwrap();
    let id = laptop["id"].as_str().unwrap();
    let table = stdout(&run(&["token", "list", "--person", "alice"]));
    assert!(
        table.starts_with("ID ") && table.contains("agent deploy-bot (of alice)") && !table.contains(" bob "),
        "{table}"
    );
    assert_eq!(table.lines().count(), 3, "{table}");

    let revoked = stdout(&run(&["token", "revoke", id]));
    assert!(revoked.starts_with(&format!("token {id} for alice revoked (")), "{revoked}");
    let after: Vec<serde_json::Value> =
        stdout(&run(&["token", "list", "--json"])).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let laptop = after.iter().find(|t| t["id"] == id).unwrap();
    assert_eq!(laptop["status"], "revoked");
    let records: Vec<serde_json::Value> =
        stdout(&run(&["audit", "export"])).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let actions: Vec<&str> = records.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["token.created", "token.created", "token.created", "token.revoked"]);
    assert_eq!(records[3]["details"]["id"], id);
    assert!(records[3]["actor"].as_str().unwrap().starts_with("operator:"), "{}", records[3]);

    // Mistakes are said plainly.
    for (args, says) in [
        (&["token", "revoke", "tok_nobody"][..], "token tok_nobody not found"),
        (&["token", "create", "--agent", "ghost"], "`ghost` is not an agent"),
        (&["token", "create", "--person", "alice", "--expires", "soon"], "--expires must be a duration"),
    ] {
        let out = docket_in(dir.path(), &[args, &["--config", "docket.yaml"]].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Regression: `docket --help` opened with the crate's description for developers ("the
/// composition root, the only crate that knows all others…") and listed commands in one heap.
#[test]
fn help_says_what_docket_is_and_groups_the_commands() {
    let out = docket(&["--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    assert!(help.starts_with("Docket runs pre-approved, parameterized workflows"), "{help}");
    assert!(!help.contains("composition root") && !help.contains("crate"), "{help}");
    let at = |heading: &str| help.find(heading).unwrap_or_else(|| panic!("no `{heading}` in:\n{help}"));
    let (server, tickets, admin) = (at("\nServer:\n"), at("\nTickets (on a server"), at("\nAdmin (on the database"));
    assert!(server < tickets && tickets < admin, "{help}");
    let group = |from: usize, to: usize| &help[from..to];
    for command in ["demo", "serve", "check"] {
        assert!(group(server, tickets).contains(&format!("\n  {command} ")), "{command} under Server:\n{help}");
    }
    for command in ["request", "workflows", "show", "waiting", "approve", "amend", "comment", "retry", "logs"] {
        assert!(group(tickets, admin).contains(&format!("\n  {command} ")), "{command} under Tickets:\n{help}");
    }
    for command in ["token", "audit"] {
        assert!(help[admin..].contains(&format!("\n  {command} ")), "{command} under Admin:\n{help}");
    }
    assert!(!help.contains("demo-step"), "the demo's step programs are not for people");
}

/// Regression: `docket audit export | head` ended with "docket: Broken pipe (os error 32)" and
/// status 1. A reader that stops reading ends the command quietly, with status 0.
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    let dir = folder("storage: { url: sqlite://./docket.db }\npeople: [{ id: alice }]\n");
    for _ in 0..3 {
        let out = docket_in(dir.path(), &["token", "create", "--config", "docket.yaml", "--person", "alice"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for args in [
        &["audit", "export", "--config", "docket.yaml"][..],
        &["audit", "verify", "--config", "docket.yaml"],
        &["check", "--config", "docket.yaml"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_docket"))
            .args(args)
            .current_dir(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before anything is written: every write meets a closed pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
}

/// Regression: `argv: [bash, -c, "echo hello {{who}}"]` passed `docket check`, so a parameter
/// reached a shell. It is an error at the placeholder with the fix; the opt-out is a warning.
#[test]
fn check_refuses_a_parameter_in_a_shell_script_and_warns_about_the_opt_out() {
    let dir = folder("people: [{ id: alice }]\npolicies: [{ name: all, when: 'true', auto_approve: true }]\n");
    let greet = "id: greet\ntitle: Greet\nparams: [{ name: who }]\nsteps:\n  - name: hello\n    \
                 exec: [bash, -c, \"echo hello {{who}}\"]\n";
    std::fs::write(dir.path().join("workflows/greet.yaml"), greet).unwrap();
    let out = docket_in(dir.path(), &["check", "--config", "docket.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let said = stdout(&out);
    assert!(
        said.starts_with(
            "workflows/greet.yaml:6:34: `{{who}}` would reach a shell: `bash -c` runs this argument as a command \
             line, so a value such as `x; rm -rf ~` would run as a command (pass it as its own argument after the \
             script and read \"$1\": `[bash, -c, '… \"$1\" …', bash, \"{{who}}\"]`; or set it under `env:` as \
             `WHO: \"{{who}}\"` and read \"$WHO\"; "
        ),
        "{said}"
    );
    assert!(said.ends_with("\n1 error in workflows/greet.yaml\n"), "{said}");

    let allowed = greet.replace(
        "    exec: [bash, -c, \"echo hello {{who}}\"]\n",
        "    exec:\n      argv: [bash, -c, \"echo hello {{who}}\"]\n      allow_shell_template: true\n",
    );
    std::fs::write(dir.path().join("workflows/greet.yaml"), allowed).unwrap();
    let out = docket_in(dir.path(), &["check", "--config", "docket.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        "warning: workflows/greet.yaml:7:36: `{{who}}` reaches `bash -c` as code, allowed by \
         `allow_shell_template: true` (line 8): make sure no value of it can be a command\n\
         docket.yaml: ok — 2 workflows, 1 person, 1 policy rule\n"
    );
}
