//! A report's result in its ticket's thread: the first rows as an aligned table (within Block
//! Kit's limits), then the whole kept table as a CSV file shared through
//! `files.getUploadURLExternal`, the upload URL and `files.completeUploadExternal`, once.

use docket_core::result::Cell;
use docket_core::ticket::Origin;
use docket_core::{Actor, StepResult, TicketState};
use docket_slack::render::limits::check_message;
use docket_testkit::{base_plugins, results};

use crate::support::{Harness, block_text};

const WORKFLOW: &str = r#"id: sales
title: Sales report
params: []
steps:
  - name: query
    result: {}
"#;

fn origin() -> Origin {
    Origin { surface: "slack".to_owned(), channel: Some("C0REPORTS".to_owned()), ..Origin::default() }
}

#[tokio::test]
async fn a_report_shows_its_first_rows_and_shares_the_whole_table_as_csv() {
    let mut table = results::sales(250, 1000);
    table.rows[0][4] = Cell::Text("*bold* <@U123> ```fence```".into());
    let kept = table.clone();
    let h = Harness::start_with(move |b| {
        b.plugins(base_plugins().with(results::plugins()))
            .runner(move |_| results::runner(StepResult::table(kept.clone())))
            .workflow("sales.yaml", WORKFLOW)
    })
    .await;
    let ticket = h.t.app.request(&Actor::person("alice"), &"sales".into(), Default::default(), origin()).await.unwrap();
    h.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    h.fake.wait_for("the file shared", |calls| calls.iter().any(|c| c.method == "files.completeUploadExternal")).await;
    let thread = h.fake.wait_for_message("the ticket message", |m| m.thread_ts.is_none()).await;
    let result = h.fake.wait_for_message("the result", |m| m.text.starts_with("Result of step 1 (query)")).await;
    assert_eq!(result.thread_ts.as_deref(), Some(thread.ts.as_str()));
    assert_eq!(result.text, "Result of step 1 (query): 250 of 1,000 rows kept (cut at 250)");
    assert!(check_message(&result.text, &result.blocks).is_empty(), "{:#?}", result.blocks);
    let shown = block_text(&result.blocks);
    assert!(shown.contains("region      total    orders  day         note"), "{shown}");
    assert!(shown.contains("region-009  1009.50       9  2026-11-24"), "{shown}");
    assert!(!shown.contains("region-010"), "ten rows: {shown}");
    assert!(!shown.contains("<@U123>") && shown.contains("&lt;@U123&gt;"), "typed text is escaped: {shown}");
    assert!(shown.contains("the whole kept table follows as a CSV file"), "{shown}");

    let files = h.fake.files();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file.filename, format!("{}-step1.csv", ticket.id));
    assert_eq!(file.channel.as_deref(), Some(thread.channel.as_str()));
    assert_eq!(file.thread_ts.as_deref(), Some(thread.ts.as_str()));
    assert_eq!(String::from_utf8(file.content.clone()).unwrap(), table.csv());
    let asked = h.fake.calls_to("files.getUploadURLExternal");
    assert_eq!(asked[0].body["length"], table.csv().len().to_string());

    // The reply saying the run succeeded comes after the result, and each is sent once.
    let reply = h.fake.wait_for_message("the success reply", |m| m.text.starts_with("Succeeded")).await;
    assert!(reply.ts > result.ts);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(h.fake.files().len(), 1);
    assert_eq!(h.fake.messages().iter().filter(|m| m.text.starts_with("Result of step")).count(), 1);
}

#[tokio::test]
async fn a_file_that_cannot_be_shared_is_retried_without_posting_the_table_twice() {
    let h = Harness::start_with(|b| {
        b.plugins(base_plugins().with(results::plugins()))
            .runner(|_| results::runner(StepResult::table(results::sales(3, 3))))
            .workflow("sales.yaml", WORKFLOW)
    })
    .await;
    h.fake.fail("files.completeUploadExternal", "internal_error");
    let ticket = h.t.app.request(&Actor::person("alice"), &"sales".into(), Default::default(), origin()).await.unwrap();
    h.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    h.fake
        .wait_for("the file shared on a retry", |calls| {
            calls.iter().filter(|c| c.method == "files.completeUploadExternal").count() == 2
        })
        .await;
    assert_eq!(h.fake.files().len(), 1);
    assert_eq!(h.fake.messages().iter().filter(|m| m.text.starts_with("Result of step")).count(), 1);
}

#[tokio::test]
async fn a_run_that_ends_with_a_line_says_it_and_its_link_in_the_thread() {
    let line = StepResult::line(
        "platform/api pipeline 501 finished: success",
        Some("https://gitlab.example.com/platform/api/-/pipelines/501".to_owned()),
    );
    let h = Harness::start_with(move |b| {
        b.plugins(base_plugins().with(results::plugins()))
            .runner(move |_| results::runner(line.clone()))
            .workflow("sales.yaml", WORKFLOW)
    })
    .await;
    let ticket = h.t.app.request(&Actor::person("alice"), &"sales".into(), Default::default(), origin()).await.unwrap();
    h.t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let thread = h.fake.wait_for_message("the ticket message", |m| m.thread_ts.is_none()).await;
    let result = h.fake.wait_for_message("the result", |m| m.text.starts_with("Result of step 1 (query)")).await;
    assert_eq!(result.thread_ts.as_deref(), Some(thread.ts.as_str()));
    assert_eq!(
        result.text,
        "Result of step 1 (query): platform/api pipeline 501 finished: success \
         https://gitlab.example.com/platform/api/-/pipelines/501"
    );
    assert!(check_message(&result.text, &result.blocks).is_empty(), "{:#?}", result.blocks);
    let shown = block_text(&result.blocks);
    assert!(
        shown.contains(
            "platform/api pipeline 501 finished: success \
             <https://gitlab.example.com/platform/api/-/pipelines/501|https://gitlab.example.com/platform/api/-/pipelines/501>"
        ),
        "{shown}"
    );
    assert!(h.fake.files().is_empty(), "no table, no file");
}
