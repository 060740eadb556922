//! The example matcher: words in order, captures typed and checked, the best example wins,
//! and a miss offers the closest workflows.

use docket_core::Risk;
use docket_core::catalog::example::Example;
use docket_core::catalog::matcher::{RequestMatch, match_request};
use docket_core::catalog::workflow::Workflow;
use docket_core::id::WorkflowId;
use serde_json::json;

use crate::fixtures::workflow;

fn deploy() -> Workflow {
    let mut w = workflow(Risk::Medium);
    w.examples = ["deploy {service} {version} to {environment}", "ship {service} to {environment}"]
        .iter()
        .map(|e| Example::parse(e).unwrap())
        .collect();
    w
}

fn restart() -> Workflow {
    let mut w = workflow(Risk::Low);
    w.id = WorkflowId::new("restart-pipeline");
    w.title = "Restart a pipeline".into();
    w.examples = vec![Example::parse("restart {service} because {reason}").unwrap()];
    w
}

fn found(text: &str) -> (String, serde_json::Value, Vec<String>) {
    let (d, r) = (deploy(), restart());
    match match_request([&d, &r], text) {
        RequestMatch::Found(m) => (
            m.workflow.id.to_string(),
            serde_json::to_value(&m.params).unwrap(),
            m.problems.iter().map(|(p, _)| p.clone()).collect(),
        ),
        RequestMatch::Closest(ws) => {
            panic!("`{text}` matched nothing; closest {:?}", ws.iter().map(|w| &w.id).collect::<Vec<_>>())
        }
    }
}

fn closest(text: &str) -> Vec<String> {
    let (d, r) = (deploy(), restart());
    match match_request([&d, &r], text) {
        RequestMatch::Found(m) => panic!("`{text}` unexpectedly matched {}", m.example),
        RequestMatch::Closest(ws) => ws.iter().map(|w| w.id.to_string()).collect(),
    }
}

#[test]
fn an_example_fills_typed_params() {
    let (id, params, problems) = found("deploy api 1.4.2 to prod");
    assert_eq!(id, "deploy-service");
    assert_eq!(params, json!({"service": "api", "version": "1.4.2", "environment": "prod"}));
    assert!(problems.is_empty());
}

#[test]
fn words_match_in_any_case_and_choices_take_their_canonical_value() {
    let (_, params, _) = found("Deploy API v2.0.1 TO Prod.");
    assert_eq!(params, json!({"service": "api", "version": "v2.0.1", "environment": "prod"}));
}

#[test]
fn a_value_that_fails_its_check_still_prefills_and_is_named() {
    let (_, params, problems) = found("deploy api latest to prod");
    assert_eq!(params["version"], json!("latest"));
    assert_eq!(problems, ["version"]);
}

#[test]
fn a_last_text_capture_takes_the_rest_of_the_line() {
    let (id, params, _) = found("restart web because the queue is stuck");
    assert_eq!(id, "restart-pipeline");
    assert_eq!(params["reason"], json!("the queue is stuck"));
}

#[test]
fn the_shorter_example_matches_too() {
    let (_, params, _) = found("ship web to staging");
    assert_eq!(params, json!({"service": "web", "environment": "staging"}));
}

#[test]
fn extra_or_missing_words_do_not_match() {
    assert_eq!(closest("deploy api 1.4.2 to prod now"), ["deploy-service"]);
    assert_eq!(closest("deploy api to"), ["deploy-service"]);
}

#[test]
fn a_miss_offers_the_closest_workflows() {
    assert_eq!(closest("deplyo the api please"), ["deploy-service"]);
    assert_eq!(closest("restart the pipeline")[0], "restart-pipeline");
    assert!(closest("make coffee").is_empty());
}

#[test]
fn an_empty_request_matches_nothing() {
    assert!(closest("").is_empty());
    assert!(closest("   ").is_empty());
}
