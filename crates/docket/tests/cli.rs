//! The `docket` binary end to end: exit codes and what people read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::path::PathBuf;
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
    assert_eq!(stdout(&out), "examples/docket.yaml: ok — 3 workflows, 5 people, 4 policy rules\n");
}

#[test]
fn every_error_is_printed_with_its_place_and_the_exit_code_is_one() {
    let out = docket(&["check", "--config", "crates/docket-config/tests/broken/cel/docket.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let errors: Vec<&str> =
        text.lines().filter(|l| l.starts_with("crates/docket-config/tests/broken/cel/docket.yaml:")).collect();
    assert_eq!(errors.len(), 7, "{text}");
    assert!(
        text.contains("docket.yaml:22:57: invalid condition: `workflow` has no field `rsk` (did you mean `risk`?)")
    );
    assert!(text.ends_with("7 errors in crates/docket-config/tests/broken/cel/docket.yaml\n"), "{text}");
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
