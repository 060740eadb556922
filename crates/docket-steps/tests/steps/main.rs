//! The runners against real processes and a real HTTP server on loopback.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

/// This folder, where the scenarios find their scripts.
const STEPS_TESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/steps");

/// The `exec` runner the scenarios run: programs started directly. (The `docket` crate's
/// `supervised` test runs the same scenarios with programs started through its supervisor.)
fn exec_runner() -> docket_steps::ExecRunner {
    docket_steps::ExecRunner::new()
}

mod exec;
mod exec_kill;
mod http;
mod support;
mod wait;

#[test]
fn the_default_runners_cover_exec_wait_and_http() {
    let kinds: Vec<&str> =
        docket_steps::default_runners(docket_steps::Launch::Direct).unwrap().iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, ["exec", "wait", "http"]);
}
