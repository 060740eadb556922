//! The matcher on the sample catalogs (`examples/` and the one `docket demo` writes), read as
//! the server reads them: a table of everyday phrasings with the workflow and parameters each
//! means (or that Docket should ask), and the hit rate over the table.

use std::sync::Arc;

use docket_core::Workflow;
use serde_json::Value;

use super::*;

/// What the matcher answered, in the table's terms.
#[derive(Debug, PartialEq)]
enum Outcome {
    Found { workflow: String, params: Value, problems: Vec<String> },
    Ask(Vec<String>),
}

fn examples_catalog() -> Vec<Arc<Workflow>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/workflows");
    match load_catalog(&dir, &env) {
        Ok(catalog) => catalog.iter().cloned().collect(),
        Err(problems) => panic!("examples/workflows should load:\n{problems}"),
    }
}

/// The demo's workflows, with the placeholders `docket demo` fills in filled.
fn demo_catalog() -> Vec<Arc<Workflow>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docket/demo/workflows");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let text = text.replace("@DOCKET@", "/usr/local/bin/docket").replace("@DATA@", "/var/lib/docket");
            let name = path.file_name().unwrap().to_string_lossy();
            match parse_workflow_str(&name, &text, &env) {
                Ok(w) => Arc::new(w),
                Err(problems) => panic!("{name} should load:\n{problems}"),
            }
        })
        .collect()
}
/// Where a phrasing is asked: the catalog in `examples/`, or the one `docket demo` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    Examples,
    Demo,
}

/// What a phrasing should come to.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// This workflow with exactly these parameters (JSON), every value fitting.
    Found(&'static str, &'static str),
    /// This workflow with these parameters, the named ones flagged as not fitting.
    Flawed(&'static str, &'static str, &'static [&'static str]),
    /// Ask: these workflows are the best candidates (in any order).
    Ask(&'static [&'static str]),
    /// Nothing in the catalog fits.
    Nothing,
}

use At::{Demo, Examples};
use Expect::{Ask, Flawed, Found, Nothing};

const DEPLOY_API_PROD: &str = r#"{"service": "api", "version": "1.4.2", "environment": "prod"}"#;

/// Everyday phrasings, as people type them, with what they mean. Both catalogs have two
/// workflows that deploy a service at a version to an environment (`deploy-service` and
/// `kubernetes-deploy` in `examples/`, `deploy` and `deploy-to-cluster` in the demo), so a deploy
/// that does not say which is asked about, with both as candidates, rather than guessed.
const TABLE: &[(At, &str, Expect)] = &[
    // Deploys, in the order the example gives and in others.
    (Examples, "deploy api 1.4.2 to prod", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "please deploy api 1.4.2 to prod", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "deploy api to prod 1.4.2", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "deploy api version 1.4.2", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "deploy api 1.4.2 to production", Found("deploy-service", DEPLOY_API_PROD)),
    (Examples, "Deploy API v1.4.2 to Prod.", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "can you deploy the api 1.4.2 to prod please", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "to prod, deploy api 1.4.2", Ask(&["deploy-service", "kubernetes-deploy"])),
    (
        Examples,
        "deploy 1.4.2 of web to staging",
        Found("deploy-service", r#"{"service": "web", "version": "1.4.2", "environment": "staging"}"#),
    ),
    (Examples, "ship worker to staging", Found("deploy-service", r#"{"service": "worker", "environment": "staging"}"#)),
    (Examples, "ship web to prd", Found("deploy-service", r#"{"service": "web", "environment": "prod"}"#)),
    (
        Examples,
        "deploy web 2.0.0 to dev",
        Found("deploy-service", r#"{"service": "web", "version": "2.0.0", "environment": "dev"}"#),
    ),
    (
        Examples,
        "deploy worker v3.1.0 to development",
        Found("deploy-service", r#"{"service": "worker", "version": "v3.1.0", "environment": "dev"}"#),
    ),
    (
        Examples,
        "could you please ship api 1.4.3 to stage",
        Found("deploy-service", r#"{"service": "api", "version": "1.4.3", "environment": "staging"}"#),
    ),
    (
        Examples,
        "deploy api 1.4.2 to prod because the login fix is needed",
        Found(
            "deploy-service",
            r#"{"service": "api", "version": "1.4.2", "environment": "prod", "reason": "the login fix is needed"}"#,
        ),
    ),
    (
        Examples,
        "deploy api 1.4.2 to prod reason: hotfix for checkout",
        Found(
            "deploy-service",
            r#"{"service": "api", "version": "1.4.2", "environment": "prod", "reason": "hotfix for checkout"}"#,
        ),
    ),
    (Examples, "deploy api latest to prod", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "deploy api 1.4 to prod", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "deploy", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "roll out api 1.4.2 to prod", Ask(&["deploy-service", "kubernetes-rollback", "kubernetes-deploy"])),
    (Examples, "deplyo api 1.4.2 to prod", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "deploy api 1.4.2 to prod now", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "hey docket, deploy api 1.4.2 to prod, thanks!", Ask(&["deploy-service", "kubernetes-deploy"])),
    (Examples, "deploy-service api 1.4.2 prod", Found("deploy-service", DEPLOY_API_PROD)),
    (Examples, "environment=prod deploy api 1.4.2", Ask(&["deploy-service", "kubernetes-deploy"])),
    (
        Examples,
        "I want web 1.5.0 deployed to staging",
        Found("deploy-service", r#"{"service": "web", "version": "1.5.0", "environment": "staging"}"#),
    ),
    (Examples, "api 1.4.2 to prod", Ask(&["deploy-service", "kubernetes-deploy", "kubernetes-rollback"])),
    // Pipelines.
    (
        Examples,
        "restart the orders pipeline in prod",
        Found("restart-pipeline", r#"{"pipeline": "orders", "environment": "prod"}"#),
    ),
    (Examples, "restart orders", Found("restart-pipeline", r#"{"pipeline": "orders"}"#)),
    (
        Examples,
        "restart clickstream in staging",
        Found("restart-pipeline", r#"{"pipeline": "clicks", "environment": "staging"}"#),
    ),
    (Examples, "restart the Orders ingest pipeline", Found("restart-pipeline", r#"{"pipeline": "orders"}"#)),
    (
        Examples,
        "please restart pipeline clicks in production",
        Found("restart-pipeline", r#"{"pipeline": "clicks", "environment": "prod"}"#),
    ),
    (
        Examples,
        "can you restart the clicks pipeline on staging",
        Found("restart-pipeline", r#"{"pipeline": "clicks", "environment": "staging"}"#),
    ),
    (
        Examples,
        "restart orders in prod without checkpoint",
        Found("restart-pipeline", r#"{"pipeline": "orders", "environment": "prod", "from_checkpoint": false}"#),
    ),
    (
        Examples,
        "restart orders from the last checkpoint",
        Found("restart-pipeline", r#"{"pipeline": "orders", "from_checkpoint": true}"#),
    ),
    (Examples, "restart the pipeline", Found("restart-pipeline", "{}")),
    (
        Examples,
        "I need the clicks pipeline restarted in staging",
        Found("restart-pipeline", r#"{"pipeline": "clicks", "environment": "staging"}"#),
    ),
    (
        Examples,
        "restart orders in dev",
        Flawed("restart-pipeline", r#"{"pipeline": "orders", "environment": "dev"}"#, &["environment"]),
    ),
    // Reports.
    (Examples, "sales report for 2026-11-24", Found("sales-report", r#"{"day": "2026-11-24"}"#)),
    (Examples, "sales report 2026-11-24 limit 50", Found("sales-report", r#"{"day": "2026-11-24", "limit": 50}"#)),
    (Examples, "can I get the sales report for 2026-11-24 please", Found("sales-report", r#"{"day": "2026-11-24"}"#)),
    (Examples, "daily sales for 2026-11-24", Found("sales-report", r#"{"day": "2026-11-24"}"#)),
    (Examples, "report for 2026-11-24, top 20", Found("sales-report", r#"{"day": "2026-11-24", "limit": 20}"#)),
    // The network.
    (Examples, "change the network in staging", Found("network-change", r#"{"environment": "staging"}"#)),
    (Examples, "resize subnets in prod to 6", Found("network-change", r#"{"environment": "prod", "subnet_bits": 6}"#)),
    (
        Examples,
        "resize the subnets to 2 in staging",
        Found("network-change", r#"{"environment": "staging", "subnet_bits": 2}"#),
    ),
    (
        Examples,
        "network change prod subnet bits 3",
        Found("network-change", r#"{"environment": "prod", "subnet_bits": 3}"#),
    ),
    // Unsure: ask, never guess.
    // close-accounts' `customer` takes any lowercase word, so words that name nothing are values
    // it could take: it is offered among the candidates (never chosen silently).
    (Examples, "prod", Ask(&["close-accounts", "deploy-service", "kubernetes-deploy"])),
    (
        Examples,
        "deploy api 1.4.2 to prod and restart orders",
        Ask(&["deploy-service", "kubernetes-deploy", "restart-pipeline"]),
    ),
    (Examples, "restart api", Ask(&["close-accounts", "kubernetes-deploy", "kubernetes-rollback"])),
    (Examples, "deploy orders to prod", Ask(&["deploy-service", "kubernetes-deploy", "restart-pipeline"])),
    (Examples, "make me a coffee", Ask(&["close-accounts"])),
    // The demo's catalog.
    (Demo, "deploy api 1.4.2 to prod", Found("deploy", DEPLOY_API_PROD)),
    (Demo, "please deploy api 1.4.2 to prod", Found("deploy", DEPLOY_API_PROD)),
    (Demo, "deploy api to prod 1.4.2", Found("deploy", DEPLOY_API_PROD)),
    (Demo, "deploy api version 1.4.2", Found("deploy", r#"{"service": "api", "version": "1.4.2"}"#)),
    (Demo, "deploy api v1.4.2 to prod", Found("deploy", DEPLOY_API_PROD)),
    (Demo, "deploy api to production 1.4.2", Found("deploy", DEPLOY_API_PROD)),
    (Demo, "push web 2.0.1 to staging", Ask(&["deploy", "deploy-to-cluster"])),
    (
        Demo,
        "deploy web 1.4.2 to stg",
        Found("deploy", r#"{"service": "web", "version": "1.4.2", "environment": "staging"}"#),
    ),
    (
        Demo,
        "the api to prod, deploy v2.3.4 please",
        Found("deploy", r#"{"service": "api", "version": "2.3.4", "environment": "prod"}"#),
    ),
    (
        Demo,
        "restart the orders pipeline in prod",
        Found("restart-pipeline", r#"{"pipeline": "orders", "environment": "prod"}"#),
    ),
    (Demo, "restart clicks", Found("restart-pipeline", r#"{"pipeline": "clicks"}"#)),
    (
        Demo,
        "can you restart orders on prod please",
        Found("restart-pipeline", r#"{"pipeline": "orders", "environment": "prod"}"#),
    ),
    (Demo, "resize workers in prod to 5", Found("resize-workers", r#"{"environment": "prod", "workers": 5}"#)),
    (
        Demo,
        "scale the worker pool to 8 in staging",
        Found("resize-workers", r#"{"environment": "staging", "workers": 8}"#),
    ),
    (
        Demo,
        "resize workers to 4 large machines in prod",
        Found("resize-workers", r#"{"environment": "prod", "workers": 4, "machine": "large"}"#),
    ),
    (
        Demo,
        "resize workers in prod to 20",
        Flawed("resize-workers", r#"{"environment": "prod", "workers": 20}"#, &["workers"]),
    ),
    (Demo, "rotate billing-db", Found("rotate-credential", r#"{"credential": "billing-db"}"#)),
    (
        Demo,
        "rotate the payments-api credential because it leaked",
        Found("rotate-credential", r#"{"credential": "payments-api", "reason": "it leaked"}"#),
    ),
    (
        Demo,
        "please rotate credential billing-db reason: quarterly rotation",
        Found("rotate-credential", r#"{"credential": "billing-db", "reason": "quarterly rotation"}"#),
    ),
    (Demo, "rotate", Found("rotate-credential", "{}")),
    (Demo, "prod", Ask(&["deploy", "deploy-to-cluster", "resize-workers"])),
    (Demo, "staging 1.4.2", Ask(&["deploy"])),
    (Demo, "restart api in prod", Ask(&["restart-pipeline", "deploy"])),
    (Demo, "deploy api 1.4.2 to prod and resize workers to 4", Ask(&["deploy", "resize-workers"])),
    (Demo, "what's the weather like", Nothing),
    // Written after the matcher, as a check on it.
    (
        Examples,
        "deploy the web service version 2.1.0 to staging please",
        Found("deploy-service", r#"{"service": "web", "version": "2.1.0", "environment": "staging"}"#),
    ),
    (
        Examples,
        "could you ship api v1.2.3 into production",
        Found("deploy-service", r#"{"service": "api", "version": "v1.2.3", "environment": "prod"}"#),
    ),
    (Examples, "release api 1.4.2 to prod", Ask(&["kubernetes-deploy", "deploy-service"])),
    (Examples, "restart the clickstream pipeline", Found("restart-pipeline", r#"{"pipeline": "clicks"}"#)),
    (
        Examples,
        "please restart orders pipeline on production",
        Found("restart-pipeline", r#"{"pipeline": "orders", "environment": "prod"}"#),
    ),
    (Examples, "rerun the orders pipeline in staging", Ask(&["restart-pipeline", "rerun-failed-jobs"])),
    (Examples, "pull the sales report for 2026-12-01", Found("sales-report", r#"{"day": "2026-12-01"}"#)),
    (Examples, "sales report", Found("sales-report", "{}")),
    (
        Examples,
        "resize subnets to 12 in prod",
        Flawed("network-change", r#"{"environment": "prod", "subnet_bits": 12}"#, &["subnet_bits"]),
    ),
    (Examples, "deploy api 1.4.2 to prod and staging", Ask(&["deploy-service"])),
    // Not a pipeline: asked, with the one candidate (`everything` shown as its pipeline).
    (Examples, "restart everything", Ask(&["close-accounts", "restart-pipeline"])),
    (
        Demo,
        "deploy worker 3.0.0 to staging",
        Found("deploy", r#"{"service": "worker", "version": "3.0.0", "environment": "staging"}"#),
    ),
    (Demo, "resize the workers to 6", Found("resize-workers", r#"{"workers": 6}"#)),
    (
        Demo,
        "give me 10 large workers in staging",
        Found("resize-workers", r#"{"workers": 10, "machine": "large", "environment": "staging"}"#),
    ),
    (Demo, "rotate the billing-db credential", Found("rotate-credential", r#"{"credential": "billing-db"}"#)),
    (Demo, "restart orders and clicks", Ask(&["restart-pipeline"])),
    (Demo, "deploy to prod", Found("deploy", r#"{"environment": "prod"}"#)),
];

fn outcome(workflows: &[Arc<Workflow>], text: &str) -> Outcome {
    use docket_core::catalog::matcher::{RequestMatch, match_request};
    match match_request(workflows.iter().map(|w| &**w), text) {
        RequestMatch::Found(m) => Outcome::Found {
            workflow: m.workflow.id.to_string(),
            params: serde_json::to_value(&m.params).unwrap(),
            problems: m.problems.iter().map(|(p, _)| p.clone()).collect(),
        },
        RequestMatch::Unsure(candidates) => {
            Outcome::Ask(candidates.iter().map(|m| m.workflow.id.to_string()).collect())
        }
    }
}

/// Each value as text.
fn as_text(params: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    params.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), text(v))).collect()
}

/// Whether `outcome` is what `expect` says.
fn hit(expect: Expect, outcome: &Outcome) -> bool {
    let params = |json: &str| serde_json::from_str::<Value>(json).unwrap();
    match (expect, outcome) {
        (Found(id, json), Outcome::Found { workflow, params: got, problems }) => {
            workflow == id && *got == params(json) && problems.is_empty()
        }
        // A value that does not fit is shown as typed: compared as text.
        (Flawed(id, json, flawed), Outcome::Found { workflow, params: got, problems }) => {
            workflow == id && as_text(got) == as_text(&params(json)) && problems == flawed
        }
        (Ask(ids), Outcome::Ask(candidates)) => {
            candidates.len() >= ids.len() && candidates.iter().take(ids.len()).all(|c| ids.contains(&c.as_str()))
        }
        (Nothing, Outcome::Ask(candidates)) => candidates.is_empty(),
        _ => false,
    }
}

#[test]
fn everyday_phrasings_mean_what_people_meant() {
    let (examples, demo) = (examples_catalog(), demo_catalog());
    assert!(TABLE.len() >= 60);
    let mut misses = Vec::new();
    for (at, text, expect) in TABLE {
        let catalog = if *at == Examples { &examples } else { &demo };
        let got = outcome(catalog, text);
        if !hit(*expect, &got) {
            misses.push(format!("{at:?} “{text}”: expected {expect:?}, got {got:?}"));
        }
    }
    let hits = TABLE.len() - misses.len();
    println!(
        "matcher hit rate: {hits} of {} phrasings ({:.0}%)",
        TABLE.len(),
        hits as f64 * 100.0 / TABLE.len() as f64
    );
    assert!(misses.is_empty(), "{} misses:\n{}", misses.len(), misses.join("\n"));
}
