//! Which ticketing systems a ticket is mirrored to: every configured one by default, only those
//! a workflow's (or the deciding policy rule's) `mirror` names otherwise, none for `mirror: []`. A real app with both Jira and
//! ServiceNow against the test kit's fakes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::sync::Arc;
use std::time::Duration;

use docket_app::Settings;
use docket_config::plugin::Plugins;
use docket_core::{Actor, RawParams, Ticket, TicketState};
use docket_jira::{JiraClient, JiraNotifier, JiraSettings};
use docket_servicenow::{ServiceNowClient, ServiceNowNotifier, ServiceNowSettings};
use docket_testkit::TestApp;
use docket_testkit::fixture::DEPLOY_YAML;
use docket_testkit::ticketing::jira::{self, FakeJira};
use docket_testkit::ticketing::servicenow::{self, FakeServiceNow};
use serde_json::Value;

async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn workflow(id: &str, mirror: &str) -> String {
    format!("{}{mirror}", DEPLOY_YAML.replace("id: deploy\n", &format!("id: {id}\n")))
}

fn params(env: &str) -> RawParams {
    [("service", "api"), ("version", "1.4.2"), ("env", env)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect()
}

async fn request(app: &TestApp, workflow: &str, env: &str) -> Ticket {
    let ticket =
        app.app.request(&Actor::person("alice"), &workflow.into(), params(env), Default::default()).await.unwrap();
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await
}

struct Both {
    app: TestApp,
    jira: FakeJira,
    servicenow: FakeServiceNow,
}

async fn both(config: Option<&str>, workflows: &[(&str, &str)]) -> Both {
    let jira_fake = FakeJira::start().await;
    let sn_fake = FakeServiceNow::start().await;
    let mut jira_settings = JiraSettings::new(&jira_fake.url, jira::EMAIL, jira::API_TOKEN, jira::PROJECT, "s1");
    jira_settings.retry.backoff.base = Duration::from_millis(10);
    let mut sn_settings = ServiceNowSettings::new(&sn_fake.url, servicenow::USERNAME, servicenow::PASSWORD, "s2");
    sn_settings.retry.backoff.base = Duration::from_millis(10);
    let plugins = Plugins::new()
        .section(Arc::new(docket_jira::JiraSection))
        .section(Arc::new(docket_servicenow::ServiceNowSection));
    let mut builder = TestApp::builder().workflows(workflows).plugins(plugins);
    if let Some(config) = config {
        builder = builder.config(config);
    }
    let app = builder
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(20);
            s.outbox_max_backoff = Duration::from_millis(200);
        })
        .notifier(JiraNotifier::new(JiraClient::new(Arc::new(jira_settings)).unwrap()))
        .notifier(ServiceNowNotifier::new(ServiceNowClient::new(Arc::new(sn_settings)).unwrap()))
        .start()
        .await;
    Both { app, jira: jira_fake, servicenow: sn_fake }
}

#[tokio::test]
async fn a_policy_rule_chooses_the_systems_for_the_tickets_it_decides() {
    // Staging (auto-approved) only to Jira; production to both.
    let config = docket_testkit::fixture::DOCKET_YAML.replace(
        "    auto_approve: true\n  - name: production",
        "    auto_approve: true\n    mirror: [jira]\n  - name: production",
    );
    assert_ne!(config, docket_testkit::fixture::DOCKET_YAML);
    let Both { app, jira: jira_fake, servicenow: sn_fake } = both(Some(&config), &[("deploy.yaml", DEPLOY_YAML)]).await;
    let staging = request(&app, "deploy", "staging").await;
    let prod =
        app.app.request(&Actor::person("alice"), &"deploy".into(), params("prod"), Default::default()).await.unwrap();
    eventually("the prod record", || sn_fake.records().len() == 1).await;
    eventually("both issues", || jira_fake.issues().len() == 2).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sn_fake.records().len(), 1, "staging never reaches ServiceNow");
    assert_eq!(sn_fake.records()[0].field("correlation_id"), prod.id.to_string());
    // The link is added once the issue is created and linked back, a moment after the issue.
    let mut staging = app.app.ticket(&staging.id).await.unwrap();
    for _ in 0..500 {
        if !staging.links.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        staging = app.app.ticket(&staging.id).await.unwrap();
    }
    let systems: Vec<&str> = staging.links.iter().map(|l| l.system.as_str()).collect();
    assert_eq!(systems, ["jira"]);
}

#[tokio::test]
async fn a_workflow_is_mirrored_only_to_the_systems_it_names() {
    let workflows = [
        ("deploy.yaml", DEPLOY_YAML.to_owned()),
        ("change-only.yaml", workflow("change-only", "mirror: [servicenow]\n")),
        ("quiet.yaml", workflow("quiet", "mirror: []\n")),
    ];
    let workflows: Vec<(&str, &str)> = workflows.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let Both { app, jira: jira_fake, servicenow: sn_fake } = both(None, &workflows).await;

    let quiet = request(&app, "quiet", "staging").await;
    let change_only = request(&app, "change-only", "staging").await;
    let everywhere = request(&app, "deploy", "staging").await;
    let correlated = |ticket: &Ticket| {
        let id = ticket.id.to_string();
        sn_fake
            .records()
            .into_iter()
            .filter(move |r| r.field("correlation_id") == id)
            .map(|r| r.field("state").to_owned())
    };
    let closed = |ticket: &Ticket| correlated(ticket).any(|state| state == "3");
    eventually("both change requests closed", || closed(&change_only) && closed(&everywhere)).await;
    eventually("the deploy's Jira issue", || jira_fake.issues().len() == 1).await;
    // Anything else still on its way would have been sent by now.
    tokio::time::sleep(Duration::from_millis(400)).await;

    let issues = jira_fake.issues();
    assert_eq!(issues.len(), 1, "only the workflow that names no systems reaches Jira");
    assert_eq!(issues[0].labels, [format!("docket-{}", everywhere.id)]);
    assert_eq!(sn_fake.records().len(), 2, "the quiet workflow's ticket reaches neither");
    assert_eq!(correlated(&quiet).count(), 0);
    let quiet = app.app.ticket(&quiet.id).await.unwrap();
    assert!(quiet.links.is_empty(), "{:?}", quiet.links);
    let change_only = app.app.ticket(&change_only.id).await.unwrap();
    let systems: Vec<&str> = change_only.links.iter().map(|l| l.system.as_str()).collect();
    assert_eq!(systems, ["servicenow"]);
}
