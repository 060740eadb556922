//! An agent's token across two `docket serve` replicas on one PostgreSQL database, and
//! `docket mcp` as an MCP client starts it (stdin and stdout, one JSON-RPC message a line):
//! the token works on both replicas and through `docket mcp`; revoked through one replica's
//! REST API by the agent's owner, it is refused at once by the other replica, over REST and MCP,
//! and by the `docket mcp` already running; each failed use is audited with the reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod support;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{ChildStdout, Stdio};

use serde_json::{Value, json};
use support::postgres::TestDatabase;
use support::{Server, docket, free_port, text, wait_ready};

fn config(database: &str) -> String {
    format!(
        r#"server: {{ listen: 127.0.0.1:0 }}
storage: {{ url: "{database}" }}
catalog: ./workflows
people:
  - {{ id: alice, name: Alice Ng, groups: [sre] }}
  - {{ id: bob, name: Bob Ruiz, groups: [sre] }}
agents:
  - {{ id: deploy-bot, owner: bob, may_request: [deploy] }}
policies:
  - {{ name: prod, when: 'params.env == "prod"', stages: [{{ name: sre, from: [group:sre], count: 1 }}] }}
  - {{ name: rest, when: "true", auto_approve: true }}
"#
    )
}

const DEPLOY: &str = "id: deploy\ntitle: Deploy\nparams:\n  - { name: env, type: choice, choices: [staging, prod] }\nsteps:\n  - { name: go, exec: [echo, deployed] }\n";

fn serve(dir: &Path, port: u16) -> Server {
    let log = std::fs::File::create(dir.join(format!("serve-{port}.log"))).unwrap();
    let child = docket(dir)
        .args(["serve", "--config", "docket.yaml", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Server(child)
}

fn made(dir: &Path, args: &[&str]) -> String {
    let out = docket(dir).args(["token", "create", "--config", "docket.yaml"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

fn me(base: &str, token: &str) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new().get(format!("{base}/api/v1/me")).bearer_auth(token).send().unwrap()
}

fn mcp_post(base: &str, token: &str) -> reqwest::blocking::Response {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "test", "version": "0" } } });
    reqwest::blocking::Client::new()
        .post(format!("{base}/mcp"))
        .bearer_auth(token)
        .header("Accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .unwrap()
}

/// Reads one line of `docket mcp`'s stdout: every line must be a JSON-RPC message.
fn read(out: &mut BufReader<ChildStdout>) -> Value {
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout carries only JSON-RPC ({e}): {line:?}"))
}

/// Reads until the answer to request `id`, skipping notifications.
fn answer(out: &mut BufReader<ChildStdout>, id: u64) -> Value {
    loop {
        let message = read(out);
        if message["id"] == id {
            return message;
        }
        assert!(message.get("method").is_some(), "an answer to another request: {message}");
    }
}

#[test]
fn a_revoked_agent_token_is_refused_at_once_by_every_replica_and_by_docket_mcp() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("docket.yaml"), config(&database.url)).unwrap();
    std::fs::create_dir(dir.path().join("workflows")).unwrap();
    std::fs::write(dir.path().join("workflows/deploy.yaml"), DEPLOY).unwrap();
    let (one, two) = (free_port(), free_port());
    let _first = serve(dir.path(), one);
    let (base_one, base_two) = (format!("http://127.0.0.1:{one}"), format!("http://127.0.0.1:{two}"));
    wait_ready(&base_one);
    let _second = serve(dir.path(), two);
    wait_ready(&base_two);

    let bot = made(dir.path(), &["--agent", "deploy-bot", "--name", "claude"]);
    let bob = made(dir.path(), &["--person", "bob"]);
    std::fs::write(dir.path().join("bot.token"), format!("{bot}\n")).unwrap();
    for base in [&base_one, &base_two] {
        assert_eq!(me(base, &bot).status(), 200, "{base}");
        assert_eq!(mcp_post(base, &bot).status(), 200, "{base}");
    }

    // `docket mcp`, as an MCP client starts it, forwarding to the second replica.
    let mut mcp = docket(dir.path())
        .args(["mcp", "--config", "docket.yaml", "--token-file", "bot.token", "--url", &format!("{base_two}/mcp")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = mcp.stdin.take().unwrap();
    let mut stdout = BufReader::new(mcp.stdout.take().unwrap());
    let mut send = |message: Value| {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    };
    send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "desktop", "version": "1" } } }));
    let initialized = answer(&mut stdout, 1);
    assert_eq!(initialized["result"]["protocolVersion"], "2025-11-25", "{initialized}");
    assert_eq!(initialized["result"]["serverInfo"]["name"], "docket");
    send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
    send(json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }));
    let tools = answer(&mut stdout, 2);
    let names: Vec<&str> =
        tools["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"request") && names.contains(&"wait_for_ticket"), "{names:?}");
    send(json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "request", "arguments": { "workflow": "deploy", "params": { "env": "prod" }, "reason": "hotfix" } } }));
    let requested = answer(&mut stdout, 3);
    let ticket = &requested["result"]["structuredContent"];
    assert_eq!(ticket["requested_by"], "deploy-bot (agent of Bob Ruiz)", "{requested}");
    assert_eq!(ticket["state"], "awaiting_approval");

    // bob revokes his agent's token through the first replica.
    let listed: Value = reqwest::blocking::Client::new()
        .get(format!("{base_one}/api/v1/tokens"))
        .bearer_auth(&bob)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = listed["tokens"].as_array().unwrap().iter().find(|t| t["agent"] == "deploy-bot").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = reqwest::blocking::Client::new()
        .post(format!("{base_one}/api/v1/tokens/{id}/revoke"))
        .bearer_auth(&bob)
        .send()
        .unwrap();
    assert_eq!(revoked.status(), 200);

    // At once, on the other replica, over REST and MCP, and through the running `docket mcp`.
    let refused = me(&base_two, &bot);
    assert_eq!(refused.status(), 401);
    let said: Value = refused.json().unwrap();
    assert!(said["error"]["message"].as_str().unwrap().contains("was revoked"), "{said}");
    let refused = mcp_post(&base_two, &bot);
    assert_eq!(refused.status(), 401);
    assert!(refused.headers()["www-authenticate"].to_str().unwrap().contains("resource_metadata="));
    send(
        json!({ "jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": { "name": "list_workflows", "arguments": {} } }),
    );
    let after = answer(&mut stdout, 4);
    assert!(after.get("error").is_some(), "the revoked token's call fails: {after}");
    let _ = mcp.kill();
    let _ = mcp.wait();

    // Every failed use is in the audit with the token and the reason.
    let out = docket(dir.path()).args(["audit", "export", "--config", "docket.yaml"]).output().unwrap();
    let records: Vec<Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let failed: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"].as_str().unwrap().ends_with(".authentication_failed"))
        .filter(|r| r["details"]["detail"].as_str().unwrap().contains(&id))
        .collect();
    assert!(failed.iter().any(|r| r["action"] == "api.authentication_failed"), "{records:#?}");
    assert!(failed.iter().any(|r| r["action"] == "mcp.authentication_failed"), "{records:#?}");
    let requested = records.iter().find(|r| r["action"] == "ticket.requested").unwrap();
    assert_eq!(requested["actor"], "agent:deploy-bot for bob");
    assert_eq!(requested["details"]["token"], id.as_str());
}
