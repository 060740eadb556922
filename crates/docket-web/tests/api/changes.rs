//! Structured changes on the ticket's page and in the API: every change in full, before →
//! after, destroys and replaces first and marked; the API lists them with the summary. The
//! test kit's `changes` step kind reports them when planned, as an infrastructure kind would.

use axum::http::StatusCode;
use docket_core::plan::{Change, ChangeAction};
use docket_testkit::{TestApp, base_plugins, changes};
use docket_web::WebOptions;
use serde_json::json;

use crate::browser::Browser;
use crate::support::Api;

const WORKFLOW: &str = r#"id: network
title: Change the network
params:
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: network
    changes: {}
"#;

async fn kit() -> TestApp {
    let change = |target: &str, action, before, after| Change { target: target.into(), action, before, after };
    let planned = vec![
        change("aws_s3_bucket.logs", ChangeAction::Create, json!(null), json!({"name": "logs"})),
        change("aws_db_instance.main", ChangeAction::Delete, json!({"size": "db.t3.large"}), json!(null)),
        change("aws_vpc.main", ChangeAction::NoOp, json!({"cidr": "10.0.0.0/16"}), json!({"cidr": "10.0.0.0/16"})),
    ];
    TestApp::builder()
        .plugins(base_plugins().with(changes::plugins()))
        .runner(move |_| changes::runner(planned.clone()))
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
    let page = browser.visit(sent.location()).await;
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
