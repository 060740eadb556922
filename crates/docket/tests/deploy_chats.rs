//! A Kubernetes deploy's approval request in both chats: against the test kit's fake cluster,
//! the plan reads the Deployment, and the approval request in Slack's approvals channel and on
//! Teams' approval card leads with what changes — the Deployment, its replicas, and its image
//! current → target — in the same words.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::sync::Arc;
use std::time::Duration;

use docket_core::Actor;
use docket_core::ticket::Origin;
use docket_slack::{SlackClient, SlackNotifier, SlackSettings};
use docket_teams::{Pacing, RetryPolicy, Teams, TeamsSettings};
use docket_testkit::kubernetes::{FakeKubernetes, TOKEN};
use docket_testkit::slack::{BOT_TOKEN, FakeSlack};
use docket_testkit::teams::{APP_ID, APP_PASSWORD, FakeBotFramework, TENANT};
use docket_testkit::{TestApp, TestAppBuilder, base_plugins, fixture};
use serde_json::json;

const APPROVALS: &str = "19:approvals@thread.tacv2";

const DEPLOY: &str = r#"id: deploy
title: Deploy a service
params:
  - { name: service, type: choice, choices: [api] }
  - { name: version, type: string, pattern: '^\d+\.\d+\.\d+$' }
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: rollout
    kubernetes:
      cluster: deployer
      namespace: "{{env}}"
      set_image: { deployment: "{{service}}", container: "{{service}}", image: "registry.example.com/{{service}}:{{version}}" }
"#;

/// The line both chats must show.
const LINE: &str = "~ update deployment api in prod (3 replicas): image registry.example.com/api:1.4.1 → registry.example.com/api:1.4.2";

/// The fixture's people and policy (prod needs approval, announced in both chats' approvals
/// channels), a fake cluster with `api` at 1.4.1, and the deploy workflow.
async fn cluster(builder: TestAppBuilder, folder: &std::path::Path) -> (TestApp, FakeKubernetes) {
    let kube = FakeKubernetes::start().await;
    kube.deployment("prod", "api", "api", &["registry.example.com/api:1.4.1"], 3);
    let path = folder.join("deployer.yaml");
    kube.kubeconfig(&path, TOKEN, "default");
    let config = format!("{}\nkubernetes:\n  deployer: {{ kubeconfig: {} }}\n", fixture::DOCKET_YAML, path.display());
    let t = builder
        .config(&config)
        .workflows(&[("deploy.yaml", DEPLOY)])
        .plugins(base_plugins().with(docket_kubernetes::plugins()))
        .runner(|config| Arc::new(docket_kubernetes::runner(config)))
        .settings(|s| {
            s.public_url = Some("https://docket.example.com".to_owned());
            s.outbox_backoff = Duration::from_millis(20);
        })
        .start()
        .await;
    let params = [("service", "api"), ("version", "1.4.2"), ("env", "prod")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    t.app.request(&Actor::person("alice"), &"deploy".into(), params, Origin::default()).await.unwrap();
    (t, kube)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_asks_for_approval_with_the_image_current_to_target() {
    let folder = tempfile::tempdir().unwrap();
    let fake = FakeSlack::start().await;
    let mut settings = SlackSettings::new("8f742231b10e8888abcd99yyyzzz85a5", BOT_TOKEN);
    settings.api_url = fake.url();
    settings.channel_interval = Duration::from_millis(10);
    let client = SlackClient::new(&settings).unwrap();
    let builder = TestApp::builder().notifier(Arc::new(SlackNotifier::new(settings, client)));
    let (_t, _kube) = cluster(builder, folder.path()).await;
    let copy = fake.wait_for_message("the approvals channel copy", |m| m.channel == "C0APPROVALS").await;
    let blocks = copy.blocks.as_array().unwrap();
    let changes = blocks
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .find(|t| t.starts_with("*Changes:*"))
        .unwrap_or_else(|| panic!("no changes section: {blocks:#?}"));
    let lines: Vec<&str> = changes.lines().collect();
    assert_eq!(lines, ["*Changes:* 1 to change", LINE]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_asks_for_approval_with_the_image_current_to_target() {
    let folder = tempfile::tempdir().unwrap();
    let fake = FakeBotFramework::start().await;
    let mut settings = TeamsSettings::new(APP_ID, APP_PASSWORD);
    settings.openid_metadata_url = fake.metadata_url();
    settings.token_url = fake.token_url();
    settings.tenant_id = Some(TENANT.to_owned());
    settings.retry = RetryPolicy { attempts: 3, base: Duration::from_millis(10), max: Duration::from_millis(50) };
    settings.pacing = Pacing { burst: 7, interval: Duration::from_millis(10) };
    let bot = Teams::new(settings).unwrap();
    // The bot is installed in the approvals channel before anything is asked.
    let kube_folder = folder.path().to_path_buf();
    let builder = TestApp::builder().notifier(bot.notifier());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/teams/messages", listener.local_addr().unwrap());
    let (t, _kube) = {
        let kube = FakeKubernetes::start().await;
        kube.deployment("prod", "api", "api", &["registry.example.com/api:1.4.1"], 3);
        let path = kube_folder.join("deployer.yaml");
        kube.kubeconfig(&path, TOKEN, "default");
        let config =
            format!("{}\nkubernetes:\n  deployer: {{ kubeconfig: {} }}\n", fixture::DOCKET_YAML, path.display());
        let t = builder
            .config(&config)
            .workflows(&[("deploy.yaml", DEPLOY)])
            .plugins(base_plugins().with(docket_kubernetes::plugins()))
            .runner(|config| Arc::new(docket_kubernetes::runner(config)))
            .settings(|s| {
                s.public_url = Some("https://docket.example.com".to_owned());
                s.outbox_backoff = Duration::from_millis(20);
            })
            .start()
            .await;
        (t, kube)
    };
    let router = bot.router(t.app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let http = reqwest::Client::new();
    let channel = json!({ "id": APPROVALS, "conversationType": "channel", "tenantId": TENANT, "isGroup": true });
    let install = json!({
        "type": "conversationUpdate", "id": "act-install", "timestamp": "2026-11-24T10:00:00.000Z",
        "serviceUrl": fake.service_url(), "channelId": "msteams",
        "from": { "id": "29:bob", "name": "bob", "aadObjectId": "aad-bob" },
        "recipient": { "id": format!("28:{APP_ID}"), "name": "Docket" },
        "conversation": channel, "membersAdded": [{ "id": format!("28:{APP_ID}") }],
        "channelData": { "tenant": { "id": TENANT }, "team": { "id": APPROVALS }, "channel": { "id": APPROVALS } },
    });
    let response = http.post(&url).bearer_auth(fake.token()).json(&install).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let params = [("service", "api"), ("version", "1.4.2"), ("env", "prod")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    t.app.request(&Actor::person("alice"), &"deploy".into(), params, Origin::default()).await.unwrap();
    let recorded = fake
        .wait_for("the channel's approval card", |r| {
            r.iter().any(|r| r.kind == "send" && r.conversation == APPROVALS && r.card().is_some())
        })
        .await;
    let sent = recorded.iter().find(|r| r.kind == "send" && r.conversation == APPROVALS && r.card().is_some()).unwrap();
    let body = sent.card().unwrap()["body"].as_array().unwrap().clone();
    let texts: Vec<String> = body.iter().filter_map(|e| e["text"].as_str()).map(unescape).collect();
    let at = texts.iter().position(|t| t == "Changes: 1 to change").unwrap_or_else(|| panic!("{texts:#?}"));
    assert_eq!(texts[at + 1], LINE, "{texts:#?}");
}

/// Teams' Markdown escapes taken out.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}
