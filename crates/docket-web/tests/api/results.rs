//! Step results where people look: the ticket page shows a report's first 200 rows (NULL told
//! apart, numbers right-aligned) with a CSV download of the whole kept table; the API gives the
//! result as JSON and the same CSV. The test kit's `result` step kind keeps the table a test
//! gives it, as a report would.

use axum::http::{StatusCode, header};
use docket_core::StepResult;
use docket_core::result::Cell;
use docket_testkit::{TestApp, base_plugins, results};
use docket_web::WebOptions;
use serde_json::json;

use crate::browser::Browser;
use crate::support::Api;

/// A workflow whose one step keeps the kit's sales table.
pub(crate) const REPORT: &str = r#"id: sales
title: Sales report
params: []
steps:
  - name: query
    result: {}
"#;

/// 250 rows kept of 1,000 (so the page shows 200 of them and says so).
async fn kit() -> TestApp {
    TestApp::builder()
        .plugins(base_plugins().with(results::plugins()))
        .runner(|_| results::runner(StepResult::table(results::sales(250, 1000))))
        .workflow("sales.yaml", REPORT)
        .start()
        .await
}

#[tokio::test]
async fn the_ticket_page_shows_the_table_and_offers_the_whole_csv() {
    let kit = kit().await;
    let mut browser =
        Browser::new(docket_web::router(kit.app.clone(), WebOptions { demo: true, ..WebOptions::default() }));
    let form = browser.visit("/workflows/sales/new").await;
    let csrf = form.csrf();
    let sent = browser.post("/workflows/sales/new", &[("csrf", csrf.as_str())]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let location = sent.location().to_owned();
    let id = location.trim_start_matches("/tickets/").to_owned();
    kit.wait_for_state(&docket_core::TicketId::parse(&id).unwrap(), docket_core::TicketState::Succeeded).await;
    let page = browser.visit(&location).await;
    let body = &page.body;
    assert!(body.contains("<h2 id=\"results-h\">Results</h2>"), "{body}");
    assert!(body.contains("250 of 1,000 rows kept (cut at 250)"), "{body}");
    assert!(body.contains("Showing the first 200; the CSV has all 250 kept."), "{body}");
    assert!(body.contains(r#"<th scope="col" title="numeric">total</th>"#), "{body}");
    assert!(body.contains(r#"<th scope="col" title="int8" class="num">orders</th>"#), "{body}");
    assert!(body.contains(r#"<td class="null">NULL</td>"#), "{body}");
    // Typed text is escaped, never markup.
    assert!(body.contains("late, &#34;rush&#34;") || body.contains("late, &quot;rush&quot;"), "{body}");
    assert!(body.contains("region-199") && !body.contains("region-200"), "only the first 200 rows");
    let link = format!("/tickets/{id}/results.csv?step=1");
    assert!(body.contains(&format!("href=\"{link}\" download")), "{body}");

    let csv = browser.visit(&link).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap().to_owned();
    assert_eq!(disposition, format!("attachment; filename=\"{id}-step1.csv\""));
    assert_eq!(csv.body, results::sales(250, 1000).csv());
    let missing = browser.visit(&format!("/tickets/{id}/results.csv?step=2")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_api_gives_the_result_as_json_and_csv() {
    let api = Api::start_with(kit().await).await;
    let created = api.post("alice", "/api/v1/tickets", json!({"workflow": "sales"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    api.wait_for(&id, docket_core::TicketState::Succeeded).await;
    let reply = api.get("alice", &format!("/api/v1/tickets/{id}/results")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let result = &reply.json()["results"][0];
    assert_eq!(result["step"], 1);
    assert_eq!(result["name"], "query");
    assert_eq!(result["run"], 1);
    assert_eq!(result["columns"][1], json!({"name": "total", "type": "numeric"}));
    assert_eq!(result["rows"].as_array().unwrap().len(), 250);
    assert_eq!(result["rows"][2], json!(["region-002", "1002.50", 2, "2026-11-24", null]));
    assert_eq!((result["row_count"].clone(), result["truncated"].clone()), (json!(1000), json!(true)));
    assert_eq!(result["rows_changed"], json!(null));
    assert_eq!(result["csv"], format!("/api/v1/tickets/{id}/results.csv?step=1"));
    let csv = api.get("alice", result["csv"].as_str().unwrap()).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.text, results::sales(250, 1000).csv());
    // Every cell as JSON reads back to the value kept.
    let cells: Vec<Vec<Cell>> = serde_json::from_value(result["rows"].clone()).unwrap();
    assert_eq!(cells, results::sales(250, 1000).rows);
}

/// A report that runs after a pause, so its page is open before the result is kept.
const SLOW_REPORT: &str = r#"id: slow-sales
title: Slow sales report
params: []
steps:
  - name: pause
    wait: 1500ms
  - name: query
    result: {}
"#;

#[tokio::test]
async fn a_result_reaches_the_open_page_without_a_reload() {
    let kit = TestApp::builder()
        .plugins(base_plugins().with(results::plugins()))
        .runner(|_| results::runner(StepResult::table(results::sales(3, 3))))
        .workflow("slow-sales.yaml", SLOW_REPORT)
        .start()
        .await;
    let mut browser =
        Browser::new(docket_web::router(kit.app.clone(), WebOptions { demo: true, ..WebOptions::default() }));
    let form = browser.visit("/workflows/slow-sales/new").await;
    let csrf = form.csrf();
    let sent = browser.post("/workflows/slow-sales/new", &[("csrf", csrf.as_str())]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let location = sent.location().to_owned();
    let id = location.trim_start_matches("/tickets/").to_owned();

    // The page, opened while the pause runs: live, and no result yet.
    let page = browser.visit(&location).await;
    assert!(page.body.contains(r#"data-live="true""#), "{}", page.body);
    assert!(page.body.contains(r#"<div id="results" data-shown="">"#), "{}", page.body);
    assert!(!page.body.contains("results-h"), "{}", page.body);

    // The page's event stream (it ends when the ticket does) announces the result once.
    let events = browser.visit(&format!("/tickets/{id}/events")).await;
    assert_eq!(events.status, StatusCode::OK);
    let announced: Vec<&str> = events.body.lines().filter(|l| l.starts_with("event: result")).collect();
    assert_eq!(announced.len(), 1, "{}", events.body);
    assert!(events.body.contains("event: result\ndata: {\"run\":1,\"step\":1}"), "{}", events.body);

    // What the page's script then asks for: the results part, with the table.
    let part = browser.visit(&format!("/tickets/{id}/results")).await;
    assert_eq!(part.status, StatusCode::OK);
    assert!(part.body.trim_start().starts_with(r#"<div id="results" data-shown="1:1">"#), "{}", part.body);
    assert!(part.body.contains("<h2 id=\"results-h\">Results</h2>"), "{}", part.body);
    assert!(part.body.contains("region-002"), "{}", part.body);
    assert!(part.body.contains(&format!("href=\"/tickets/{id}/results.csv?step=2\" download")), "{}", part.body);
    assert!(!part.body.contains("<html"), "a fragment, not a page");
    // And a reload shows the same, without any script.
    let again = browser.visit(&location).await;
    assert!(again.body.contains(r#"<div id="results" data-shown="1:1">"#), "{}", again.body);
    let missing = browser.visit("/tickets/DKT-404/results").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
