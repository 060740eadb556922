//! End to end: a real app mirrors its tickets into the fake Jira through the outbox, and the
//! fake's signed webhooks come back through `POST /jira/webhook`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use docket_app::Settings;
use docket_core::{Actor, Digest, RawParams, Ticket, TicketState};
use docket_jira::{JiraClient, JiraNotifier, JiraSettings};
use docket_testkit::TestApp;
use docket_testkit::ticketing::jira::{self, FakeJira};
use serde_json::Value;
use tower::ServiceExt as _;

const SECRET: &str = "jira-webhook-secret";

fn settings(fake: &FakeJira) -> Arc<JiraSettings> {
    let mut settings = JiraSettings::new(&fake.url, jira::EMAIL, jira::API_TOKEN, jira::PROJECT, SECRET);
    for (state, status) in [
        ("awaiting_approval", "Waiting for approval"),
        ("approved", "Approved"),
        ("running", "In Progress"),
        ("succeeded", "Done"),
        ("failed", "Failed"),
        ("rejected", "Rejected"),
        ("cancelled", "Cancelled"),
    ] {
        settings.statuses.insert(state.to_owned(), status.to_owned());
    }
    settings.retry.backoff.base = Duration::from_millis(10);
    Arc::new(settings)
}

async fn start(fake: &FakeJira) -> (TestApp, Arc<JiraSettings>) {
    let settings = settings(fake);
    let client = JiraClient::new(settings.clone()).unwrap();
    let app = TestApp::builder()
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(20);
            s.outbox_max_backoff = Duration::from_millis(200);
            s.outbox_max_attempts = 100;
            s.public_url = Some("https://docket.example".to_owned());
        })
        .notifier(JiraNotifier::new(client))
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
    let origin = docket_core::ticket::Origin { surface: "slack".to_owned(), ..Default::default() };
    app.app.request(&Actor::person("alice"), &"deploy".into(), params(env), origin).await.unwrap()
}

/// Waits until `check` holds for the fake, or fails after 10 s.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The key of the ticket's issue once Docket has recorded which ticket it belongs to (the
/// issue exists in Jira a moment before that record does).
async fn linked_issue(app: &TestApp, fake: &FakeJira) -> String {
    eventually("the issue", || !fake.issues().is_empty()).await;
    let key = fake.issues()[0].key.clone();
    app.wait_for_kept(docket_jira::SYSTEM, &docket_jira::ticket_key(&key), None, "the issue's link to the ticket")
        .await;
    key
}

/// Waits until Docket has recorded that the issue shows `ticket`'s plan, which it does only once
/// the issue has moved (an approval given in Jira counts only for the plan the issue showed).
async fn shown_in_jira(app: &TestApp, ticket: &Ticket) {
    let digest = ticket.digest.expect("a plan").to_string();
    let key = format!("synced:{}", ticket.id);
    app.wait_for_kept(docket_jira::SYSTEM, &key, Some(&digest), "the issue to show the plan").await;
}

fn texts(issue: &jira::Issue) -> Vec<String> {
    issue.comments.iter().map(|(_, body)| jira::adf_text(body)).collect()
}

async fn approve(app: &TestApp, ticket: &Ticket, who: &str) -> Ticket {
    let digest: Digest = app.app.ticket(&ticket.id).await.unwrap().digest.unwrap();
    app.app.approve(&Actor::person(who), &ticket.id, digest, None).await.unwrap()
}

#[tokio::test]
async fn a_ticket_is_mirrored_as_one_issue_through_its_whole_life() {
    let fake = FakeJira::start().await;
    let (app, _) = start(&fake).await;
    let ticket = request(&app, "prod").await;
    eventually("the issue", || fake.issues().len() == 1 && fake.issues()[0].status == "Waiting for approval").await;
    let issue = fake.issues().remove(0);
    assert!(issue.summary.starts_with(&format!("{} Deploy a service", ticket.id)), "{}", issue.summary);
    assert_eq!(issue.labels, vec![format!("docket-{}", ticket.id)]);
    let description = jira::adf_text(&issue.description);
    for words in ["Requested by Alice Ng", "version=1.4.2", "needs 1 approval from lead", "Open DKT-1 in Docket"] {
        assert!(description.contains(words), "{words:?} not in {description}");
    }
    assert!(issue.description.to_string().contains("\"href\":\"https://docket.example/tickets/DKT-1\""));
    let link = issue.links.values().next().expect("a remote link").1.clone();
    assert_eq!(link["object"]["url"], format!("https://docket.example/tickets/{}", ticket.id));

    approve(&app, &ticket, "carol").await;
    approve(&app, &ticket, "bob").await;
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    // The link is marked resolved after the move to Done, in the same delivery.
    let resolved =
        |issue: &jira::Issue| issue.links.values().all(|(_, link)| link["object"]["status"]["resolved"] == true);
    eventually("the issue done, its link resolved", || {
        let issue = fake.issue(&issue.key).unwrap();
        issue.status == "Done" && resolved(&issue)
    })
    .await;
    let issue = fake.issue(&issue.key).unwrap();
    assert_eq!(
        issue.history,
        ["To Do", "Waiting for approval", "Approved", "In Progress", "Done"].map(str::to_owned).to_vec(),
        "every state in order"
    );
    let texts = texts(&issue);
    let position =
        |words: &str| texts.iter().position(|t| t.contains(words)).unwrap_or_else(|| panic!("{words:?} in {texts:?}"));
    assert!(position("Approved by Carol Diaz") < position("Approved by Bob Ruiz"));
    assert!(position("Approved by Bob Ruiz") < position("Run started"));
    assert!(position("Run started") < position("Succeeded"));
    assert!(texts[position("Succeeded")].contains(&format!("logs: https://docket.example/tickets/{}", ticket.id)));
    assert_eq!(fake.issues().len(), 1, "one issue, never a second");
    assert_eq!(issue.links.len(), 1, "the link is upserted on its globalId");
    assert!(issue.links.values().next().unwrap().1["object"]["status"]["resolved"].as_bool().unwrap());
    let recorded = app.app.recall("jira", &docket_jira::issue_key(&ticket.id)).await.unwrap().unwrap();
    assert!(recorded.ends_with(&issue.key));
    let now = app.app.ticket(&ticket.id).await.unwrap();
    assert_eq!(app.app.summarize(&now).records, vec![("jira".to_owned(), issue.key.clone())], "what chats show");
    let links = now.links;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!((links[0].system.as_str(), links[0].key.as_str()), ("jira", issue.key.as_str()));
    assert_eq!(links[0].url.as_deref(), Some(format!("{}/browse/{}", fake.url, issue.key).as_str()));
}

#[tokio::test]
async fn jira_down_then_back_loses_nothing_and_duplicates_nothing() {
    let fake = FakeJira::start().await;
    let (app, _) = start(&fake).await;
    fake.set_down(true);
    let ticket = request(&app, "staging").await;
    // The ticket goes on in Docket while Jira is down.
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    eventually("a few failed attempts", || fake.calls().len() >= 5).await;
    assert!(fake.issues().is_empty());
    fake.set_down(false);
    eventually("the issue done", || fake.issues().first().is_some_and(|i| i.status == "Done")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let issues = fake.issues();
    assert_eq!(issues.len(), 1);
    let texts = texts(&issues[0]);
    assert_eq!(texts.iter().filter(|t| t.starts_with("Run started")).count(), 1, "{texts:?}");
    assert_eq!(texts.iter().filter(|t| t.starts_with("Succeeded")).count(), 1, "{texts:?}");
}

#[tokio::test]
async fn an_answer_lost_after_the_create_does_not_make_a_second_issue() {
    let fake = FakeJira::start().await;
    fake.lose_next_create();
    let (app, _) = start(&fake).await;
    let ticket = request(&app, "staging").await;
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    eventually("the issue done", || fake.issues().first().is_some_and(|i| i.status == "Done")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.issues().len(), 1, "found by its label, not created again");
    let creates = fake.calls().iter().filter(|c| *c == "POST /rest/api/3/issue").count();
    assert_eq!(creates, 1);
}

#[tokio::test]
async fn rate_limits_are_waited_out() {
    let fake = FakeJira::start().await;
    fake.rate_limit(2);
    let (app, _) = start(&fake).await;
    let ticket = request(&app, "staging").await;
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    eventually("the issue done", || fake.issues().first().is_some_and(|i| i.status == "Done")).await;
    assert_eq!(fake.issues().len(), 1);
}

async fn post_webhook(router: &axum::Router, body: &[u8], signature: Option<&str>, delivery: &str) -> u16 {
    let mut request = Request::post(docket_jira::WEBHOOK_PATH)
        .header("content-type", "application/json")
        .header("x-atlassian-webhook-identifier", delivery);
    if let Some(signature) = signature {
        request = request.header("x-hub-signature", signature);
    }
    let response = router.clone().oneshot(request.body(Body::from(body.to_vec())).unwrap()).await.unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn a_jira_comment_comes_back_once_and_is_not_echoed() {
    let fake = FakeJira::start().await;
    let (app, settings) = start(&fake).await;
    let router = docket_jira::router(app.app.clone(), JiraClient::new(settings.clone()).unwrap());
    let ticket = request(&app, "prod").await;
    let key = linked_issue(&app, &fake).await;

    let payload = fake.user_comment(&key, "acc-bob", Some("bob@example.com"), "Checked the dashboards, fine by me");
    let body = serde_json::to_vec(&payload).unwrap();
    let signature = docket_testkit::ticketing::hub_signature(SECRET, &body);
    assert_eq!(post_webhook(&router, &body, Some(&signature), "d-1").await, 200);
    // Jira retrying the same delivery, and the same comment under another delivery id.
    assert_eq!(post_webhook(&router, &body, Some(&signature), "d-1").await, 401);
    assert_eq!(post_webhook(&router, &body, Some(&signature), "d-2").await, 200);

    let now = app.app.ticket(&ticket.id).await.unwrap();
    let comments: Vec<_> = now.comments.iter().filter(|c| c.text == "Checked the dashboards, fine by me").collect();
    assert_eq!(comments.len(), 1, "imported once");
    assert_eq!(comments[0].author, Actor::person("bob"));

    // A Docket comment afterwards reaches Jira; the imported one never goes back.
    app.app.comment(&Actor::person("alice"), &ticket.id, "Thanks!".to_owned()).await.unwrap();
    eventually("alice's comment in Jira", || texts(&fake.issue(&key).unwrap()).iter().any(|t| t.contains("Thanks!")))
        .await;
    let texts = texts(&fake.issue(&key).unwrap());
    assert_eq!(texts.iter().filter(|t| t.contains("fine by me")).count(), 1, "no echo: {texts:?}");
}

#[tokio::test]
async fn webhooks_do_not_wait_for_jira_to_say_which_account_is_docket_s() {
    let fake = FakeJira::start().await;
    let (app, settings) = start(&fake).await;
    let ticket = request(&app, "prod").await;
    let key = linked_issue(&app, &fake).await;
    // Jira is away: its question about Docket's account goes unanswered.
    fake.set_down(true);
    let router = docket_jira::router(app.app.clone(), JiraClient::new(settings.clone()).unwrap());
    // A comment is taken at once, without waiting for that question.
    let payload = fake.user_comment(&key, "acc-bob", Some("bob@example.com"), "Looks fine");
    let body = serde_json::to_vec(&payload).unwrap();
    let signature = docket_testkit::ticketing::hub_signature(SECRET, &body);
    let started = std::time::Instant::now();
    assert_eq!(post_webhook(&router, &body, Some(&signature), "w-1").await, 200);
    assert!(started.elapsed() < Duration::from_secs(2), "waited {:?}", started.elapsed());
    fake.set_down(false);
    let now = app.app.ticket(&ticket.id).await.unwrap();
    assert!(now.comments.iter().any(|c| c.text == "Looks fine"));
}

#[tokio::test]
async fn forged_and_unsigned_webhooks_are_refused_and_audited() {
    let fake = FakeJira::start().await;
    let (app, settings) = start(&fake).await;
    let router = docket_jira::router(app.app.clone(), JiraClient::new(settings.clone()).unwrap());
    let ticket = request(&app, "prod").await;
    let key = linked_issue(&app, &fake).await;
    let payload = fake.user_comment(&key, "acc-bob", Some("bob@example.com"), "forged words");
    let body = serde_json::to_vec(&payload).unwrap();
    let forged = docket_testkit::ticketing::hub_signature("not-the-secret", &body);
    assert_eq!(post_webhook(&router, &body, Some(&forged), "f-1").await, 401);
    assert_eq!(post_webhook(&router, &body, None, "f-2").await, 401);
    assert_eq!(post_webhook(&router, &body, Some("sha256=zz"), "f-3").await, 401);
    let now = app.app.ticket(&ticket.id).await.unwrap();
    assert!(now.comments.iter().all(|c| c.text != "forged words"), "nothing changed");
    app.app.flush_rejections().await;
    let audit = app.app.audit_records(0, 1000).await.unwrap();
    assert!(audit.iter().any(|r| r.entry.action == "jira.authentication_failed"), "refusals are audited");
}

/// The fixture, with production approved in Jira.
fn approved_in_jira() -> String {
    docket_testkit::fixture::DOCKET_YAML.replace(
        "      - { name: lead, from: [oncall:sre-primary, group:sre], count: 1 }\n      - { name: security, from: [group:sre], count: 1 }\n",
        "      - { name: change, from: [jira], count: 1 }\n",
    )
}

/// The fixture with production approved in Jira, its notifier and webhook against `fake`.
async fn jira_stage(fake: &FakeJira) -> (TestApp, axum::Router) {
    let settings = settings(fake);
    let client = JiraClient::new(settings.clone()).unwrap();
    let app = TestApp::builder()
        .config(&approved_in_jira())
        .plugins(docket_config::plugin::Plugins::new().section(Arc::new(docket_jira::JiraSection)))
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(20);
            s.public_url = Some("https://docket.example".to_owned());
        })
        .notifier(JiraNotifier::new(client))
        .start()
        .await;
    let router = docket_jira::router(app.app.clone(), JiraClient::new(settings).unwrap());
    (app, router)
}

/// Posts a signed webhook; its status.
async fn signed(router: &axum::Router, payload: &Value, delivery: &str) -> u16 {
    let body = serde_json::to_vec(payload).unwrap();
    post_webhook(router, &body, Some(&docket_testkit::ticketing::hub_signature(SECRET, &body)), delivery).await
}

#[tokio::test]
async fn a_reason_jira_did_not_get_is_said_when_the_decision_is_taken_again() {
    let fake = FakeJira::start().await;
    let (app, router) = jira_stage(&fake).await;
    let ticket = request(&app, "prod").await;
    eventually("the issue waiting", || fake.issues().first().is_some_and(|i| i.status == "Waiting for approval")).await;
    let key = fake.issues()[0].key.clone();
    shown_in_jira(&app, &ticket).await;
    let why = "Docket did not count Alice Ng's move to Approved: you requested this ticket, so you cannot approve it";

    // Jira is down while Docket answers: nothing is said, and that is not counted as said.
    fake.set_down(true);
    let own = fake.user_transition(&key, "acc-alice", Some("alice@example.com"), "Approved");
    assert_eq!(signed(&router, &own, "t-down").await, 200);
    assert!(app.app.settle(Duration::from_secs(60)).await, "the answer was tried to its end");
    fake.set_down(false);
    assert!(texts(&fake.issue(&key).unwrap()).iter().all(|t| !t.starts_with(why)));

    // Taken again once Jira is back: answered now, once.
    let again = fake.user_transition(&key, "acc-alice", Some("alice@example.com"), "Approved");
    assert_eq!(signed(&router, &again, "t-back").await, 200);
    eventually("the reason", || texts(&fake.issue(&key).unwrap()).iter().any(|t| t.starts_with(why))).await;
    eventually("the issue back", || fake.issue(&key).unwrap().status == "Waiting for approval").await;

    // An answer lost on the way back (the comment is there): found by its mark, counted as said,
    // and not said again when the decision is taken again.
    let mallory = "Docket did not count acc-mallory's move to Approved";
    let said = |prefix: &str| texts(&fake.issue(&key).unwrap()).iter().filter(|t| t.starts_with(prefix)).count();
    fake.lose_next_comment();
    let lost = fake.user_transition(&key, "acc-mallory", None, "Approved");
    assert_eq!(signed(&router, &lost, "t-lost").await, 200);
    assert!(app.app.settle(Duration::from_secs(60)).await);
    assert_eq!(said(mallory), 1, "the lost answer's comment is there");
    let repeat = fake.user_transition(&key, "acc-mallory", None, "Approved");
    assert_eq!(signed(&router, &repeat, "t-repeat").await, 200);
    assert!(app.app.settle(Duration::from_secs(60)).await);
    assert_eq!(said(mallory), 1, "not said twice");
    assert_eq!(said(why), 1);
    app.stop().await;
}

#[tokio::test]
async fn moving_the_issue_to_approved_in_jira_satisfies_a_jira_stage_but_not_for_the_requester() {
    let fake = FakeJira::start().await;
    let (app, router) = jira_stage(&fake).await;
    let ticket = request(&app, "prod").await;
    assert_eq!(ticket.state, TicketState::AwaitingApproval);
    let docket_core::policy::Outcome::Approvals(requirement) = &ticket.decision.as_ref().unwrap().outcome else {
        panic!("approvals are needed")
    };
    assert_eq!(
        requirement.stages[0].from,
        vec![docket_core::Principal::System("jira".to_owned())],
        "`jira` read as the system"
    );
    eventually("the issue waiting", || fake.issues().first().is_some_and(|i| i.status == "Waiting for approval")).await;
    let key = fake.issues()[0].key.clone();
    shown_in_jira(&app, &ticket).await;

    // A chat approval does not count for the Jira stage.
    let digest = ticket.digest.unwrap();
    let refused = app.app.approve(&Actor::person("bob"), &ticket.id, digest, None).await.unwrap_err();
    assert!(refused.to_string().contains("system:jira"), "{refused}");

    // The requester moving her own issue to Approved does not count.
    let own = fake.user_transition(&key, "acc-alice", Some("alice@example.com"), "Approved");
    let body = serde_json::to_vec(&own).unwrap();
    assert_eq!(
        post_webhook(&router, &body, Some(&docket_testkit::ticketing::hub_signature(SECRET, &body)), "t-1").await,
        200
    );
    assert_eq!(app.app.ticket(&ticket.id).await.unwrap().state, TicketState::AwaitingApproval);
    // Jira does not go on showing an approval Docket did not count, and says why.
    eventually("the issue back", || fake.issue(&key).unwrap().status == "Waiting for approval").await;
    let why = "Docket did not count Alice Ng's move to Approved: you requested this ticket, so you cannot approve it";
    eventually("the reason", || texts(&fake.issue(&key).unwrap()).iter().any(|t| t.starts_with(why))).await;
    let said = texts(&fake.issue(&key).unwrap());
    assert!(
        said.iter().any(|t| t.starts_with(why) && t.ends_with("The issue is back in Waiting for approval.")),
        "{said:?}"
    );
    // Jira sends that answer back as a comment: Docket knows it for its own, whoever it seems by.
    let issue = fake.issue(&key).unwrap();
    let answer = issue.comments.iter().find(|(_, b)| jira::adf_text(b).starts_with(why)).unwrap().0.clone();
    let mut echo = fake.user_comment(&key, "acc-bob", Some("bob@example.com"), "an echo");
    echo["comment"]["id"] = Value::String(answer);
    let body = serde_json::to_vec(&echo).unwrap();
    let signature = docket_testkit::ticketing::hub_signature(SECRET, &body);
    assert_eq!(post_webhook(&router, &body, Some(&signature), "t-echo").await, 200);
    assert!(app.app.ticket(&ticket.id).await.unwrap().comments.iter().all(|c| c.text != "an echo"));
    // Moved there again: back again, and the reason is not said twice.
    let again = fake.user_transition(&key, "acc-alice", Some("alice@example.com"), "Approved");
    let body = serde_json::to_vec(&again).unwrap();
    let signature = docket_testkit::ticketing::hub_signature(SECRET, &body);
    assert_eq!(post_webhook(&router, &body, Some(&signature), "t-1b").await, 200);
    eventually("the issue back again", || fake.issue(&key).unwrap().status == "Waiting for approval").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(texts(&fake.issue(&key).unwrap()).iter().filter(|t| t.starts_with(why)).count(), 1);

    // Bob moving it there does.
    let bobs = fake.user_transition(&key, "acc-bob", Some("bob@example.com"), "Approved");
    let body = serde_json::to_vec(&bobs).unwrap();
    assert_eq!(
        post_webhook(&router, &body, Some(&docket_testkit::ticketing::hub_signature(SECRET, &body)), "t-2").await,
        200
    );
    let done = app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    let review = done.reviews.iter().find(|r| r.via.as_deref() == Some("jira")).expect("the approval given in Jira");
    assert_eq!(review.person.as_str(), "bob");
    assert_eq!(review.digest, Some(digest), "bound to the plan the issue showed");
    assert!(done.reviews.iter().all(|r| r.person.as_str() != "alice"));
    eventually("the issue done", || fake.issue(&key).unwrap().status == "Done").await;
    // Docket's own move to Approved comes back without an email Docket knows (Data Center, or
    // Cloud keeping it private): the ticket has moved on, so it is not answered.
    let own_move = fake.user_transition(&key, jira::DOCKET_ACCOUNT, None, "Approved");
    let body = serde_json::to_vec(&own_move).unwrap();
    let signature = docket_testkit::ticketing::hub_signature(SECRET, &body);
    assert_eq!(post_webhook(&router, &body, Some(&signature), "t-own").await, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let said = texts(&fake.issue(&key).unwrap());
    assert!(said.iter().all(|t| !t.starts_with("Docket did not count acc-docket")), "{said:?}");
    // Known for Docket's own account (Jira's `/myself`), it is not audited as a stranger either.
    app.app.flush_rejections().await;
    let audit = app.app.audit_records(0, 1000).await.unwrap();
    assert!(audit.iter().all(|r| r.entry.actor != "jira:acc-docket"), "Docket is no stranger");
}

#[tokio::test]
async fn moving_the_issue_to_rejected_in_jira_rejects_the_ticket_when_the_person_may() {
    let fake = FakeJira::start().await;
    let settings = settings(&fake);
    let client = JiraClient::new(settings.clone()).unwrap();
    let app = TestApp::builder()
        .config(&approved_in_jira())
        .plugins(docket_config::plugin::Plugins::new().section(Arc::new(docket_jira::JiraSection)))
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(20);
            s.public_url = Some("https://docket.example".to_owned());
        })
        .notifier(JiraNotifier::new(client))
        .start()
        .await;
    let router = docket_jira::router(app.app.clone(), JiraClient::new(settings.clone()).unwrap());
    let ticket = request(&app, "prod").await;
    eventually("the issue waiting", || fake.issues().first().is_some_and(|i| i.status == "Waiting for approval")).await;
    let key = fake.issues()[0].key.clone();
    let send = |payload: Value, delivery: &'static str| {
        let router = router.clone();
        async move {
            let body = serde_json::to_vec(&payload).unwrap();
            let signature = docket_testkit::ticketing::hub_signature(SECRET, &body);
            post_webhook(&router, &body, Some(&signature), delivery).await
        }
    };

    // Someone Jira knows but Docket does not: audited, nothing changes.
    let stranger = fake.user_transition(&key, "acc-mallory", Some("mallory@elsewhere.example"), "Rejected");
    assert_eq!(send(stranger, "r-1").await, 200);
    // The requester cannot reject her own ticket there either.
    let own = fake.user_transition(&key, "acc-alice", Some("alice@example.com"), "Rejected");
    assert_eq!(send(own, "r-2").await, 200);
    assert_eq!(app.app.ticket(&ticket.id).await.unwrap().state, TicketState::AwaitingApproval);
    // Both are answered in the issue, which goes back to waiting.
    eventually("both answers", || {
        let said = texts(&fake.issue(&key).unwrap());
        said.iter().any(|t| t.starts_with("Docket did not count acc-mallory's move to Rejected: no one in Docket's directory has this Jira account; an admin can link it to a person (account id acc-mallory)"))
            && said.iter().any(|t| t.starts_with("Docket did not count Alice Ng's move to Rejected: you requested this ticket"))
    })
    .await;
    assert_eq!(fake.issue(&key).unwrap().status, "Waiting for approval");

    // Carol, known and not the requester, with a stage approved in Jira: the ticket is rejected.
    let carols = fake.user_transition(&key, "acc-carol", Some("carol@example.com"), "Rejected");
    assert_eq!(send(carols, "r-3").await, 200);
    let rejected = app.app.ticket(&ticket.id).await.unwrap();
    assert_eq!(rejected.state, TicketState::Rejected);
    let review = rejected.reviews.last().unwrap();
    assert_eq!((review.person.as_str(), review.via.as_deref()), ("carol", Some("jira")));
    assert_eq!(review.verdict, docket_core::ticket::Verdict::Reject);
    assert_eq!(review.comment.as_deref(), Some(format!("moved {key} to Rejected in Jira").as_str()));
    let audit = app.app.audit_records(0, 1000).await.unwrap();
    let record =
        audit.iter().find(|r| r.entry.action == "ticket.rejected" && r.entry.actor == "carol").unwrap_or_else(|| {
            panic!("the rejection is audited: {:?}", audit.iter().map(|r| &r.entry.action).collect::<Vec<_>>())
        });
    assert_eq!(record.entry.details["via"], "jira");
    assert!(audit.iter().any(|r| r.entry.action == "jira.unknown_user"), "the stranger is audited");
    // The rejection is mirrored like any other: a comment on the issue, which stays Rejected.
    eventually("the rejection's comment", || {
        texts(&fake.issue(&key).unwrap()).iter().any(|t| t.contains("Rejected by Carol Diaz: moved"))
    })
    .await;
    assert_eq!(fake.issue(&key).unwrap().status, "Rejected");
}

#[tokio::test]
async fn a_rejection_in_jira_needs_a_person_eligible_for_a_stage() {
    // The fixture's stages are people's (group:sre), so only they may reject there.
    let fake = FakeJira::start().await;
    let (app, settings) = start(&fake).await;
    let router = docket_jira::router(app.app.clone(), JiraClient::new(settings.clone()).unwrap());
    let ticket = request(&app, "prod").await;
    eventually("the issue waiting", || fake.issues().first().is_some_and(|i| i.status == "Waiting for approval")).await;
    let key = fake.issues()[0].key.clone();
    for (delivery, account, email, state) in [
        ("e-1", "acc-erin", "erin@example.com", TicketState::AwaitingApproval),
        ("e-2", "acc-bob", "bob@example.com", TicketState::Rejected),
    ] {
        let payload = fake.user_transition(&key, account, Some(email), "Rejected");
        let body = serde_json::to_vec(&payload).unwrap();
        let signature = docket_testkit::ticketing::hub_signature(SECRET, &body);
        assert_eq!(post_webhook(&router, &body, Some(&signature), delivery).await, 200);
        assert_eq!(app.app.ticket(&ticket.id).await.unwrap().state, state, "after {account}");
        if account == "acc-erin" {
            // Told why in the issue, without naming who may decide.
            let why = "Docket did not count Erin Cole's move to Rejected: stage `lead, security` does not take this \
                       decision from you in Jira.";
            eventually("erin's answer", || texts(&fake.issue(&key).unwrap()).iter().any(|t| t.starts_with(why))).await;
            let said = texts(&fake.issue(&key).unwrap());
            assert!(said.iter().all(|t| !t.contains("sre")), "no approvers named: {said:?}");
        }
    }
}

#[tokio::test]
async fn a_comment_whose_answer_was_lost_is_found_and_not_posted_again() {
    let fake = FakeJira::start().await;
    let (app, _) = start(&fake).await;
    fake.lose_next_comment();
    let ticket = request(&app, "staging").await;
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    eventually("the issue done", || fake.issues().first().is_some_and(|i| i.status == "Done")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts = texts(&fake.issues()[0]);
    assert!(texts.iter().any(|t| t.starts_with("Succeeded")), "{texts:?}");
    let mut seen = std::collections::BTreeSet::new();
    for text in &texts {
        assert!(seen.insert(text), "posted twice: {text:?} in {texts:?}");
    }
    assert!(
        fake.calls().iter().any(|c| c.starts_with("GET /rest/api/3/comment/") && c.ends_with("/properties/docket")),
        "looked for by its marker before posting again"
    );
}

#[tokio::test]
async fn notes_the_outbox_gave_up_on_are_brought_up_to_date_when_jira_is_back() {
    let fake = FakeJira::start().await;
    let settings = settings(&fake);
    let app = TestApp::builder()
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(10);
            s.outbox_max_backoff = Duration::from_millis(20);
            s.outbox_max_attempts = 2;
            // An outage longer than even a mirror's patience (a day, by default).
            s.outbox_mirror_max_attempts = 2;
        })
        .notifier(JiraNotifier::new(JiraClient::new(settings).unwrap()))
        .start()
        .await;
    let ticket = request(&app, "prod").await;
    eventually("the issue waiting", || fake.issues().first().is_some_and(|i| i.status == "Waiting for approval")).await;
    let key = fake.issues()[0].key.clone();

    // Jira away for longer than the outbox tries: the approval's note is given up on.
    fake.set_down(true);
    let before = fake.calls().len();
    let digest = ticket.digest.unwrap();
    app.app.approve(&Actor::person("carol"), &ticket.id, digest, None).await.unwrap();
    // Two deliveries, each a call tried three times, then the outbox gives up.
    eventually("both attempts", || fake.calls().len() >= before + 6).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = fake.calls().len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.calls().len(), calls, "given up: no more attempts");
    fake.set_down(false);

    // The next change's delivery brings the issue up to date first.
    app.app.approve(&Actor::person("bob"), &ticket.id, digest, None).await.unwrap();
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    eventually("the issue done", || fake.issue(&key).unwrap().status == "Done").await;
    let texts = texts(&fake.issue(&key).unwrap());
    let at = |words: &str| {
        let found: Vec<usize> = texts.iter().enumerate().filter(|(_, t)| t.contains(words)).map(|(i, _)| i).collect();
        assert_eq!(found.len(), 1, "{words:?} once in {texts:?}");
        found[0]
    };
    assert!(at("Approved by Carol Diaz") < at("Approved by Bob Ruiz"), "{texts:?}");
    assert!(at("Approved by Bob Ruiz") < at("Succeeded"));
}
