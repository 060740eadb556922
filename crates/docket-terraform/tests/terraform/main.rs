//! End-to-end tests of `terraform` steps through the app, against the test kit's stand-in for
//! the `terraform` command line. The stand-in is this very executable: linked into each test's
//! folder as `terraform`, it is started by the runner, and `main` hands such calls to the
//! stand-in instead of running tests — which is why this target has a harness of its own.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code: a panic is a failed test, and a harness prints its results"
)]

mod flows;
mod real;
mod support;

use std::process::ExitCode;

/// Every test, by name.
const TESTS: &[(&str, fn())] = &[
    ("plan_shows_structured_changes_and_keeps_the_file", flows::plan_shows_structured_changes_and_keeps_the_file),
    ("deletes_need_the_security_stage", flows::deletes_need_the_security_stage),
    ("an_all_no_op_plan_is_approved_and_applied", flows::an_all_no_op_plan_is_approved_and_applied),
    ("a_denied_request_never_runs_its_dry_run", flows::a_denied_request_never_runs_its_dry_run),
    ("the_run_applies_exactly_the_saved_plan", flows::the_run_applies_exactly_the_saved_plan),
    ("a_failure_carries_terraforms_reason", flows::a_failure_carries_terraforms_reason),
    ("cancel_interrupts_the_apply", flows::cancel_interrupts_the_apply),
    ("a_stale_plan_fails_and_a_retry_plans_again", flows::a_stale_plan_fails_and_a_retry_plans_again),
    ("an_unknown_format_version_is_refused", flows::an_unknown_format_version_is_refused),
    ("workspace_and_vars_reach_terraform", flows::workspace_and_vars_reach_terraform),
    ("a_changed_plan_file_is_not_applied", flows::a_changed_plan_file_is_not_applied),
    ("a_plan_of_500_changes", flows::a_plan_of_500_changes),
    (
        "the_real_terraform_plans_applies_and_refuses_a_stale_plan",
        real::the_real_terraform_plans_applies_and_refuses_a_stale_plan,
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if docket_testkit::terraform::is_called_as_stand_in(args.first().map_or("", String::as_str)) {
        let workspace = std::env::var("TF_WORKSPACE").ok();
        let code = docket_testkit::terraform::main(args.get(1..).unwrap_or_default(), workspace.as_deref());
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if args.iter().any(|a| a == "--list") {
        for (name, _) in TESTS {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let exact = args.iter().any(|a| a == "--exact");
    let filters: Vec<&String> = args.iter().skip(1).filter(|a| !a.starts_with('-')).collect();
    let chosen: Vec<_> = TESTS
        .iter()
        .filter(|(name, _)| {
            filters.is_empty()
                || filters.iter().any(|f| if exact { *name == f.as_str() } else { name.contains(f.as_str()) })
        })
        .collect();
    println!("\nrunning {} tests", chosen.len());
    let mut failed = Vec::new();
    for (name, test) in &chosen {
        let outcome = std::panic::catch_unwind(test);
        println!("test {name} ... {}", if outcome.is_ok() { "ok" } else { "FAILED" });
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    let passed = chosen.len() - failed.len();
    println!(
        "\ntest result: {}. {passed} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len()
    );
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
