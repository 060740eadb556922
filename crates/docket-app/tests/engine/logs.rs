//! Step output: secrets are redacted before anything stores or streams it, and a step's
//! output is capped with a notice.

use docket_core::TicketState;
use docket_testkit::TestApp;

use crate::{api, person};

const SECRET: &str = "s3cr3t-deploy-token";

const CONFIG: &str = r#"storage: { url: sqlite://./docket.db }
catalog: ./workflows
people:
  - { id: alice, name: Alice }
policies:
  - { name: all, when: "true", auto_approve: true }
"#;

const LEAKY: &str = r#"id: leaky
title: Leaky
steps:
  - name: print
    exec: { argv: [echo, "token is s3cr3t-deploy-token, keep it safe"], env: { VAULT: "${VAULT_TOKEN}" } }
  - name: flood
    exec: { argv: [seq, "1", "200000"] }
"#;

#[tokio::test]
async fn secrets_are_redacted_and_output_is_capped() {
    let t = TestApp::builder()
        .config(CONFIG)
        .workflows(&[("leaky.yaml", LEAKY)])
        .env("VAULT_TOKEN", SECRET)
        .settings(|s| s.output_cap_bytes = 64 * 1024)
        .start()
        .await;
    let mut live = t.app.subscribe();
    let watcher = tokio::spawn(async move {
        // Reads live events as they come, the way an SSE client does.
        let mut redacted = false;
        loop {
            match live.recv().await {
                Ok(docket_app::LiveEvent::Log(line)) => {
                    assert!(!line.text.contains(SECRET));
                    redacted |= line.text.contains("[redacted]");
                }
                Ok(docket_app::LiveEvent::Ticket { state: TicketState::Succeeded, .. }) => return redacted,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return redacted,
            }
        }
    });
    let ticket = t.app.request(&person("alice"), &"leaky".into(), Default::default(), api()).await.unwrap();
    t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let mut logs = Vec::new();
    loop {
        let after = logs.last().map_or(0, |l: &docket_app::LogLine| l.seq);
        let page = t.app.logs(&ticket.id, after, 10_000).await.unwrap();
        if page.is_empty() {
            break;
        }
        logs.extend(page);
    }
    assert!(logs.iter().any(|l| l.text == "token is [redacted], keep it safe"), "{:#?}", &logs[..3]);
    assert!(logs.iter().all(|l| !l.text.contains(SECRET)));
    let flood: Vec<_> = logs.iter().filter(|l| l.step == 1).collect();
    assert!(flood.len() < 20_000, "the cap kept {} lines", flood.len());
    assert!(flood.iter().any(|l| l.text.contains("output limit of 64 KiB")), "no notice");
    assert!(flood.iter().any(|l| l.text.contains("more lines were not kept")));
    assert!(watcher.await.unwrap(), "live subscribers see the redacted line too");
    let audit = t.app.audit_records(0, 1000).await.unwrap();
    assert!(audit.iter().all(|r| !r.entry.details.to_string().contains(SECRET)));
    t.stop().await;
}
