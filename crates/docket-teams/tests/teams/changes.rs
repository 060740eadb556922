//! A plan with structured changes, through the app into Teams: the approval card leads with the
//! summary, lists destroys and replaces first in the attention colour, and stays within the
//! card limits — for 500 changes too, with the rest on the ticket's page.

use docket_core::Actor;
use docket_core::ticket::Origin;
use docket_teams::cards::MAX_CARD_BYTES;
use docket_teams::cards::check::check;
use docket_testkit::teams::FakeBotFramework;
use docket_testkit::{base_plugins, changes};
use serde_json::json;

use crate::support::{APPROVALS, Harness};

const WORKFLOW: &str = r#"id: fleet
title: Resize the fleet
params:
  - { name: env, type: choice, choices: [staging, prod] }
steps:
  - name: fleet
    changes: {}
"#;

#[tokio::test]
async fn approval_cards_lead_with_the_changes_within_limits() {
    for n in [4, 500] {
        let planned = changes::many(n);
        let h = Harness::with_app(FakeBotFramework::start().await, move |b| {
            b.plugins(base_plugins().with(changes::plugins()))
                .runner(move |_| changes::runner(planned.clone()))
                .workflow("fleet.yaml", WORKFLOW)
        })
        .await;
        h.install(&["bob", "carol"]).await;
        let params = [("env".to_owned(), json!("prod"))].into_iter().collect();
        h.t.app.request(&Actor::person("alice"), &"fleet".into(), params, Origin::default()).await.unwrap();
        let sent = h
            .wait_call("the channel's approval card", |r| {
                r.kind == "send" && r.conversation == APPROVALS && r.card().is_some()
            })
            .await;
        let card = sent.card().unwrap();
        check(card).unwrap_or_else(|p| panic!("{n} changes: {p:#?}"));
        assert!(serde_json::to_vec(card).unwrap().len() < MAX_CARD_BYTES);
        let body = card["body"].as_array().unwrap();
        let at = body.iter().position(|e| e["text"].as_str().is_some_and(|t| t.starts_with("Changes: "))).unwrap();
        assert_eq!(at, 2, "the changes come right after the title and the status");
        let marked = &body[at + 1];
        assert_eq!(marked["color"], "Attention");
        if n == 4 {
            assert_eq!(body[at]["text"], "Changes: 3 to add, 1 to destroy");
            assert_eq!(marked["text"], "⚠ destroy module.fleet.aws\\_instance.web\\[3\\]");
            assert_eq!(body[at + 2]["text"].as_str().unwrap().matches("+ create").count(), 3);
        } else {
            assert_eq!(body[at]["text"], "Changes: 400 to add, 50 to replace, 50 to destroy");
            assert!(marked["text"].as_str().unwrap().split("\n\n").all(|l| l.starts_with("⚠ ")));
            assert!(
                card.to_string()
                    .contains("more changes on the ticket's page](https://docket.example.com/tickets/DKT-1)")
            );
        }
    }
}
