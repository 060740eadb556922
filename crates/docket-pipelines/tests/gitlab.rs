//! End-to-end tests of `gitlab` steps through the app, against the test kit's fake GitLab: the
//! plan names the jobs a retry runs again with their last status, the run follows the pipeline
//! to its end, GitLab's refusal is the failure's reason, and the token is never shown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::sync::Arc;

use docket_core::ticket::{Origin, StepOutcome};
use docket_core::{Actor, Ticket, TicketState};
use docket_testkit::pipelines::gitlab::{FakeGitlab, GITLAB_TOKEN};
use docket_testkit::{TestApp, base_plugins};
use serde_json::json;

const DOCKET_YAML: &str = r#"server: { listen: 127.0.0.1:0, public_url: http://127.0.0.1:8080 }
storage: { url: sqlite://./docket.db }
catalog: ./workflows
timezone: UTC
gitlab: { token: "${GITLAB_TOKEN}", url: GITLAB_URL, poll: 20ms }

people:
  - { id: alice, name: Alice Ng, email: alice@example.com, groups: [dev] }

policies:
  - name: retries
    when: plan.updates <= 3
    auto_approve: true
"#;

const RETRY: &str = r#"id: retry
title: Retry a pipeline
params:
  - { name: pipeline, type: string, pattern: '^\d+$' }
steps:
  - name: retry
    gitlab:
      project: platform/api
      retry: { pipeline: "{{pipeline}}" }
      timeout: 30s
"#;

async fn start() -> (TestApp, FakeGitlab) {
    let gitlab = FakeGitlab::start().await;
    gitlab.pipeline("platform/api", 501, "main", &[("build", "success"), ("test", "failed"), ("deploy", "canceled")]);
    let t = TestApp::builder()
        .config(&DOCKET_YAML.replace("GITLAB_URL", gitlab.url()))
        .env("GITLAB_TOKEN", GITLAB_TOKEN)
        .plugins(base_plugins().with(docket_pipelines::plugins()))
        .runner(|config| Arc::new(docket_pipelines::gitlab_runner(config)))
        .workflows(&[("retry.yaml", RETRY)])
        .start()
        .await;
    (t, gitlab)
}

async fn request(t: &TestApp, pipeline: &str) -> Ticket {
    let params = [("pipeline".to_owned(), json!(pipeline))].into_iter().collect();
    t.app.request(&Actor::person("alice"), &"retry".into(), params, Origin::default()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_names_the_jobs_that_run_again_and_follows_the_pipeline() {
    let (t, gitlab) = start().await;
    let ticket = request(&t, "501").await;
    let plan = ticket.plan.as_ref().unwrap_or_else(|| panic!("{:?}", ticket.closing_reason));
    assert_eq!(plan.counts().summary(), "2 to change (1 unchanged)");
    let lines: Vec<String> = t.app.summarize(&ticket).changes.unwrap().lines.into_iter().map(|l| l.text).collect();
    assert_eq!(
        lines,
        [
            "~ update platform/api pipeline 501 job deploy: status canceled → runs again",
            "~ update platform/api pipeline 501 job test: status failed → runs again",
        ]
    );
    let done = t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let log: Vec<String> = t.app.logs(&done.id, 0, 1000).await.unwrap().into_iter().map(|l| l.text).collect();
    let log = log.join("\n");
    assert!(
        log.contains("pipeline 501 finished: success — https://gitlab.example.com/platform/api/-/pipelines/501"),
        "{log}"
    );
    // The conclusion and URL are the step's result, which the run's reply in the chat thread carries.
    let results = t.app.results(&done.id).await.unwrap();
    let line = results[0].result.line.clone().unwrap();
    assert_eq!(line.text, "platform/api pipeline 501 finished: success");
    assert_eq!(line.url.as_deref(), Some("https://gitlab.example.com/platform/api/-/pipelines/501"));
    let posts: Vec<String> = gitlab.requests().into_iter().filter(|(m, _)| m == "POST").map(|(_, p)| p).collect();
    assert_eq!(posts, ["/api/v4/projects/platform%2Fapi/pipelines/501/retry"]);
    assert_eq!(gitlab.state(501).unwrap().0, "success");
    assert!(!(serde_json::to_string(&done).unwrap() + &log).contains(GITLAB_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_gitlab_refuses_or_that_fails_again_fails_the_step() {
    let (t, gitlab) = start().await;
    gitlab.refuse(501, 403, "403 Forbidden");
    let refused = t.wait_for_state(&request(&t, "501").await.id, TicketState::Failed).await;
    assert_eq!(
        message(&refused),
        "GitLab did not retry pipeline 501 of platform/api: GitLab refused: 403 Forbidden (403)"
    );
    gitlab.pipeline("platform/api", 502, "main", &[("test", "failed")]);
    gitlab.next_status(502, "failed");
    let failed = t.wait_for_state(&request(&t, "502").await.id, TicketState::Failed).await;
    assert_eq!(
        message(&failed),
        "pipeline 502 finished: failed — https://gitlab.example.com/platform/api/-/pipelines/502"
    );
    let missing = request(&t, "999").await;
    assert!(
        missing
            .closing_reason
            .unwrap()
            .contains("reading pipeline 999 of platform/api: GitLab refused: 404 Not found (404)")
    );
}

fn message(ticket: &Ticket) -> String {
    match &ticket.last_run().unwrap().steps[0].outcome {
        Some(StepOutcome::Failed { message, .. }) => message.clone(),
        other => panic!("{other:?}"),
    }
}
