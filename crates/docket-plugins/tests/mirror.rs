//! Which ticketing systems a ticket is mirrored to: every configured one by default, only those
//! a workflow's `mirror` names otherwise, none for `mirror: []`. A real app with both Jira and
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

async fn request(app: &TestApp, workflow: &str) -> Ticket {
    let params: RawParams = [("service", "api"), ("version", "1.4.2"), ("env", "staging")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    let ticket = app.app.request(&Actor::person("alice"), &workflow.into(), params, Default::default()).await.unwrap();
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await
}

#[tokio::test]
async fn a_workflow_is_mirrored_only_to_the_systems_it_names() {
    let jira_fake = FakeJira::start().await;
    let sn_fake = FakeServiceNow::start().await;
    let mut jira_settings = JiraSettings::new(&jira_fake.url, jira::EMAIL, jira::API_TOKEN, jira::PROJECT, "s1");
    jira_settings.retry.backoff.base = Duration::from_millis(10);
    let mut sn_settings = ServiceNowSettings::new(&sn_fake.url, servicenow::USERNAME, servicenow::PASSWORD, "s2");
    sn_settings.retry.backoff.base = Duration::from_millis(10);
    let plugins = Plugins::new()
        .section(Arc::new(docket_jira::JiraSection))
        .section(Arc::new(docket_servicenow::ServiceNowSection));
    let app = TestApp::builder()
        .workflows(&[
            ("deploy.yaml", DEPLOY_YAML),
            ("change-only.yaml", &workflow("change-only", "mirror: [servicenow]\n")),
            ("quiet.yaml", &workflow("quiet", "mirror: []\n")),
        ])
        .plugins(plugins)
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(20);
            s.outbox_max_backoff = Duration::from_millis(200);
        })
        .notifier(JiraNotifier::new(JiraClient::new(Arc::new(jira_settings)).unwrap()))
        .notifier(ServiceNowNotifier::new(ServiceNowClient::new(Arc::new(sn_settings)).unwrap()))
        .start()
        .await;

    let quiet = request(&app, "quiet").await;
    let change_only = request(&app, "change-only").await;
    let everywhere = request(&app, "deploy").await;
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
