//! End to end: a real app mirrors its tickets into the fake ServiceNow through the outbox,
//! and signed callbacks come back through `POST /servicenow/callback`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use docket_app::Settings;
use docket_core::{Actor, Digest, RawParams, Ticket, TicketState};
use docket_servicenow::{ServiceNowClient, ServiceNowNotifier, ServiceNowSettings};
use docket_testkit::TestApp;
use docket_testkit::ticketing::servicenow::{self, FakeServiceNow};
use serde_json::Value;
use tower::ServiceExt as _;

const SECRET: &str = "servicenow-callback-secret";

async fn start(fake: &FakeServiceNow) -> (TestApp, Arc<ServiceNowSettings>) {
    let mut settings = ServiceNowSettings::new(&fake.url, servicenow::USERNAME, servicenow::PASSWORD, SECRET);
    settings.retry.backoff.base = Duration::from_millis(10);
    let settings = Arc::new(settings);
    let client = ServiceNowClient::new(settings.clone()).unwrap();
    let app = TestApp::builder()
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(20);
            s.outbox_max_backoff = Duration::from_millis(200);
            s.outbox_max_attempts = 100;
            s.public_url = Some("https://docket.example".to_owned());
        })
        .notifier(ServiceNowNotifier::new(client))
        .start()
        .await;
    (app, settings)
}

fn params(env: &str) -> RawParams {
    [("service", "api"), ("version", "1.4.2"), ("env", env)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect()
}

async fn request(app: &TestApp, env: &str) -> Ticket {
    let origin = docket_core::ticket::Origin { surface: "teams".to_owned(), ..Default::default() };
    app.app.request(&Actor::person("alice"), &"deploy".into(), params(env), origin).await.unwrap()
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The `sys_id` of the ticket's record once Docket has recorded which ticket it belongs to (the
/// record exists in ServiceNow a moment before that link does).
async fn linked_record(app: &TestApp, fake: &FakeServiceNow) -> String {
    eventually("the record", || !fake.records().is_empty()).await;
    let sys_id = fake.records()[0].field("sys_id").to_owned();
    let key = docket_servicenow::ticket_key(&sys_id);
    app.wait_for_kept(docket_servicenow::SYSTEM, &key, None, "the record's link to the ticket").await;
    sys_id
}

/// Waits until Docket has recorded that the record shows `ticket`'s plan, which it does only
/// once the record's state has changed (an approval given in ServiceNow counts only for the plan
/// the record showed).
async fn shown_in_servicenow(app: &TestApp, ticket: &Ticket) {
    let digest = ticket.digest.expect("a plan").to_string();
    let key = format!("synced:{}", ticket.id);
    app.wait_for_kept(docket_servicenow::SYSTEM, &key, Some(&digest), "the record to show the plan").await;
}

fn notes(record: &servicenow::Record) -> Vec<String> {
    record.work_notes.iter().map(|(_, _, text)| text.clone()).collect()
}

async fn approve(app: &TestApp, ticket: &Ticket, who: &str) {
    let digest: Digest = app.app.ticket(&ticket.id).await.unwrap().digest.unwrap();
    app.app.approve(&Actor::person(who), &ticket.id, digest, None).await.unwrap();
}

#[tokio::test]
async fn a_ticket_is_one_change_request_following_the_change_model() {
    let fake = FakeServiceNow::start().await;
    let (app, _) = start(&fake).await;
    let ticket = request(&app, "prod").await;
    eventually("the change request", || fake.records().first().is_some_and(|r| r.field("state") == "-3")).await;
    let record = fake.records().remove(0);
    assert_eq!(record.table, "change_request");
    assert_eq!(record.field("number"), "CHG0030001");
    assert_eq!(record.field("correlation_id"), ticket.id.to_string());
    assert_eq!(record.field("sys_id").len(), 32);
    let description = record.field("description");
    assert!(description.starts_with(&format!("Docket: https://docket.example/tickets/{}", ticket.id)), "{description}");
    assert!(description.contains("needs 1 approval from lead"), "{description}");

    approve(&app, &ticket, "carol").await;
    approve(&app, &ticket, "bob").await;
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    eventually("closed", || fake.records()[0].field("state") == "3").await;
    let record = fake.records().remove(0);
    assert_eq!(record.states, ["-5", "-3", "-2", "-1", "3"].map(str::to_owned).to_vec(), "the change model, in order");
    assert_eq!(record.field("close_code"), "successful");
    let notes = notes(&record);
    let at =
        |words: &str| notes.iter().position(|n| n.contains(words)).unwrap_or_else(|| panic!("{words:?} in {notes:?}"));
    assert!(at("Approved by Carol Diaz") < at("Approved by Bob Ruiz"));
    assert!(at("Run started") < at("Succeeded"));
    assert!(notes[at("Succeeded")].contains("logs: https://docket.example/tickets/"));
    assert_eq!(fake.records().len(), 1);
    let links = app.app.ticket(&ticket.id).await.unwrap().links;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!((links[0].system.as_str(), links[0].key.as_str()), ("servicenow", "CHG0030001"));
}

#[tokio::test]
async fn servicenow_down_then_back_loses_nothing_and_duplicates_nothing() {
    let fake = FakeServiceNow::start().await;
    let (app, _) = start(&fake).await;
    fake.set_down(true);
    let ticket = request(&app, "staging").await;
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    eventually("a few failed attempts", || fake.calls().len() >= 5).await;
    assert!(fake.records().is_empty());
    fake.set_down(false);
    eventually("closed", || fake.records().first().is_some_and(|r| r.field("state") == "3")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.records().len(), 1);
    let notes = notes(&fake.records()[0]);
    assert_eq!(notes.iter().filter(|n| n.starts_with("Run started")).count(), 1, "{notes:?}");
    assert_eq!(notes.iter().filter(|n| n.starts_with("Succeeded")).count(), 1, "{notes:?}");
}

#[tokio::test]
async fn an_answer_lost_after_the_create_does_not_make_a_second_record() {
    let fake = FakeServiceNow::start().await;
    fake.lose_next_create();
    fake.rate_limit(1);
    let (app, _) = start(&fake).await;
    let ticket = request(&app, "staging").await;
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    eventually("closed", || fake.records().first().is_some_and(|r| r.field("state") == "3")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.records().len(), 1, "found by correlation_id, not created again");
}

async fn post(router: &axum::Router, body: &[u8], signature: Option<&str>) -> u16 {
    let mut request = Request::post(docket_servicenow::CALLBACK_PATH).header("content-type", "application/json");
    if let Some(signature) = signature {
        request = request.header("x-hub-signature", signature);
    }
    router.clone().oneshot(request.body(Body::from(body.to_vec())).unwrap()).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_work_note_comes_back_once_and_forged_callbacks_are_refused() {
    let fake = FakeServiceNow::start().await;
    let (app, settings) = start(&fake).await;
    let router = docket_servicenow::router(app.app.clone(), ServiceNowClient::new(settings.clone()).unwrap());
    let ticket = request(&app, "prod").await;
    let sys_id = linked_record(&app, &fake).await;

    let payload = fake.user_work_note(&sys_id, "carol.diaz", Some("carol@example.com"), "CAB looked at it");
    let body = serde_json::to_vec(&payload).unwrap();
    let forged = docket_testkit::ticketing::hub_signature("wrong", &body);
    assert_eq!(post(&router, &body, Some(&forged)).await, 401);
    assert_eq!(post(&router, &body, None).await, 401);
    let signature = docket_testkit::ticketing::hub_signature(SECRET, &body);
    assert_eq!(post(&router, &body, Some(&signature)).await, 200);
    assert_eq!(post(&router, &body, Some(&signature)).await, 401, "a replay");

    let now = app.app.ticket(&ticket.id).await.unwrap();
    let imported: Vec<_> = now.comments.iter().filter(|c| c.text == "CAB looked at it").collect();
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0].author, Actor::person("carol"));
    app.app.comment(&Actor::person("alice"), &ticket.id, "Thanks, CAB".to_owned()).await.unwrap();
    eventually("alice's note", || notes(&fake.records()[0]).iter().any(|n| n.contains("Thanks, CAB"))).await;
    let notes = notes(&fake.records()[0]);
    assert_eq!(notes.iter().filter(|n| n.contains("CAB looked at it")).count(), 1, "no echo: {notes:?}");
    app.app.flush_rejections().await;
    let audit = app.app.audit_records(0, 1000).await.unwrap();
    assert!(audit.iter().any(|r| r.entry.action == "servicenow.authentication_failed"));
}

#[tokio::test]
async fn a_servicenow_approval_satisfies_a_servicenow_stage_but_the_requesters_does_not() {
    let fake = FakeServiceNow::start().await;
    let mut settings = ServiceNowSettings::new(&fake.url, servicenow::USERNAME, servicenow::PASSWORD, SECRET);
    settings.retry.backoff.base = Duration::from_millis(10);
    let settings = Arc::new(settings);
    let yaml = docket_testkit::fixture::DOCKET_YAML.replace(
        "      - { name: lead, from: [oncall:sre-primary, group:sre], count: 1 }\n      - { name: security, from: [group:sre], count: 1 }\n",
        "      - { name: cab, from: [servicenow], count: 1 }\n",
    );
    let app = TestApp::builder()
        .config(&yaml)
        .plugins(docket_config::plugin::Plugins::new().section(Arc::new(docket_servicenow::ServiceNowSection)))
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(20);
            s.public_url = Some("https://docket.example".to_owned());
        })
        .notifier(ServiceNowNotifier::new(ServiceNowClient::new(settings.clone()).unwrap()))
        .start()
        .await;
    let router = docket_servicenow::router(app.app.clone(), ServiceNowClient::new(settings.clone()).unwrap());
    let ticket = request(&app, "prod").await;
    eventually("the record waiting", || fake.records().first().is_some_and(|r| r.field("state") == "-3")).await;
    let sys_id = fake.records()[0].field("sys_id").to_owned();
    shown_in_servicenow(&app, &ticket).await;

    // An approver Docket does not know: audited, and told why on the record.
    let strangers =
        serde_json::to_vec(&fake.user_approval(&sys_id, "mallory", Some("mallory@elsewhere.example"))).unwrap();
    assert_eq!(
        post(&router, &strangers, Some(&docket_testkit::ticketing::hub_signature(SECRET, &strangers))).await,
        200
    );
    let unknown = "Docket did not count mallory's approval: no one in Docket's directory has this ServiceNow user; an admin can link it to a person (user name mallory)";
    eventually("the stranger's answer", || notes(&fake.records()[0]).iter().any(|n| n.starts_with(unknown))).await;
    app.app.flush_rejections().await;
    let audit = app.app.audit_records(0, 1000).await.unwrap();
    assert!(audit.iter().any(|r| r.entry.action == "servicenow.unknown_user"), "the stranger is audited");

    let own = serde_json::to_vec(&fake.user_approval(&sys_id, "alice.ng", Some("alice@example.com"))).unwrap();
    let why = "Docket did not count Alice Ng's approval: you requested this ticket, so you cannot approve it";
    // The instance refusing updates while Docket answers: the note is not written, nor counted
    // as written.
    fake.set_updates_down(true);
    assert_eq!(post(&router, &own, Some(&docket_testkit::ticketing::hub_signature(SECRET, &own))).await, 200);
    assert!(app.app.settle(Duration::from_secs(60)).await, "the answer was tried to its end");
    fake.set_updates_down(false);
    assert!(notes(&fake.records()[0]).iter().all(|n| !n.starts_with(why)));
    // Taken again once it is back: answered now.
    // (A business rule's second post differs from its first: here, in when it was sent.)
    let mut again = fake.user_approval(&sys_id, "alice.ng", Some("alice@example.com"));
    again["sys_updated_on"] = serde_json::Value::from("2026-12-07 10:00:01");
    let own = serde_json::to_vec(&again).unwrap();
    assert_eq!(post(&router, &own, Some(&docket_testkit::ticketing::hub_signature(SECRET, &own))).await, 200);
    assert_eq!(app.app.ticket(&ticket.id).await.unwrap().state, TicketState::AwaitingApproval, "not the requester's");
    eventually("the reason", || notes(&fake.records()[0]).iter().any(|n| n.starts_with(why))).await;

    let bobs = serde_json::to_vec(&fake.user_approval(&sys_id, "bob.ruiz", Some("bob@example.com"))).unwrap();
    assert_eq!(post(&router, &bobs, Some(&docket_testkit::ticketing::hub_signature(SECRET, &bobs))).await, 200);
    let done = app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let review = done.reviews.iter().find(|r| r.via.as_deref() == Some("servicenow")).expect("the approval");
    assert_eq!(review.person.as_str(), "bob");
    assert_eq!(review.stage.as_deref(), Some("cab"));
    eventually("closed", || fake.records()[0].field("state") == "3").await;
}

#[tokio::test]
async fn a_servicenow_rejection_rejects_the_ticket_when_the_record_says_so() {
    let fake = FakeServiceNow::start().await;
    let mut settings = ServiceNowSettings::new(&fake.url, servicenow::USERNAME, servicenow::PASSWORD, SECRET);
    settings.retry.backoff.base = Duration::from_millis(10);
    let settings = Arc::new(settings);
    let chat = Arc::new(docket_testkit::RecordingNotifier::default());
    let yaml = docket_testkit::fixture::DOCKET_YAML.replace(
        "      - { name: lead, from: [oncall:sre-primary, group:sre], count: 1 }\n      - { name: security, from: [group:sre], count: 1 }\n",
        "      - { name: cab, from: [servicenow], count: 1 }\n",
    );
    let app = TestApp::builder()
        .config(&yaml)
        .plugins(docket_config::plugin::Plugins::new().section(Arc::new(docket_servicenow::ServiceNowSection)))
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(20);
            s.public_url = Some("https://docket.example".to_owned());
        })
        .notifier(ServiceNowNotifier::new(ServiceNowClient::new(settings.clone()).unwrap()))
        .notifier(chat.clone())
        .start()
        .await;
    let router = docket_servicenow::router(app.app.clone(), ServiceNowClient::new(settings.clone()).unwrap());
    let ticket = request(&app, "prod").await;
    eventually("the record waiting", || fake.records().first().is_some_and(|r| r.field("state") == "-3")).await;
    let sys_id = fake.records()[0].field("sys_id").to_owned();
    let signed = |payload: &Value| {
        let body = serde_json::to_vec(payload).unwrap();
        let signature = docket_testkit::ticketing::hub_signature(SECRET, &body);
        (body, signature)
    };

    // A callback claiming a rejection the record does not show changes nothing.
    let mut claimed = fake.user_approval(&sys_id, "carol.diaz", Some("carol@example.com"));
    claimed["state"] = Value::String("rejected".to_owned());
    let (body, signature) = signed(&claimed);
    assert_eq!(post(&router, &body, Some(&signature)).await, 200);
    assert_eq!(app.app.ticket(&ticket.id).await.unwrap().state, TicketState::AwaitingApproval);

    // The requester's own rejection there is not hers to give.
    let (body, signature) = signed(&fake.user_rejection(&sys_id, "alice.ng", Some("alice@example.com")));
    assert_eq!(post(&router, &body, Some(&signature)).await, 200);
    assert_eq!(app.app.ticket(&ticket.id).await.unwrap().state, TicketState::AwaitingApproval);
    let why = "Docket did not count Alice Ng's rejection: you requested this ticket, so you cannot reject it";
    eventually("the reason", || notes(&fake.records()[0]).iter().any(|n| n.starts_with(why))).await;

    let (body, signature) = signed(&fake.user_rejection(&sys_id, "bob.ruiz", Some("bob@example.com")));
    assert_eq!(post(&router, &body, Some(&signature)).await, 200);
    let rejected = app.app.ticket(&ticket.id).await.unwrap();
    assert_eq!(rejected.state, TicketState::Rejected);
    let review = rejected.reviews.last().unwrap();
    assert_eq!((review.person.as_str(), review.via.as_deref()), ("bob", Some("servicenow")));
    assert_eq!(review.comment.as_deref(), Some("rejected CHG0030001 in ServiceNow"));
    let audit = app.app.audit_records(0, 1000).await.unwrap();
    let record = audit.iter().find(|r| r.entry.action == "ticket.rejected").expect("the rejection is audited");
    assert_eq!((record.entry.actor.as_str(), &record.entry.details["via"]), ("bob", &Value::from("servicenow")));
    // Mirrored back like any rejection: a work note, and the change request cancelled.
    eventually("cancelled", || fake.records()[0].field("state") == "4").await;
    let notes = notes(&fake.records()[0]);
    assert!(
        notes.iter().any(|n| n.starts_with("Rejected by Bob Ruiz: rejected CHG0030001 in ServiceNow")),
        "{notes:?}"
    );
}

#[tokio::test]
async fn notes_the_outbox_gave_up_on_are_brought_up_to_date_when_the_instance_is_back() {
    let fake = FakeServiceNow::start().await;
    let mut settings = ServiceNowSettings::new(&fake.url, servicenow::USERNAME, servicenow::PASSWORD, SECRET);
    settings.retry.backoff.base = Duration::from_millis(10);
    let app = TestApp::builder()
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(10);
            s.outbox_max_backoff = Duration::from_millis(20);
            s.outbox_max_attempts = 2;
            // An outage longer than even a mirror's patience (a day, by default).
            s.outbox_mirror_max_attempts = 2;
        })
        .notifier(ServiceNowNotifier::new(ServiceNowClient::new(Arc::new(settings)).unwrap()))
        .start()
        .await;
    let ticket = request(&app, "prod").await;
    eventually("the record waiting", || fake.records().first().is_some_and(|r| r.field("state") == "-3")).await;

    // Away for longer than the outbox tries: the approval's work note is given up on.
    fake.set_down(true);
    let before = fake.calls().len();
    approve(&app, &ticket, "carol").await;
    // Two deliveries, each a call tried three times, then the outbox gives up.
    eventually("both attempts", || fake.calls().len() >= before + 6).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = fake.calls().len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.calls().len(), calls, "given up: no more attempts");
    fake.set_down(false);

    approve(&app, &ticket, "bob").await;
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    eventually("closed", || fake.records()[0].field("state") == "3").await;
    let notes = notes(&fake.records()[0]);
    let at = |words: &str| {
        let found: Vec<usize> = notes.iter().enumerate().filter(|(_, n)| n.contains(words)).map(|(i, _)| i).collect();
        assert_eq!(found.len(), 1, "{words:?} once in {notes:?}");
        found[0]
    };
    assert!(at("Approved by Carol Diaz") < at("Approved by Bob Ruiz"), "{notes:?}");
    assert!(at("Approved by Bob Ruiz") < at("Succeeded"));
}
