//! The configuration files as the server reads them, with every plug-in it has: loads the
//! example configuration and every broken case under `tests/broken/`, snapshotting the full list
//! of errors, and feeds random and mutated files to the parsers to show they never panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::path::{Path, PathBuf};

use docket_config::plugin::Plugins;
use docket_config::{Diagnostics, Source};
use docket_core::{GroupId, PersonId, RotationId, WorkflowId};

/// The loader's entry points with the server's plug-ins.
fn load(path: &Path, env: docket_config::Env<'_>) -> Result<docket_config::Loaded, Diagnostics> {
    docket_config::load(path, env, &plugins())
}

fn load_catalog(dir: &Path, env: docket_config::Env<'_>) -> Result<docket_core::Catalog, Diagnostics> {
    docket_config::load_catalog(dir, env, &plugins())
}

fn parse(
    config: &Source,
    workflows: &[Source],
    env: docket_config::Env<'_>,
) -> Result<docket_config::Loaded, Diagnostics> {
    docket_config::parse(config, workflows, env, &plugins())
}

fn parse_config_str(name: &str, text: &str, env: docket_config::Env<'_>) -> Result<docket_config::Loaded, Diagnostics> {
    docket_config::parse_config_str(name, text, env, &plugins())
}

fn parse_workflow_str(
    name: &str,
    text: &str,
    env: docket_config::Env<'_>,
) -> Result<docket_core::Workflow, Diagnostics> {
    docket_config::parse_workflow_str(name, text, env, &plugins())
}

fn plugins() -> Plugins {
    docket_plugins::plugins()
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The environment the cases run in: the Slack and Teams secrets are set, nothing else.
fn env(name: &str) -> Option<String> {
    let value = match name {
        "SLACK_SIGNING_SECRET" => "8f742231b10e8888abcd99yyyzzz85a5",
        "SLACK_BOT_TOKEN" => "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
        "SLACK_APP_TOKEN" => "xapp-1-A0123456789-0123456789012-abcdef",
        "TEAMS_APP_PASSWORD" => "teams~password~0123456789",
        "DB_PASSWORD" => "s3cret-db-password",
        "LEGACY_DATABASE_URL" => "oracle://docket:hunter2hunter2@db/docket",
        _ => return None,
    };
    Some(value.to_owned())
}

/// A case's errors (and warnings), with paths relative to the case folder.
fn render(case: &str) -> String {
    let dir = tests_dir().join("broken").join(case);
    let config = dir.join("docket.yaml");
    let result = if config.exists() {
        load(&config, &env).map(|_| ())
    } else {
        load_catalog(&dir.join("workflows"), &env).map(|_| ())
    };
    let Err(problems) = result else { panic!("case `{case}` loaded without errors") };
    show(&problems.relative_to(&dir))
}

fn show(problems: &Diagnostics) -> String {
    let mut out = problems.to_string();
    if !problems.warnings().is_empty() {
        out.push_str("\n\nwarnings:\n");
        out.push_str(&problems.warnings().iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"));
    }
    out
}

macro_rules! broken {
    ($($test:ident => $case:literal,)*) => {
        $(
            #[test]
            fn $test() {
                insta::assert_snapshot!($case, render($case));
            }
        )*
        const CASES: &[&str] = &[$($case),*];
    };
}

broken! {
    yaml_syntax => "yaml-syntax",
    unknown_keys => "unknown-keys",
    wrong_types => "wrong-types",
    duplicate_workflow_ids => "duplicate-workflow-ids",
    duplicate_names => "duplicate-names",
    invalid_regex => "invalid-regex",
    cel => "cel",
    unknown_placeholders => "unknown-placeholders",
    example_captures => "example-captures",
    unknown_approvers => "unknown-approvers",
    bad_defaults => "bad-defaults",
    missing_env => "missing-env",
    bad_values => "bad-values",
    step_actions => "step-actions",
    policy_outcomes => "policy-outcomes",
    unknown_database => "unknown-database",
    yaml_features => "yaml-features",
    empty => "empty",
    design_as_written => "design-as-written",
    missing_catalog => "missing-catalog",
    not_utf8 => "not-utf8",
    web_oidc => "web-oidc",
    policy_params_are_checked_beside_a_broken_workflow => "policy-params-beside-broken-workflow",
    shell_templates => "shell-templates",
    choice_aliases => "choice-aliases",
    agents => "agents",
}

#[test]
fn every_broken_case_has_a_test() {
    let mut folders: Vec<String> = std::fs::read_dir(tests_dir().join("broken"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut cases: Vec<String> = CASES.iter().map(|c| (*c).to_owned()).collect();
    cases.sort();
    assert_eq!(folders, cases);
}

#[path = "config/good.rs"]
mod good;
#[path = "config/no_panic.rs"]
mod no_panic;
#[path = "config/phrasings.rs"]
mod phrasings;
#[path = "config/ticketing.rs"]
mod ticketing;
