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

/// `run_as` in a workflow or in the configuration is a user name, or an error at its line; the
/// configuration's is every workflow's unless the workflow names its own.
#[test]
fn run_as_is_a_user_name_and_the_configurations_is_the_default() {
    use docket_config::Source;
    let config = "storage: { url: sqlite://./d.db }\nrun_as: nobody\npeople: [{ id: alice }]\n";
    let own = "id: own\ntitle: Own\nrun_as: deployer\nsteps: [{ name: who, exec: [id] }]\n";
    let defaulted = "id: defaulted\ntitle: Defaulted\nsteps: [{ name: who, exec: [id] }]\n";
    let none = |_: &str| None;
    let sources = [Source::new("own.yaml", own), Source::new("defaulted.yaml", defaulted)];
    let loaded =
        docket_config::parse(&Source::new("docket.yaml", config), &sources, &none, &docket_steps::kinds()).unwrap();
    let run_as = |id: &str| loaded.catalog.get(&id.into()).unwrap().run_as.clone();
    assert_eq!(run_as("own").as_deref(), Some("deployer"));
    assert_eq!(run_as("defaulted").as_deref(), Some("nobody"));

    let bad_config = Source::new("docket.yaml", config.replace("run_as: nobody", "run_as: \"Bad User\""));
    let bad_workflow = Source::new("own.yaml", own.replace("run_as: deployer", "run_as: ../etc"));
    let errors =
        docket_config::parse(&bad_config, &[bad_workflow], &none, &docket_steps::kinds()).unwrap_err().to_string();
    assert!(errors.contains("docket.yaml:2:9: `Bad User` is not a user name"), "{errors}");
    assert!(errors.contains("own.yaml:3:9: `../etc` is not a user name"), "{errors}");
}
