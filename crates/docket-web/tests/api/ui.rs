//! The web UI through the real router and app: signing in (the demo's switch, each sign-in
//! and switch audited, and the pages without a session), the request form's validation, a
//! prod deploy requested, refused to its requester (button absent, forged and real POSTs
//! refused), approved by two others and run, live events on the session cookie, the list,
//! catalog and audit pages.

use std::time::Duration;

use axum::http::StatusCode;
use docket_app::TicketFilter;
use docket_core::{TicketId, TicketState};
use docket_testkit::TestApp;
use docket_web::WebOptions;

use crate::browser::Browser;

/// `kit`'s app served as `docket demo` serves it.
fn demo_router(kit: &TestApp) -> axum::Router {
    docket_web::router(kit.app.clone(), WebOptions { demo: true, ..WebOptions::default() })
}

async fn demo() -> (TestApp, Browser) {
    let kit = TestApp::start().await;
    let browser = Browser::new(demo_router(&kit));
    (kit, browser)
}

async fn request_prod_deploy(browser: &mut Browser) -> String {
    let form = browser.visit("/workflows/deploy/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.csrf();
    let fields = [("csrf", csrf.as_str()), ("p.service", "api"), ("p.version", "1.4.2"), ("p.env", "prod")];
    let sent = browser.post("/workflows/deploy/new", &fields).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    sent.location().trim_start_matches("/tickets/").to_owned()
}

#[tokio::test]
async fn without_a_session_pages_send_to_sign_in_and_forms_change_nothing() {
    let kit = TestApp::start().await;
    let mut browser = Browser::new(docket_web::router(kit.app.clone(), WebOptions::default()));
    let home = browser.get("/tickets?state=running").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), "/login?next=%2Ftickets%3Fstate%3Drunning");
    let login = browser.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("Web sign-in is not set up"), "{}", login.body);
    let posted = browser
        .post("/workflows/deploy/new", &[("p.service", "api"), ("p.version", "1.0.0"), ("p.env", "staging")])
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    assert!(kit.app.tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap().tickets.is_empty());
    // The demo's switch does not exist outside the demo.
    assert_eq!(browser.post("/demo/switch", &[("person", "dave")]).await.status, StatusCode::FORBIDDEN);
    assert!(browser.cookies.is_empty());
}

#[tokio::test]
async fn the_demo_signs_in_as_the_first_person_with_a_strict_cookie_and_switches() {
    let (kit, mut browser) = demo().await;
    let first = browser.get("/").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let cookie = first.set_cookies().join("\n");
    assert!(
        cookie.starts_with("docket_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "an http demo cannot use Secure cookies: {cookie}");
    let home = browser.visit("/").await;
    assert!(home.body.contains("Demo</strong> — acting as <strong id=\"acting-as\">alice</strong>"), "{}", home.body);
    assert_eq!(home.headers["x-frame-options"], "DENY", "pages cannot be framed");
    assert!(home.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    browser.act_as("dave").await;
    // The old session ended with the switch: it no longer works.
    let old = browser.cookies.clone();
    browser.act_as("bob").await;
    let mut stale = Browser::new(docket_web::router(kit.app.clone(), WebOptions::default()));
    stale.cookies = old;
    assert_eq!(stale.get("/").await.location(), "/login?next=%2F", "the session before the switch has ended");
}

#[tokio::test]
async fn the_demo_sign_in_and_each_switch_are_audited() {
    let (kit, mut browser) = demo().await;
    browser.act_as("dave").await;
    let records = kit.app.audit_records(0, 1000).await.unwrap();
    let sessions: Vec<(String, String, serde_json::Value)> = records
        .into_iter()
        .filter(|r| r.entry.action.starts_with("web.signed_"))
        .map(|r| (r.entry.action, r.entry.actor, r.entry.details))
        .collect();
    let expected = [
        ("web.signed_in", "alice", serde_json::json!({ "method": "demo" })),
        ("web.signed_out", "alice", serde_json::json!({ "method": "demo switch", "to": "dave" })),
        ("web.signed_in", "dave", serde_json::json!({ "method": "demo switch", "from": "alice" })),
    ];
    let expected: Vec<(String, String, serde_json::Value)> =
        expected.into_iter().map(|(a, p, d)| (a.to_owned(), p.to_owned(), d)).collect();
    assert_eq!(sessions, expected);
}

#[tokio::test]
async fn a_request_form_sent_twice_opens_one_ticket() {
    let (kit, mut browser) = demo().await;
    let form = browser.visit("/workflows/deploy/new").await;
    let (csrf, once) = (form.csrf(), form.field("once"));
    assert_eq!(once.len(), 64, "a random key of its own: {once}");
    let fields = [
        ("csrf", csrf.as_str()),
        ("once", once.as_str()),
        ("p.service", "api"),
        ("p.version", "1.4.2"),
        ("p.env", "staging"),
    ];
    // A double click: the same form twice at once, from the same session.
    let mut twin = Browser::new(demo_router(&kit));
    twin.cookies = browser.cookies.clone();
    let (one, two) =
        tokio::join!(browser.post("/workflows/deploy/new", &fields), twin.post("/workflows/deploy/new", &fields));
    let statuses = [one.status, two.status];
    assert!(statuses.contains(&StatusCode::SEE_OTHER), "{statuses:?}");
    assert!(statuses.iter().all(|s| [StatusCode::SEE_OTHER, StatusCode::CONFLICT].contains(s)), "{statuses:?}");
    let tickets = kit.app.tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap().tickets;
    assert_eq!(tickets.len(), 1, "one ticket");
    for sent in [&one, &two].into_iter().filter(|p| p.status == StatusCode::SEE_OTHER) {
        assert_eq!(sent.location(), format!("/tickets/{}", tickets[0].id), "both lead to it");
    }
    // Sent again later (the browser's back button, a reload): to the ticket it opened.
    let again = browser.post("/workflows/deploy/new", &fields).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location(), format!("/tickets/{}", tickets[0].id));
    // The key is kept in a scope of its own (pruned after two days), not beside the sessions.
    let kept = kit.app.recall_all("web.forms", "form:").await.unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].1, tickets[0].id.to_string());
    assert!(kit.app.recall_all("web", "form:").await.unwrap().is_empty());
    // A fresh form is a new request.
    let form = browser.visit("/workflows/deploy/new").await;
    assert_ne!(form.field("once"), once);
}

#[tokio::test]
async fn a_bad_version_is_shown_next_to_its_field_with_every_value_kept() {
    let (kit, mut browser) = demo().await;
    let form = browser.visit("/workflows/deploy/new").await;
    assert!(form.has_id("f-version") && form.body.contains("<label for=\"f-version\">"), "{}", form.body);
    let csrf = form.csrf();
    let fields = [("csrf", csrf.as_str()), ("p.service", "web"), ("p.version", "1.4"), ("p.env", "prod")];
    let page = browser.post("/workflows/deploy/new", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error_at = page.body.find("id=\"e-version\">").unwrap();
    let error = &page.body[error_at..error_at + 200];
    assert!(error.contains("does not match"), "{error}");
    assert!(page.body.contains("value=\"1.4\""), "the typed version is kept");
    assert!(page.body.contains("<option value=\"web\" selected>"), "the chosen service is kept");
    assert!(page.body.contains("aria-invalid=\"true\""));
    assert!(kit.app.tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap().tickets.is_empty());
}

#[tokio::test]
async fn a_prod_deploy_is_refused_to_its_requester_and_runs_after_two_approvals() {
    let (kit, mut browser) = demo().await;
    let id = request_prod_deploy(&mut browser).await;
    let ticket_id = TicketId::parse(&id).unwrap();
    let page = browser.visit(&format!("/tickets/{id}")).await;
    assert!(page.body.contains("data-state=\"awaiting_approval\""), "{}", page.body);
    assert!(!page.has_id("approve"), "the requester is offered no approve button");
    assert!(page.has_id("cancel") && page.body.contains("Why it needs approval"));
    assert!(
        page.body.contains("production") && page.body.contains("May approve: Carol Diaz, Bob Ruiz"),
        "{}",
        page.body
    );

    // A forged POST (no CSRF token) is refused and changes nothing.
    let digest = kit.app.ticket(&ticket_id).await.unwrap().digest.unwrap().to_string();
    let forged = browser.post(&format!("/tickets/{id}/approve"), &[("digest", &digest)]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // So is alice's own approval with the token: the app refuses it, in words.
    let csrf = page.csrf();
    let own = browser.post(&format!("/tickets/{id}/approve"), &[("csrf", &csrf), ("digest", &digest)]).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert!(own.body.contains("you requested this ticket, so you cannot approve it"), "{}", own.body);
    let ticket = kit.app.ticket(&ticket_id).await.unwrap();
    assert!(ticket.reviews.is_empty() && ticket.state == TicketState::AwaitingApproval);
    let audit = kit.app.audit_records(0, 1000).await.unwrap();
    assert!(audit.iter().any(|r| r.entry.action == "web.authentication_failed"), "the forged POST is audited");

    for approver in ["bob", "carol"] {
        browser.act_as(approver).await;
        let home = browser.visit("/").await;
        let waiting = &home.body
            [home.body.find("Waiting for your approval").unwrap()..home.body.find("Your open requests").unwrap()];
        assert!(
            waiting.contains(&format!("href=\"/tickets/{id}\"")),
            "{approver}'s home lists it as waiting: {waiting}"
        );
        let page = browser.visit(&format!("/tickets/{id}")).await;
        assert!(page.has_id("approve"), "{approver} may approve: {}", page.body);
        let csrf = page.csrf();
        let sent = browser
            .post(&format!("/tickets/{id}/approve"), &[("csrf", &csrf), ("digest", &digest), ("comment", "lgtm")])
            .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    }
    kit.wait_for_state(&ticket_id, TicketState::Succeeded).await;
    let page = browser.visit(&format!("/tickets/{id}")).await;
    assert!(page.body.contains("data-state=\"succeeded\""));
    assert!(page.body.contains("deploying api 1.4.2 to prod"), "the step's log is on the page: {}", page.body);
    assert!(page.body.contains("Bob Ruiz</strong> approved (stage lead)"), "{}", page.body);
    assert!(page.body.contains("ticket.approved"), "the ticket's audit records are listed");
}

#[tokio::test]
async fn a_token_from_another_session_is_refused() {
    let (kit, mut alice) = demo().await;
    let id = request_prod_deploy(&mut alice).await;
    let mut bob = Browser::new(demo_router(&kit));
    bob.act_as("bob").await;
    let alice_token = alice.visit("/").await.csrf();
    let digest = kit.app.ticket(&TicketId::parse(&id).unwrap()).await.unwrap().digest.unwrap().to_string();
    let page = bob.post(&format!("/tickets/{id}/approve"), &[("csrf", &alice_token), ("digest", &digest)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(kit.app.ticket(&TicketId::parse(&id).unwrap()).await.unwrap().reviews.is_empty());
}

#[tokio::test]
async fn the_event_stream_works_on_the_session_cookie() {
    let (kit, mut browser) = demo().await;
    let id = request_prod_deploy(&mut browser).await;
    let jar: Vec<String> = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let router = demo_router(&kit);
    let request = axum::http::Request::get(format!("/tickets/{id}/events"))
        .header("cookie", jar.join("; "))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body().into_data_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), futures_util::StreamExt::next(&mut body)).await.unwrap();
    let text = String::from_utf8(first.unwrap().unwrap().to_vec()).unwrap();
    assert!(text.starts_with("event: ticket"), "{text}");
    assert!(text.contains("\"state\":\"awaiting_approval\""), "{text}");
}

#[tokio::test]
async fn lists_catalog_and_static_files() {
    let (_kit, mut browser) = demo().await;
    let id = request_prod_deploy(&mut browser).await;
    let all = browser.visit("/tickets").await;
    assert!(all.body.contains(&format!("href=\"/tickets/{id}\"")));
    let none = browser.visit("/tickets?state=succeeded").await;
    assert!(!none.body.contains(&format!("href=\"/tickets/{id}\"")) && none.body.contains("No tickets match."));
    assert_eq!(browser.visit("/tickets?state=sideways").await.status, StatusCode::BAD_REQUEST);
    let home = browser.visit("/").await;
    assert!(home.body.contains(&format!("href=\"/tickets/{id}\"")), "alice's open request is on her home page");
    let catalog = browser.visit("/catalog?q=deploy").await;
    assert!(catalog.body.contains("href=\"/workflows/deploy/new\""));
    assert!(browser.visit("/catalog?q=zebra").await.body.contains("No workflow matches."));
    let workflow = browser.visit("/workflows/deploy").await;
    assert!(workflow.body.contains("Prior runs") && workflow.body.contains(&id));
    assert_eq!(browser.visit("/workflows/nope").await.status, StatusCode::NOT_FOUND);
    assert_eq!(browser.visit("/tickets/DKT-999").await.status, StatusCode::NOT_FOUND);
    let css = browser.get("/static/docket.css").await;
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert!(css.body.contains("prefers-color-scheme: dark"));
    assert_eq!(browser.get("/static/secret.txt").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_audit_page_filters_exports_and_verifies_for_admins_only() {
    let (_kit, mut browser) = demo().await;
    let id = request_prod_deploy(&mut browser).await;
    assert_eq!(browser.visit("/audit").await.status, StatusCode::FORBIDDEN);
    browser.act_as("dave").await;
    let page = browser.visit(&format!("/audit?ticket={id}&verify=1")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("ticket.requested") && page.body.contains("Intact: "), "{}", page.body);
    assert!(!page.body.contains("Intact: 1 records"), "{}", page.body);
    let export = browser.visit(&format!("/audit/export?ticket={id}")).await;
    assert_eq!(export.headers["content-type"], "application/x-ndjson");
    let lines: Vec<serde_json::Value> = export.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty() && lines.iter().all(|l| l["ticket"] == id.as_str()), "{}", export.body);
}

#[tokio::test]
async fn changes_are_requested_amended_with_field_errors_and_commented() {
    let (kit, mut browser) = demo().await;
    let id = request_prod_deploy(&mut browser).await;
    let ticket_id = TicketId::parse(&id).unwrap();
    browser.act_as("bob").await;
    let csrf = browser.visit(&format!("/tickets/{id}")).await.csrf();
    let empty = browser.post(&format!("/tickets/{id}/request_changes"), &[("csrf", &csrf), ("reason", " ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "a blank reason is refused: {}", empty.body);
    assert!(empty.body.contains("id=\"flash\""));
    let sent =
        browser.post(&format!("/tickets/{id}/request_changes"), &[("csrf", &csrf), ("reason", "use 1.4.3")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(kit.app.ticket(&ticket_id).await.unwrap().state, TicketState::ChangesRequested);

    browser.act_as("alice").await;
    let page = browser.visit(&format!("/tickets/{id}")).await;
    assert!(page.has_id("amend") && !page.has_id("approve"), "{}", page.body);
    let form = browser.visit(&format!("/tickets/{id}/amend")).await;
    assert!(form.body.contains("value=\"1.4.2\""), "the amend form starts from the ticket's values");
    let csrf = form.csrf();
    let bad = [("csrf", csrf.as_str()), ("p.service", "api"), ("p.version", "one"), ("p.env", "prod")];
    let page = browser.post(&format!("/tickets/{id}/amend"), &bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("value=\"one\"") && page.body.contains("does not match"), "{}", page.body);
    let good = [("csrf", csrf.as_str()), ("p.service", "api"), ("p.version", "1.4.3"), ("p.env", "prod")];
    assert_eq!(browser.post(&format!("/tickets/{id}/amend"), &good).await.status, StatusCode::SEE_OTHER);
    let ticket = kit.app.ticket(&ticket_id).await.unwrap();
    assert_eq!((ticket.state, ticket.round), (TicketState::AwaitingApproval, 2));
    assert_eq!(ticket.params.get("version").unwrap().to_string(), "1.4.3");

    let said =
        browser.post(&format!("/tickets/{id}/comment"), &[("csrf", &csrf), ("text", "amended <b>as asked</b>")]).await;
    assert_eq!(said.status, StatusCode::SEE_OTHER);
    let page = browser.visit(&format!("/tickets/{id}")).await;
    assert!(
        page.body.contains("amended &#60;b&#62;as asked&#60;/b&#62;")
            || page.body.contains("amended &lt;b&gt;as asked&lt;/b&gt;"),
        "comments are escaped: {}",
        page.body
    );
    assert!(page.body.contains("requested changes — an earlier plan"), "{}", page.body);
    assert_eq!(browser.post(&format!("/tickets/{id}/launch"), &[("csrf", &csrf)]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cookies_are_secure_behind_https() {
    let kit =
        TestApp::builder().settings(|s| s.public_url = Some("https://docket.example.com".to_owned())).start().await;
    let mut browser = Browser::new(demo_router(&kit));
    let cookie = browser.get("/").await.set_cookies().join("\n");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn the_links_chat_messages_carry_open_the_ticket_page() {
    let base = "https://docket.example.com";
    let kit = TestApp::builder().settings(|s| s.public_url = Some(base.to_owned())).start().await;
    let mut browser = Browser::new(demo_router(&kit));
    let id = request_prod_deploy(&mut browser).await;
    let link = kit.app.ticket_url(&TicketId::parse(&id).unwrap()).unwrap();
    let page = browser.visit(link.strip_prefix(base).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("<span class=\"ticket-id\">{id}</span>")), "{}", page.body);
}
