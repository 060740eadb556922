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

/// Each finished step's audit record carries the digest of its stored output, so a line
/// changed, removed or added afterwards is found by `verify`, naming the step.
#[tokio::test]
async fn the_audit_trail_covers_each_steps_output() {
    let t = TestApp::builder()
        .config(CONFIG)
        .workflows(&[("leaky.yaml", LEAKY)])
        .env("VAULT_TOKEN", SECRET)
        .settings(|s| s.output_cap_bytes = 16 * 1024)
        .start()
        .await;
    let ticket = t.app.request(&person("alice"), &"leaky".into(), Default::default(), api()).await.unwrap();
    t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let finished: Vec<_> = t
        .app
        .audit_records(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.action == "run.step_finished")
        .collect();
    assert_eq!(finished.len(), 2);
    let output = &finished[1].entry.details["output"];
    assert_eq!(output["run"], 1);
    assert!(output["lines"].as_u64().unwrap() > 100, "{output}");
    assert_eq!(output["sha256"].as_str().map(str::len), Some(64), "{output}");
    let report = t.app.verify_audit().await.unwrap();
    assert!(report.intact(), "{report:?}");
    assert_eq!(report.outputs_checked, 2);

    let url = format!("sqlite://{}", t.dir().join("docket.db").display());
    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE step_logs SET text = 'all fine' WHERE step = 1 AND text = '42'").execute(&db).await.unwrap();
    let report = t.app.verify_audit().await.unwrap();
    assert!(report.broken.is_none(), "the chain itself is untouched");
    let [fault] = &report.output_faults[..] else { panic!("{report:?}") };
    assert_eq!((fault.step, fault.found), (2, fault.recorded), "same count, other text: {fault}");
    assert!(fault.to_string().contains(&format!("the output of step 2 of {} (run 1)", ticket.id)), "{fault}");
    assert_eq!(report.first_problem().map(|(seq, _)| seq), Some(fault.record));

    sqlx::query("DELETE FROM step_logs WHERE step = 0").execute(&db).await.unwrap();
    let report = t.app.verify_audit().await.unwrap();
    let [removed, _] = &report.output_faults[..] else { panic!("{report:?}") };
    assert_eq!((removed.step, removed.found), (1, 0), "{removed}");
    assert!(removed.recorded >= 1, "{removed}");
    assert_eq!(report.first_problem().map(|(seq, _)| seq), Some(removed.record));
    db.close().await;
    t.stop().await;
}
