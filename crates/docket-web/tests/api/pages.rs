//! What a new user meets on the pages, each seen once and kept fixed: unknown URLs answer with
//! a page and the way back; descriptions and help show code, bold and links (escaped); a step
//! that has not started says so; the workflow page lists a choice's values; `/audit` refuses
//! inside the frame, with the demo's banner, naming who the admin is; and the ticket page's
//! panels are served alone, as they are now, for the page's script to put in place.

use axum::http::StatusCode;
use docket_core::{Actor, TicketId, TicketState};
use docket_testkit::TestApp;
use docket_testkit::fixture::DEPLOY_YAML;
use docket_web::WebOptions;

use crate::browser::{Browser, Page};

fn demo(kit: &TestApp) -> Browser {
    Browser::new(docket_web::router(kit.app.clone(), WebOptions { demo: true, ..WebOptions::default() }))
}

async fn prod_deploy(kit: &TestApp) -> (TicketId, String) {
    let params = serde_json::json!({ "service": "api", "version": "1.4.2", "env": "prod" });
    let params = params.as_object().unwrap().clone().into_iter().collect();
    let origin = docket_core::ticket::Origin { surface: "api".to_owned(), ..Default::default() };
    let ticket = kit.app.request(&Actor::person("alice"), &"deploy".into(), params, origin).await.unwrap();
    let digest = ticket.digest.unwrap().to_string();
    (ticket.id, digest)
}

/// The text between `id="{from}"` and the next `</section>`.
fn section<'a>(page: &'a Page, from: &str) -> &'a str {
    let start = page.body.find(&format!("id=\"{from}\"")).unwrap_or_else(|| panic!("no #{from} in {}", page.body));
    let end = page.body[start..].find("</section>").map_or(page.body.len(), |e| start + e);
    &page.body[start..end]
}

#[tokio::test]
async fn an_unknown_url_is_a_page_with_the_way_back() {
    let kit = TestApp::start().await;
    let mut browser = demo(&kit);
    browser.visit("/").await;
    let page = browser.get("/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("There is no page at /no/such/page."), "{}", page.body);
    assert!(page.body.contains("<a href=\"/\" id=\"back\">Back to Docket</a>"), "{}", page.body);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    // Without a session too, and the API keeps its JSON errors.
    let mut stranger = Browser::new(docket_web::router(kit.app.clone(), WebOptions::default()));
    assert!(stranger.get("/nope").await.body.contains("Back to Docket"));
    let api = stranger.get("/api/v1/nope").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.body.starts_with("{\"error\""), "{}", api.body);
}

#[tokio::test]
async fn descriptions_and_help_show_code_bold_and_links_escaped() {
    let described = DEPLOY_YAML.replace(
        "description: Roll out a version of a service.",
        "description: \"Points `current` at the release, **then** checks it; see [the runbook](https://runbooks.example.com/deploy). <script>alert(1)</script>\"",
    );
    let kit = TestApp::builder().workflow("deploy.yaml", &described).start().await;
    let mut browser = demo(&kit);
    let expected = "Points <code>current</code> at the release, <strong>then</strong> checks it; see \
                    <a href=\"https://runbooks.example.com/deploy\">the runbook</a>. &lt;script&gt;alert(1)&lt;/script&gt;";
    for path in ["/catalog", "/workflows/deploy", "/workflows/deploy/new"] {
        let page = browser.visit(path).await;
        assert!(page.body.contains(expected), "{path}: {}", page.body);
        assert!(!page.body.contains("<script>alert"), "{path}");
    }
    let form = browser.visit("/workflows/deploy/new").await;
    assert!(form.body.contains("matches <code>^\\d+\\.\\d+\\.\\d+$</code>"), "{}", form.body);
    // The sign-in page says how to get a token, as code.
    let mut stranger = Browser::new(docket_web::router(kit.app.clone(), WebOptions::default()));
    let login = stranger.get("/login").await;
    assert!(login.body.contains("<code>docket token create --person you</code>"), "{}", login.body);
    assert!(!login.body.contains("`docket"), "{}", login.body);
}

#[tokio::test]
async fn the_workflow_page_lists_a_choice_s_values_and_steps_not_started_say_so() {
    let kit = TestApp::start().await;
    let mut browser = demo(&kit);
    let workflow = browser.visit("/workflows/deploy").await;
    assert!(workflow.body.contains("One of <code>staging</code>, <code>prod</code>"), "{}", workflow.body);
    assert!(workflow.body.contains("One of <code>api</code>, <code>web</code>"), "{}", workflow.body);
    let (id, _) = prod_deploy(&kit).await;
    let page = browser.visit(&format!("/tickets/{id}")).await;
    assert!(page.body.contains("<pre class=\"log\" id=\"log-1-0\" aria-live=\"polite\" hidden>"), "{}", page.body);
    assert!(page.body.contains("<p class=\"log-note muted small\" id=\"note-1-0\">Not started</p>"), "{}", page.body);
}

#[tokio::test]
async fn the_audit_page_refuses_in_the_frame_and_names_the_demo_s_admin() {
    let kit = TestApp::start().await;
    let mut browser = demo(&kit);
    let page = browser.visit("/audit?verify=1").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Only admins can read the audit log, and Alice Ng is not one."), "{}", page.body);
    assert!(page.body.contains("In this demo the admin is <code>dave</code> (Dave Admin)"), "{}", page.body);
    assert!(page.body.contains("id=\"demo-person\""), "the banner is there to switch: {}", page.body);
    assert!(page.body.contains("<input type=\"hidden\" name=\"next\" value=\"/audit?verify=1\">"), "{}", page.body);
    // Switching from there opens the audit page as the admin.
    let csrf = page.csrf();
    let switched =
        browser.post("/demo/switch", &[("csrf", &csrf), ("person", "dave"), ("next", "/audit?verify=1")]).await;
    assert_eq!(switched.location(), "/audit?verify=1");
    let audit = browser.visit("/audit?verify=1").await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(audit.body.contains("Intact: "), "{}", audit.body);
}

#[tokio::test]
async fn the_panels_follow_approvals_comments_and_the_run() {
    let kit = TestApp::start().await;
    let (id, digest) = prod_deploy(&kit).await;
    let mut bob = demo(&kit);
    bob.act_as("bob").await;
    let panels = format!("/tickets/{id}/panels?digest={digest}");
    let before = bob.visit(&panels).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(before.body.starts_with("<div id=\"ticket-status\""), "{}", before.body);
    assert!(before.body.contains("data-state=\"awaiting_approval\"") && before.has_id("approve"), "{}", before.body);
    assert!(section(&before, "approval-h").contains("<span class=\"badge waiting\">waiting</span>"));
    assert!(section(&before, "approval-h").contains("rule <code>production</code> matched"), "{}", before.body);

    // Carol (on call) approves the first stage and comments: bob's panels say so, and he may
    // approve the second.
    kit.app.approve(&Actor::person("carol"), &id, docket_core::Digest::parse(&digest).unwrap(), None).await.unwrap();
    kit.app.comment(&Actor::person("carol"), &id, "the diff looks right".to_owned()).await.unwrap();
    let after = bob.visit(&panels).await;
    assert!(section(&after, "approval-h").contains("Approved by Carol Diaz"), "{}", after.body);
    let timeline = section(&after, "timeline-h");
    assert!(timeline.contains("Carol Diaz</strong> approved (stage lead)"), "{timeline}");
    assert!(timeline.contains("the diff looks right"), "{timeline}");
    assert!(after.has_id("approve"), "{}", after.body);

    // A page showing another plan is not offered the approve button.
    let stale = bob.visit(&format!("/tickets/{id}/panels?digest={}", "0".repeat(64))).await;
    assert!(!stale.has_id("approve") && stale.has_id("changed"), "{}", stale.body);

    // Bob approves; the ticket runs and succeeds: the state and the headline change together,
    // and the buttons of a waiting ticket are gone.
    kit.app.approve(&Actor::person("bob"), &id, docket_core::Digest::parse(&digest).unwrap(), None).await.unwrap();
    kit.wait_for_state(&id, TicketState::Succeeded).await;
    let done = bob.visit(&panels).await;
    let status = &done.body[..done.body.find("<div id=\"side\"").unwrap()];
    assert!(status.contains("data-state=\"succeeded\""), "{status}");
    assert!(!status.to_lowercase().contains("waiting"), "no succeeded badge beside a waiting headline: {status}");
    assert!(!done.has_id("approve") && !done.has_id("reject") && !done.has_id("cancel"), "{}", done.body);
    assert!(!section(&done, "approval-h").contains("badge waiting"), "{}", done.body);
}
