//! Structured changes on the ticket's page and in the API: every change in full, before →
//! after, destroys and replaces first and marked; the API lists them with the summary. A step
//! kind of this test's own (`changes`) reports them when planned, as an infrastructure kind
//! would.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::StatusCode;
use docket_app::{StepJob, StepLog, StepRunner};
use docket_config::plugin::{Node, StepContext, StepKind};
use docket_core::catalog::template::Template;
use docket_core::plan::{Change, ChangeAction};
use docket_core::ticket::StepOutcome;
use docket_core::{Action, ActionSpec, ActionView, Params, PlanFacts};
use docket_testkit::{TestApp, base_plugins};
use docket_web::WebOptions;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::browser::Browser;
use crate::support::Api;

#[derive(Debug)]
struct Changes;

impl ActionSpec for Changes {
    fn kind(&self) -> &'static str {
        "changes"
    }
    fn templates(&self) -> Vec<&Template> {
        Vec::new()
    }
    fn describe(&self, _: &Params) -> ActionView {
        ActionView { summary: "change the network".into(), details: Vec::new(), document: json!({}) }
    }
    fn plans_itself(&self) -> bool {
        true
    }
}

struct ChangesKind;

impl StepKind for ChangesKind {
    fn name(&self) -> &'static str {
        "changes"
    }
    fn decode(&self, _: &Node, _: &mut StepContext<'_>) -> Option<Action> {
        Some(Action::new(Changes))
    }
}

struct ChangesRunner;

#[async_trait]
impl StepRunner for ChangesRunner {
    fn kind(&self) -> &'static str {
        "changes"
    }
    async fn run(&self, _: StepJob<'_>, log: &dyn StepLog, _: CancellationToken) -> StepOutcome {
        let change = |target: &str, action, before, after| Change { target: target.into(), action, before, after };
        log.facts(PlanFacts {
            changes: vec![
                change("aws_s3_bucket.logs", ChangeAction::Create, json!(null), json!({"name": "logs"})),
                change("aws_db_instance.main", ChangeAction::Delete, json!({"size": "db.t3.large"}), json!(null)),
                change(
                    "aws_vpc.main",
                    ChangeAction::NoOp,
                    json!({"cidr": "10.0.0.0/16"}),
                    json!({"cidr": "10.0.0.0/16"}),
                ),
            ],
            ..PlanFacts::default()
        });
        StepOutcome::Succeeded
    }
}

const WORKFLOW: &str = r#"id: network
title: Change the network
params:
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: network
    changes: {}
"#;

async fn kit() -> TestApp {
    TestApp::builder()
        .plugins(base_plugins().step_kind(Arc::new(ChangesKind)))
        .runner(|_| Arc::new(ChangesRunner))
        .workflow("network.yaml", WORKFLOW)
        .start()
        .await
}

#[tokio::test]
async fn the_ticket_page_shows_every_change_before_and_after() {
    let kit = kit().await;
    let mut browser =
        Browser::new(docket_web::router(kit.app.clone(), WebOptions { demo: true, ..WebOptions::default() }));
    let form = browser.visit("/workflows/network/new").await;
    let csrf = form.csrf();
    let sent = browser.post("/workflows/network/new", &[("csrf", csrf.as_str()), ("p.env", "prod")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let page = browser.visit(&sent.location()).await;
    let body = &page.body;
    assert!(body.contains("<strong>Changes:</strong> 1 to add, 1 to destroy (1 unchanged)"), "{body}");
    let destroy =
        body.find("⚠ <strong>destroy</strong> <code>aws_db_instance.main</code>").expect("the destroy, marked");
    let create = body.find("<strong>create</strong> <code>aws_s3_bucket.logs</code>").expect("the create");
    assert!(destroy < create, "destroys come first");
    let before = body.find("aria-label=\"Before\">").expect("a before value");
    assert!(body[before..].contains("db.t3.large"), "the value before is shown");
    assert!(body.contains("aria-label=\"After\">(none)</pre>"), "a destroy has nothing after");
}

#[tokio::test]
async fn the_api_lists_the_changes_with_their_summary() {
    let api = Api::start_with(kit().await).await;
    let created = api.post("alice", "/api/v1/tickets", json!({"workflow": "network", "params": {"env": "prod"}})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let step = &created.json()["plan"]["steps"][0];
    assert_eq!(step["change_summary"], "1 to add, 1 to destroy (1 unchanged)");
    assert_eq!(
        step["changes"][1],
        json!({"target": "aws_db_instance.main", "action": "delete", "before": {"size": "db.t3.large"}, "after": null})
    );
    assert_eq!(step["saved_file"], json!(null));
}
