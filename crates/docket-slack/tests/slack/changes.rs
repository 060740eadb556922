//! A plan with structured changes, through the app into Slack: the approval request leads with
//! the summary, lists destroys and replaces first and marked, and stays within Block Kit's
//! limits — for 500 changes too, with the rest on the ticket's page.

use docket_core::Actor;
use docket_core::ticket::Origin;
use docket_slack::render::limits::check_message;
use docket_testkit::{base_plugins, changes};
use serde_json::json;

use crate::support::Harness;

const WORKFLOW: &str = r#"id: fleet
title: Resize the fleet
params:
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: fleet
    changes: {}
"#;

#[tokio::test]
async fn approval_requests_lead_with_the_changes_within_limits() {
    for n in [4, 500] {
        let planned = changes::many(n);
        let h = Harness::start_with(move |b| {
            b.plugins(base_plugins().with(changes::plugins()))
                .runner(move |_| changes::runner(planned.clone()))
                .workflow("fleet.yaml", WORKFLOW)
        })
        .await;
        let params = [("env".to_owned(), json!("prod"))].into_iter().collect();
        h.t.app.request(&Actor::person("alice"), &"fleet".into(), params, Origin::default()).await.unwrap();
        let copy = h.fake.wait_for_message("the approvals channel copy", |m| m.channel == "C0APPROVALS").await;
        let problems = check_message(&copy.text, &copy.blocks);
        assert!(problems.is_empty(), "{n} changes: {problems:#?}");
        let blocks = copy.blocks.as_array().unwrap();
        let at = blocks
            .iter()
            .position(|b| b["text"]["text"].as_str().is_some_and(|t| t.starts_with("*Changes:*")))
            .expect("a changes section");
        assert!(at <= 2, "the changes lead the request");
        let text = blocks[at]["text"]["text"].as_str().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        if n == 4 {
            assert_eq!(
                lines,
                [
                    "*Changes:* 3 to add, 1 to destroy",
                    "*⚠ destroy module.fleet.aws_instance.web[3]*",
                    "+ create module.fleet.aws_instance.web[0]",
                    "+ create module.fleet.aws_instance.web[1]",
                    "+ create module.fleet.aws_instance.web[2]"
                ]
            );
        } else {
            assert_eq!(lines[0], "*Changes:* 400 to add, 50 to replace, 50 to destroy");
            let destructive = lines[1..].iter().take_while(|l| l.starts_with("*⚠ ")).count();
            assert!(destructive > 10, "destroys and replaces come first: {text}");
            let last = lines.last().unwrap();
            assert!(
                last.contains("more changes on the ticket's page") && last.contains("http://docket.test/tickets/DKT-1"),
                "{last}"
            );
        }
    }
}
