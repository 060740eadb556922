//! The server's own log: plain text without escape codes when standard error is not a terminal,
//! and one JSON object per line with `--log-format json` or `log.format: json`, each request
//! inside a span that names its id.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

const CONFIG: &str =
    "server: { listen: 127.0.0.1:0 }\nstorage: { url: sqlite://./docket.db }\npeople: [{ id: alice }]\n";

/// Starts `docket serve` with `extra` arguments and the `log` line of the configuration, reads
/// its log until it is ready, asks for `/healthz` with a request id, and stops it.
fn serve_log(extra: &[&str], log: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("docket.yaml"), format!("{CONFIG}{log}")).unwrap();
    std::fs::create_dir(dir.path().join("workflows")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_docket"))
        .args(["serve", "--config", "docket.yaml"])
        .args(extra)
        .current_dir(dir.path())
        .env_remove("DOCKET_LOG_FORMAT")
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "info,docket_app=debug")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let ready = line.contains("docket is ready");
        seen.push(line);
        if ready {
            break;
        }
    }
    let ready = seen.last().cloned().unwrap_or_default();
    let addr = ready
        .split(|c: char| c.is_whitespace() || c == '"' || c == '=')
        .find(|word| word.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {seen:?}"))
        .to_owned();
    let response = reqwest::blocking::Client::new()
        .get(format!("http://{addr}/healthz"))
        .header("x-request-id", "req-42")
        .send()
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-42");
    terminate(child.id());
    for line in lines {
        seen.push(line.unwrap());
    }
    child.wait().unwrap();
    seen
}

fn terminate(pid: u32) {
    Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
}

#[test]
fn text_logs_have_no_escape_codes_off_a_terminal() {
    let lines = serve_log(&[], "");
    assert!(lines.iter().any(|l| l.contains("docket is ready")), "{lines:#?}");
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:#?}");
}

#[test]
fn json_logs_are_one_object_per_line_from_the_flag_or_the_configuration() {
    for (flag, log) in [(&["--log-format", "json"][..], ""), (&[][..], "log: { format: json }\n")] {
        let lines = serve_log(flag, log);
        let from_config = flag.is_empty();
        // With the configuration's choice, the lines before it was read are text.
        let json: Vec<serde_json::Value> = lines
            .iter()
            .skip_while(|l| from_config && !l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let ready = json.iter().find(|v| v["message"] == "docket is ready").unwrap_or_else(|| panic!("{lines:#?}"));
        assert_eq!(ready["level"], "INFO");
        assert!(ready["addr"].as_str().unwrap().starts_with("127.0.0.1:"), "{ready}");
        assert!(json.iter().any(|v| v["message"] == "stopping: waiting for steps in progress"), "{lines:#?}");
    }
}

#[test]
fn a_bad_log_format_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("docket.yaml"), format!("{CONFIG}log: {{ format: xml }}\n")).unwrap();
    std::fs::create_dir(dir.path().join("workflows")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_docket"))
        .args(["check", "--config", "docket.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("docket.yaml:4:16: `xml` is not a log format (write text or json)"), "{said}");
}
