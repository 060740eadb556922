//! Steps started through the step supervisor (`docket __supervise`), as `docket serve` starts
//! them. The `exec` scenarios of `docket-steps` (its `tests/steps/exec*.rs`, included here
//! unchanged) run again with every program supervised: output, exit codes, signals, timeouts,
//! cancellation and leftovers behave as when started directly. `supervisor` tests what only
//! the supervisor does: the group dies when the server's end of the socket closes (the server
//! died, however), a supervisor killed on its own takes its step with it, misuse starts
//! nothing, and the group's identity is recorded right.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

#[path = "../../../docket-steps/tests/steps/exec.rs"]
mod exec;
#[path = "../../../docket-steps/tests/steps/exec_kill.rs"]
mod exec_kill;
mod supervisor;
#[path = "../../../docket-steps/tests/steps/support.rs"]
mod support;

/// `docket-steps`' test folder, where the scenarios find their scripts.
const STEPS_TESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docket-steps/tests/steps");

/// The `exec` runner the scenarios run: every program through `docket __supervise`.
fn exec_runner() -> docket_steps::ExecRunner {
    docket_steps::ExecRunner::new().launch(docket_steps::Launch::supervised(env!("CARGO_BIN_EXE_docket")))
}
