//! The runners against real processes and a real HTTP server on loopback.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

mod exec;
mod exec_kill;
mod http;
mod support;
mod wait;

#[test]
fn the_default_runners_cover_exec_wait_and_http() {
    let kinds: Vec<&str> = docket_steps::default_runners().unwrap().iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, ["exec", "wait", "http"]);
}
