//! A report's result in Teams: the reply to the run's end carries the first rows as an
//! Adaptive Card `Table` (a header row, numbers right-aligned, typed text escaped), within the
//! card limits, with a button to the ticket's page, where the whole table and its CSV are.

use docket_core::result::Cell;
use docket_core::ticket::Origin;
use docket_core::{Actor, StepResult, TicketState};
use docket_teams::cards::MAX_CARD_BYTES;
use docket_teams::cards::check::check;
use docket_testkit::teams::FakeBotFramework;
use docket_testkit::{base_plugins, results};

use crate::support::{Harness, chat, texts};

const WORKFLOW: &str = r#"id: sales
title: Sales report
params: []
steps:
  - name: query
    result: {}
"#;

#[tokio::test]
async fn a_report_replies_with_a_table_of_its_first_rows_and_a_link() {
    let mut table = results::sales(250, 1000);
    table.rows[0][4] = Cell::Text("*bold* [link](http://x)".into());
    let h = Harness::with_app(FakeBotFramework::start().await, move |b| {
        b.plugins(base_plugins().with(results::plugins()))
            .runner(move |_| results::runner(StepResult::table(table.clone())))
            .workflow("sales.yaml", WORKFLOW)
    })
    .await;
    h.install(&["alice"]).await;
    let origin = Origin { surface: "teams".to_owned(), channel: Some(chat("alice")), ..Origin::default() };
    let ticket = h.t.app.request(&Actor::person("alice"), &"sales".into(), Default::default(), origin).await.unwrap();
    h.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let sent = h
        .wait_call("the reply with the result", |r| r.card().is_some_and(|c| texts(c).contains("Result of step 1")))
        .await;
    let card = sent.card().unwrap();
    check(card).unwrap_or_else(|p| panic!("{p:#?}\n{card:#}"));
    assert!(serde_json::to_vec(card).unwrap().len() < MAX_CARD_BYTES);
    let shown = texts(card);
    assert!(shown.contains("**Result of step 1 (query)**: 250 of 1,000 rows kept (cut at 250)"), "{shown}");
    let body = card["body"].as_array().unwrap();
    let grid = body.iter().find(|e| e["type"] == "Table").expect("a table");
    assert_eq!(grid["firstRowAsHeader"], true);
    let rows = grid["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 11, "a header and ten rows");
    let cell = |r: usize, c: usize| rows[r]["cells"][c]["items"][0].clone();
    assert_eq!(cell(0, 0)["text"], "region");
    assert_eq!(cell(0, 2)["horizontalAlignment"], "Right");
    assert_eq!(cell(3, 2)["text"], "2");
    assert_eq!(cell(3, 4)["text"], "NULL");
    assert_eq!(cell(1, 4)["text"], "\\*bold\\* \\[link\\](http://x)");
    let link = card["actions"][0].clone();
    assert_eq!(link["type"], "Action.OpenUrl");
    assert_eq!(link["url"], format!("https://docket.example.com/tickets/{}", ticket.id));
}

#[tokio::test]
async fn a_run_that_ends_with_a_line_replies_with_it_and_its_link() {
    let line = StepResult::line(
        "acme/api run 1234 attempt 2 completed: success",
        Some("https://github.com/acme/api/actions/runs/1234".to_owned()),
    );
    let h = Harness::with_app(FakeBotFramework::start().await, move |b| {
        b.plugins(base_plugins().with(results::plugins()))
            .runner(move |_| results::runner(line.clone()))
            .workflow("sales.yaml", WORKFLOW)
    })
    .await;
    h.install(&["alice"]).await;
    let origin = Origin { surface: "teams".to_owned(), channel: Some(chat("alice")), ..Origin::default() };
    let ticket = h.t.app.request(&Actor::person("alice"), &"sales".into(), Default::default(), origin).await.unwrap();
    h.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let sent = h
        .wait_call("the reply with the result", |r| r.card().is_some_and(|c| texts(c).contains("Result of step 1")))
        .await;
    let card = sent.card().unwrap();
    check(card).unwrap_or_else(|p| panic!("{p:#?}\n{card:#}"));
    let shown = texts(card);
    assert!(
        shown.contains(
            "**Result of step 1 (query)**: acme/api run 1234 attempt 2 completed: success \
             [https://github.com/acme/api/actions/runs/1234](https://github.com/acme/api/actions/runs/1234)"
        ),
        "{shown}"
    );
}
