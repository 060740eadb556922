//! End-to-end tests of `github_actions` steps through the app, against the test kit's fake
//! GitHub: plans that name the jobs that run again with their last conclusions, policies on
//! their count, runs that follow the new attempt, GitHub's own refusals, dispatches, and the
//! token never shown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::sync::Arc;

use docket_core::ticket::{Origin, StepOutcome};
use docket_core::{Actor, Ticket, TicketState};
use docket_testkit::pipelines::github::{FakeGithub, GITHUB_TOKEN};
use docket_testkit::{TestApp, base_plugins};
use serde_json::json;

const DOCKET_YAML: &str = r#"server: { listen: 127.0.0.1:0, public_url: http://127.0.0.1:8080 }
storage: { url: sqlite://./docket.db }
catalog: ./workflows
timezone: UTC
github: { token: "${GITHUB_TOKEN}", api_url: API_URL, poll: 20ms }

people:
  - { id: alice, name: Alice Ng, email: alice@example.com, groups: [dev] }
  - { id: bob, name: Bob Ruiz, email: bob@example.com, groups: [sre] }

groups:
  - { id: dev }
  - { id: sre }

policies:
  - name: a-few-jobs
    when: plan.updates <= 2
    auto_approve: true
  - name: many-jobs
    when: "true"
    stages:
      - { name: sre, from: [group:sre], count: 1 }
"#;

const RERUN: &str = r#"id: rerun
title: Re-run a CI run
params:
  - { name: run, type: string, pattern: '^\d+$' }
steps:
  - name: rerun
    github_actions:
      repo: acme/api
      rerun: { run: "{{run}}", failed_only: true }
      timeout: 30s
"#;

const RERUN_ALL: &str = r#"id: rerun-all
title: Re-run every job of a CI run
params:
  - { name: run, type: string, pattern: '^\d+$' }
steps:
  - name: rerun
    github_actions:
      repo: acme/api
      rerun: { run: "{{run}}" }
      timeout: 30s
"#;

const DISPATCH: &str = r#"id: release
title: Release through the deploy workflow
params:
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: dispatch
    github_actions:
      repo: acme/api
      dispatch: { workflow: deploy.yml, ref: main, inputs: { environment: "{{env}}" } }
      timeout: 30s
"#;

struct Ci {
    t: TestApp,
    github: FakeGithub,
}

impl Ci {
    async fn start() -> Self {
        let github = FakeGithub::start().await;
        github.workflow("acme/api", "ci.yml", "CI");
        github.workflow("acme/api", "deploy.yml", "Deploy");
        github.run(
            "acme/api",
            1234,
            "ci.yml",
            "main",
            &[("build", "success"), ("test", "failure"), ("lint", "cancelled")],
        );
        github.run(
            "acme/api",
            1235,
            "ci.yml",
            "main",
            &[("a", "failure"), ("b", "failure"), ("c", "failure"), ("d", "success")],
        );
        let t = TestApp::builder()
            .config(&DOCKET_YAML.replace("API_URL", github.url()))
            .env("GITHUB_TOKEN", GITHUB_TOKEN)
            .plugins(base_plugins().with(docket_pipelines::plugins()))
            .runner(|config| Arc::new(docket_pipelines::runner(config)))
            .workflows(&[("rerun.yaml", RERUN), ("rerun-all.yaml", RERUN_ALL), ("release.yaml", DISPATCH)])
            .start()
            .await;
        Self { t, github }
    }

    async fn request(&self, workflow: &str, params: &[(&str, &str)]) -> Ticket {
        let params = params.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        self.t.app.request(&Actor::person("alice"), &workflow.into(), params, Origin::default()).await.unwrap()
    }

    async fn log(&self, ticket: &Ticket) -> String {
        self.t.app.logs(&ticket.id, 0, 10_000).await.unwrap().into_iter().map(|l| l.text).collect::<Vec<_>>().join("\n")
    }
}

fn failure(ticket: &Ticket) -> String {
    match &ticket.last_run().unwrap().steps[0].outcome {
        Some(StepOutcome::Failed { message, .. }) => message.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerunning_failed_jobs_names_them_and_follows_the_new_attempt() {
    let ci = Ci::start().await;
    let ticket = ci.request("rerun", &[("run", "1234")]).await;
    let plan = ticket.plan.as_ref().unwrap_or_else(|| panic!("{:?}", ticket.closing_reason));
    assert_eq!(plan.counts().summary(), "2 to change (1 unchanged)");
    let lines: Vec<String> = ci.t.app.summarize(&ticket).changes.unwrap().lines.into_iter().map(|l| l.text).collect();
    assert_eq!(
        lines,
        [
            "~ update acme/api run 1234 job lint: conclusion cancelled → runs again",
            "~ update acme/api run 1234 job test: conclusion failure → runs again",
        ]
    );
    let output = plan.steps[0].output.clone().unwrap();
    assert!(
        output.contains("acme/api: workflow CI (.github/workflows/ci.yml) run 1234 attempt 1 on main (6dcb09b), failure: 2 of 3 jobs run again: test (failure), lint (cancelled)"),
        "{output}"
    );
    // Two jobs: the policy lets it run at once.
    assert_eq!(ticket.decision.as_ref().unwrap().rule.as_deref(), Some("a-few-jobs"));
    let done = ci.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let log = ci.log(&done).await;
    assert!(
        log.contains("run 1234 attempt 2 completed: success — https://github.com/acme/api/actions/runs/1234"),
        "{log}"
    );
    // The conclusion and URL are the step's result, which the run's reply in the chat thread carries.
    let results = ci.t.app.results(&done.id).await.unwrap();
    let line = results[0].result.line.clone().unwrap();
    assert_eq!(line.text, "acme/api run 1234 attempt 2 completed: success");
    assert_eq!(line.url.as_deref(), Some("https://github.com/acme/api/actions/runs/1234"));
    let posts: Vec<String> = ci.github.requests().into_iter().filter(|r| r.method == "POST").map(|r| r.path).collect();
    assert_eq!(posts, ["/repos/acme/api/actions/runs/1234/rerun-failed-jobs"]);
    let (attempt, _, conclusion, jobs) = ci.github.state(1234).unwrap();
    assert_eq!((attempt, conclusion.as_deref()), (2, Some("success")));
    assert_eq!(jobs[0], ("build".to_owned(), Some("success".to_owned())), "a job that passed keeps its result");
    // The token is nowhere Docket writes.
    let everything = serde_json::to_string(&done).unwrap() + &log;
    assert!(!everything.contains(GITHUB_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_jobs_need_approval_and_a_failed_rerun_fails_with_its_url() {
    let ci = Ci::start().await;
    ci.github.next_conclusion(1235, "failure");
    let ticket = ci.request("rerun-all", &[("run", "1235")]).await;
    assert_eq!(ticket.plan.as_ref().unwrap().counts().updates, 4);
    assert_eq!(ticket.state, TicketState::AwaitingApproval);
    let approved = ci.t.app.approve(&Actor::person("bob"), &ticket.id, ticket.digest.unwrap(), None).await.unwrap();
    let failed = ci.t.wait_for_state(&approved.id, TicketState::Failed).await;
    assert_eq!(
        failure(&failed),
        "run 1235 attempt 2 completed: failure — https://github.com/acme/api/actions/runs/1235"
    );
    assert!(ci.github.requests().iter().any(|r| r.path == "/repos/acme/api/actions/runs/1235/rerun"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_github_refuses_fails_in_githubs_words() {
    let ci = Ci::start().await;
    ci.github.refuse(1234, "Unable to re-run this workflow run because it was created over a month ago");
    let ticket = ci.request("rerun", &[("run", "1234")]).await;
    let failed = ci.t.wait_for_state(&ticket.id, TicketState::Failed).await;
    assert_eq!(
        failure(&failed),
        "GitHub did not re-run run 1234 of acme/api: GitHub refused: Unable to re-run this workflow run because it \
         was created over a month ago (403)"
    );
    let missing = ci.request("rerun", &[("run", "77")]).await;
    assert_eq!(missing.state, TicketState::PlanFailed);
    assert!(missing.closing_reason.unwrap().contains("reading run 77 of acme/api: GitHub refused: Not Found (404)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatch_shows_its_inputs_and_follows_the_run_it_started() {
    let ci = Ci::start().await;
    let ticket = ci.request("release", &[("env", "prod")]).await;
    let plan = ticket.plan.as_ref().unwrap_or_else(|| panic!("{:?}", ticket.closing_reason));
    let change = &plan.steps[0].facts.changes[0];
    assert_eq!(change.target, "acme/api workflow Deploy on main");
    assert_eq!(change.after, json!({"inputs": {"environment": "prod"}}));
    assert!(
        plan.steps[0]
            .output
            .as_deref()
            .unwrap()
            .contains("acme/api: dispatch Deploy (.github/workflows/deploy.yml) on main with environment=prod")
    );
    assert_eq!(ticket.decision.as_ref().unwrap().rule.as_deref(), Some("a-few-jobs"));
    let done = ci.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let dispatch = ci.github.requests().into_iter().find(|r| r.path.ends_with("/dispatches")).unwrap();
    assert_eq!(dispatch.body, json!({"ref": "main", "inputs": {"environment": "prod"}, "return_run_details": true}));
    let log = ci.log(&done).await;
    assert!(log.contains("dispatched deploy.yml on main: run 9003"), "{log}");
    assert!(
        log.contains("run 9003 attempt 1 completed: success — https://github.com/acme/api/actions/runs/9003"),
        "{log}"
    );
}
