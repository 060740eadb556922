//! The matcher on a small catalog built in code: words in any order, values by type, aliases,
//! text after its cue, the best candidates when unsure, and nothing guessed silently. The
//! table of everyday phrasings on the sample catalogs is in `docket-plugins`' tests.

use docket_core::Risk;
use docket_core::catalog::example::Example;
use docket_core::catalog::matcher::{Matched, RequestMatch, match_request};
use docket_core::catalog::param::{Choice, ParamKind, ParamSpec};
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
    if let Some(ParamKind::Choice { choices }) =
        w.params.iter_mut().find(|p| p.name == "environment").map(|p| &mut p.kind)
    {
        choices[2].aliases = vec!["production".into(), "prd".into()];
    }
    w
}

fn restart() -> Workflow {
    let mut w = workflow(Risk::Low);
    w.id = WorkflowId::new("restart-pipeline");
    w.title = "Restart a pipeline".into();
    w.category = "Pipelines".into();
    w.description = "Restarts one pipeline.".into();
    w.examples = vec![Example::parse("restart {service} because {reason}").unwrap()];
    w.params = vec![
        ParamSpec {
            name: "service".into(),
            label: "Pipeline".into(),
            help: None,
            required: true,
            default: None,
            kind: ParamKind::Choice {
                choices: vec![Choice::new("orders", "Orders ingest"), Choice::new("web", "web")],
            },
        },
        ParamSpec {
            name: "reason".into(),
            label: "reason".into(),
            help: None,
            required: false,
            default: None,
            kind: ParamKind::Text { min_length: None, max_length: Some(200) },
        },
        ParamSpec {
            name: "cold".into(),
            label: "Cold start".into(),
            help: None,
            required: false,
            default: None,
            kind: ParamKind::Boolean,
        },
    ];
    w
}

fn read(text: &str) -> RequestMatch<'static> {
    let catalog: &'static [Workflow] = Box::leak(Box::new([deploy(), restart()]));
    match_request(catalog.iter(), text)
}

fn found(text: &str) -> Matched<'static> {
    match read(text) {
        RequestMatch::Found(m) => m,
        RequestMatch::Unsure(c) => {
            panic!("`{text}` was unsure: {:?}", c.iter().map(|m| (&m.workflow.id, &m.params)).collect::<Vec<_>>())
        }
    }
}

fn unsure(text: &str) -> Vec<(String, serde_json::Value)> {
    match read(text) {
        RequestMatch::Found(m) => panic!("`{text}` was read as {} {:?}", m.workflow.id, m.params),
        RequestMatch::Unsure(c) => {
            c.iter().map(|m| (m.workflow.id.to_string(), serde_json::to_value(&m.params).unwrap())).collect()
        }
    }
}

fn params(m: &Matched<'_>) -> serde_json::Value {
    serde_json::to_value(&m.params).unwrap()
}

#[test]
fn words_in_any_order_fill_typed_params() {
    for text in ["deploy api 1.4.2 to prod", "deploy api to prod 1.4.2", "to prod: deploy 1.4.2 of api, please"] {
        let m = found(text);
        assert_eq!(m.workflow.id.as_str(), "deploy-service", "{text}");
        assert_eq!(params(&m), json!({"service": "api", "version": "1.4.2", "environment": "prod"}), "{text}");
        assert!(m.problems.is_empty() && m.not_understood.is_empty(), "{text}: {m:?}");
    }
    assert_eq!(found("deploy api 1.4.2 to prod").example, Some("deploy {service} {version} to {environment}"));
    assert_eq!(found("ship web to staging").example, Some("ship {service} to {environment}"));
}

#[test]
fn case_aliases_and_labels_name_a_choice() {
    let m = found("Deploy API v2.0.1 TO Production.");
    assert_eq!(params(&m), json!({"service": "api", "version": "v2.0.1", "environment": "prod"}));
    assert_eq!(params(&found("restart the Orders Ingest pipeline")), json!({"service": "orders"}));
}

#[test]
fn text_after_its_cue_keeps_what_was_typed() {
    let m = found("restart web because the queue is STUCK, again");
    assert_eq!(m.workflow.id.as_str(), "restart-pipeline");
    assert_eq!(params(&m), json!({"service": "web", "reason": "the queue is STUCK, again"}));
}

#[test]
fn a_yes_or_no_is_set_by_its_name_and_negated() {
    assert_eq!(params(&found("restart orders cold")), json!({"service": "orders", "cold": true}));
    assert_eq!(params(&found("restart orders, not cold")), json!({"service": "orders", "cold": false}));
    assert_eq!(params(&found("restart orders without a cold start")), json!({"service": "orders", "cold": false}));
}

#[test]
fn a_value_that_does_not_fit_is_kept_and_named() {
    let m = found("deploy api latest to prod");
    assert_eq!(m.params["version"], json!("latest"));
    assert_eq!(m.problems.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), ["version"]);
    assert!(m.problems[0].1.contains("does not match the pattern"), "{:?}", m.problems);
}

#[test]
fn words_it_cannot_place_are_reported() {
    let m = found("deploy api 1.4.2 to prod tonight");
    assert_eq!(m.not_understood, ["tonight"]);
}

#[test]
fn unsure_offers_the_best_candidates_with_what_they_understood() {
    let c = unsure("web");
    assert_eq!(c.len(), 2);
    assert!(c.iter().all(|(_, p)| p == &json!({"service": "web"})), "{c:?}");
    // Two requests in one sentence: both are candidates, neither is guessed.
    let c = unsure("deploy api 1.4.2 to prod and restart orders");
    assert_eq!(c[0].0, "deploy-service");
    assert_eq!(c[1], ("restart-pipeline".to_owned(), json!({"service": "orders"})));
    // Two values for one parameter.
    assert_eq!(unsure("deploy api 1.4.2 to prod and staging")[0].0, "deploy-service");
    // Too many words it cannot place.
    assert_eq!(unsure("deploy api to the moon with rockets and lasers")[0].0, "deploy-service");
}

#[test]
fn a_typo_of_the_workflow_still_reads_when_the_values_agree() {
    assert_eq!(found("deplyo api 1.4.2 to prod").workflow.id.as_str(), "deploy-service");
    assert_eq!(unsure("deplyo"), [("deploy-service".to_owned(), json!({}))]);
}

#[test]
fn nothing_that_fits_is_an_empty_answer() {
    for text in ["", "   ", "make me a coffee", "?!", "please"] {
        assert!(unsure(text).is_empty(), "{text}");
    }
}

#[test]
fn named_values_and_the_whole_id_are_read() {
    let m = found("deploy-service service=web version=1.0.0 environment=dev");
    assert_eq!(params(&m), json!({"service": "web", "version": "1.0.0", "environment": "dev"}));
}

#[test]
fn long_or_hostile_text_stays_cheap_and_never_panics() {
    let long = "deploy api 1.4.2 to prod ".repeat(400);
    let started = std::time::Instant::now();
    let _ = read(&long);
    let _ = read(&"because ".repeat(2_000));
    let _ = read(&"1 2 3 4 5 6 7 8 9 ".repeat(100));
    let _ = read("\u{0} \u{202e}prod\u{200b} ü ß 🚀 {{x}} v v1 v. =");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
fn workflows_told_apart_by_a_number_are_not_near_misses_of_each_other() {
    let catalog: Vec<Workflow> = (1..=3)
        .map(|i| {
            let mut w = deploy();
            w.id = WorkflowId::new(format!("deploy-eu{i}"));
            w.title = format!("Deploy in eu{i}");
            w
        })
        .collect();
    match match_request(&catalog, "deploy api 1.4.2 to prod in eu2") {
        RequestMatch::Found(m) => assert_eq!(m.workflow.id.as_str(), "deploy-eu2"),
        RequestMatch::Unsure(c) => panic!("unsure: {:?}", c.iter().map(|m| &m.workflow.id).collect::<Vec<_>>()),
    }
    // Without the number, all three fit equally: ask.
    let RequestMatch::Unsure(c) = match_request(&catalog, "deploy api 1.4.2 to prod") else { panic!("guessed") };
    assert_eq!(c.len(), 3);
}
