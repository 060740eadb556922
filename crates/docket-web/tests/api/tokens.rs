//! API tokens over the REST API: made, listed and revoked by their person (an admin for
//! anyone), refused at once when revoked or expired with the reason in the audit, named in the
//! audit record of what they did; agents' tokens act for their owner and never decide.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use docket_app::ManualClock;
use docket_testkit::TestApp;
use docket_testkit::fixture::DOCKET_YAML;
use serde_json::{Value, json};

use crate::support::{Api, deploy_params};

/// `POST path` with a JSON body and a raw bearer `token`.
async fn post_with(api: &Api, token: &str, path: &str, body: Value) -> crate::support::Reply {
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    api.send(request).await
}

async fn get_with(api: &Api, token: &str, path: &str) -> crate::support::Reply {
    let request = axum::http::Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    api.send(request).await
}

async fn audit(api: &Api) -> Vec<docket_core::audit::AuditRecord> {
    api.kit.app.flush_rejections().await;
    api.kit.app.audit_records(0, 10_000).await.unwrap()
}

#[tokio::test]
async fn a_person_makes_lists_and_revokes_their_tokens_and_a_revoked_one_stops_at_once() {
    let api = Api::start().await;
    let made = api.post("alice", "/api/v1/tokens", json!({ "name": "laptop", "expires": "30d" })).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let made = made.json();
    let (secret, id) = (made["secret"].as_str().unwrap().to_owned(), made["token"]["id"].as_str().unwrap().to_owned());
    assert!(secret.starts_with("dkt_") && id.starts_with("tok_"), "{made}");
    assert_eq!(made["token"]["created_by"], "alice");
    assert_eq!(made["token"]["status"], "active");
    let expires: jiff::Timestamp = made["token"]["expires_at"].as_str().unwrap().parse().unwrap();
    let days = expires.duration_since(jiff::Timestamp::now()).as_secs() / 86_400;
    assert!((29..=30).contains(&days), "30 days: {expires}");

    // The new token works and is named in the audit record of what it did.
    let ticket = post_with(
        &api,
        &secret,
        "/api/v1/tickets",
        json!({ "workflow": "deploy", "params": deploy_params("staging") }),
    )
    .await;
    assert_eq!(ticket.status, StatusCode::CREATED, "{}", ticket.text);
    let records = audit(&api).await;
    let requested = records.iter().find(|r| r.entry.action == "ticket.requested").unwrap();
    assert_eq!(requested.entry.details["token"], id.as_str(), "{:?}", requested.entry);
    let created = records.iter().find(|r| r.entry.action == "token.created" && r.entry.details["id"] == id.as_str());
    assert_eq!(created.unwrap().entry.actor, "alice");

    // Listed for its person (never the secret) and for an admin; not for someone else.
    let listed = api.get("alice", "/api/v1/tokens").await.json();
    let ids: Vec<&str> = listed["tokens"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&id.as_str()), "{listed}");
    assert!(!listed.to_string().contains(&secret));
    let bobs = api.get("bob", "/api/v1/tokens").await.json();
    assert!(!bobs.to_string().contains(&id), "bob sees only his own: {bobs}");
    let admins = api.get("dave", "/api/v1/tokens?person=alice").await.json();
    assert!(admins.to_string().contains(&id));
    api.get("bob", "/api/v1/tokens?person=alice").await.assert_error(StatusCode::FORBIDDEN, "not_your_tokens");

    // Someone else cannot revoke it; its person can; then it is refused with the reason.
    api.post("bob", &format!("/api/v1/tokens/{id}/revoke"), json!(null))
        .await
        .assert_error(StatusCode::FORBIDDEN, "not_your_tokens");
    let revoked = api.post("alice", &format!("/api/v1/tokens/{id}/revoke"), json!(null)).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.json()["revoked_by"], "alice");
    let refused = get_with(&api, &secret, "/api/v1/me").await;
    refused.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(refused.message().contains("was revoked"), "{}", refused.message());
    assert!(refused.headers.contains_key(header::WWW_AUTHENTICATE));
    let records = audit(&api).await;
    let revocation = records.iter().find(|r| r.entry.action == "token.revoked").unwrap();
    assert_eq!((revocation.entry.actor.as_str(), &revocation.entry.details["id"]), ("alice", &json!(id)));
    let failed = records.iter().find(|r| r.entry.action == "api.authentication_failed").unwrap();
    let detail = failed.entry.details["detail"].as_str().unwrap();
    assert!(detail.contains(&id) && detail.contains("revoked") && detail.contains("GET /api/v1/me"), "{detail}");
    api.post("alice", "/api/v1/tokens/tok_0000000000000000/revoke", json!(null))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    api.kit.stop().await;
}

#[tokio::test]
async fn admins_make_tokens_for_anyone_and_people_only_for_themselves() {
    let api = Api::start().await;
    let for_bob =
        api.post("dave", "/api/v1/tokens", json!({ "person": "bob", "name": "ci", "expires": "never" })).await;
    assert_eq!(for_bob.status, StatusCode::CREATED, "{}", for_bob.text);
    let for_bob = for_bob.json();
    assert_eq!((&for_bob["token"]["person"], &for_bob["token"]["created_by"]), (&json!("bob"), &json!("dave")));
    assert_eq!(for_bob["token"]["expires_at"], Value::Null);
    let me = get_with(&api, for_bob["secret"].as_str().unwrap(), "/api/v1/me").await.json();
    assert_eq!(me["id"], "bob");
    let refused = api.post("alice", "/api/v1/tokens", json!({ "person": "bob", "name": "mine now" })).await;
    refused.assert_error(StatusCode::FORBIDDEN, "not_your_tokens");
    let records = audit(&api).await;
    let attempt = records.iter().find(|r| r.entry.action == "token.refused").unwrap();
    assert_eq!(attempt.entry.actor, "alice");
    for bad in
        [json!({ "name": "" }), json!({ "name": "x", "expires": "soon" }), json!({ "name": "x", "expires": "0s" })]
    {
        api.post("alice", "/api/v1/tokens", bad).await.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    api.kit.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refused_with_the_reason_in_the_audit() {
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    let kit = TestApp::builder().clock(clock.clone()).start().await;
    let api = Api::start_with(kit).await;
    let made = api.post("alice", "/api/v1/tokens", json!({ "name": "short", "expires": "1h" })).await.json();
    let secret = made["secret"].as_str().unwrap();
    assert_eq!(get_with(&api, secret, "/api/v1/me").await.status, StatusCode::OK);
    clock.advance(jiff::SignedDuration::from_mins(61));
    let refused = get_with(&api, secret, "/api/v1/me").await;
    refused.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(refused.message().contains("expired"), "{}", refused.message());
    let listed = api.get("alice", "/api/v1/tokens").await.json();
    let short = listed["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "short").unwrap().clone();
    assert_eq!(short["status"], "expired");
    let records = audit(&api).await;
    let failed = records.iter().find(|r| r.entry.action == "api.authentication_failed").unwrap();
    assert!(failed.entry.details["detail"].as_str().unwrap().contains("expired"), "{:?}", failed.entry);
    api.kit.stop().await;
}

/// The fixture with an agent that acts for bob, an approver.
pub(crate) fn with_agent() -> String {
    DOCKET_YAML
        .replace("policies:", "agents:\n  - { id: deploy-bot, owner: bob, may_request: [Deployments] }\n\npolicies:")
}

#[tokio::test]
async fn an_agents_token_requests_for_its_owner_and_never_decides() {
    let kit = TestApp::builder().config(&with_agent()).start().await;
    let bot = kit.agent_token("deploy-bot").await;
    let api = Api::start_with(kit).await;
    let reply =
        post_with(&api, &bot, "/api/v1/tickets", json!({ "workflow": "deploy", "params": deploy_params("prod") }))
            .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let ticket = reply.json();
    assert_eq!(ticket["requester"], "bob");
    assert_eq!(ticket["requested_by"], json!({ "kind": "agent", "agent": "deploy-bot", "on_behalf_of": "bob" }));
    assert_eq!(ticket["requested_by_name"], "deploy-bot (agent of Bob Ruiz)");
    let id = ticket["id"].as_str().unwrap();
    let digest = ticket["digest"].as_str().unwrap();
    let approve = format!("/api/v1/tickets/{id}/approve");
    post_with(&api, &bot, &approve, json!({ "digest": digest }))
        .await
        .assert_error(StatusCode::FORBIDDEN, "agent_cannot_decide");
    api.approve("bob", &ticket).await.assert_error(StatusCode::FORBIDDEN, "own_ticket");
    assert_eq!(api.approve("carol", &ticket).await.status, StatusCode::OK);
    // The agent may not make itself tokens, nor read the audit log though its owner could not
    // either; it comments and cancels its own request.
    post_with(&api, &bot, "/api/v1/tokens", json!({ "agent": "deploy-bot", "name": "more" }))
        .await
        .assert_error(StatusCode::FORBIDDEN, "agents_cannot");
    assert_eq!(
        post_with(&api, &bot, &format!("/api/v1/tickets/{id}/comment"), json!({ "text": "waiting" })).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post_with(&api, &bot, &format!("/api/v1/tickets/{id}/cancel"), json!(null)).await.status,
        StatusCode::OK
    );
    // bob lists his agent's token and may revoke it.
    let listed = api.get("bob", "/api/v1/tokens").await.json();
    let token = listed["tokens"].as_array().unwrap().iter().find(|t| t["agent"] == "deploy-bot").unwrap().clone();
    let revoked =
        api.post("bob", &format!("/api/v1/tokens/{}/revoke", token["id"].as_str().unwrap()), json!(null)).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    get_with(&api, &bot, "/api/v1/me").await.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    api.kit.stop().await;
}

/// The web page of one's own tokens: made there (the secret shown once), listed with their
/// maker and expiry, and revoked with a button, after which the token is refused.
#[tokio::test]
async fn the_tokens_page_lists_ones_own_tokens_with_a_revoke_button() {
    let api = Api::start().await;
    let cli_made = api.kit.token("alice").await;
    let mut browser = crate::browser::Browser::new(docket_web::router(
        api.kit.app.clone(),
        docket_web::WebOptions { demo: true, ..docket_web::WebOptions::default() },
    ));
    let page = browser.visit("/tokens").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("operator:test"), "the token the operator made is listed: {}", page.body);
    assert!(!page.body.contains(&cli_made), "never a secret");
    let csrf = page.csrf();
    let made = browser.post("/tokens", &[("csrf", &csrf), ("name", "browser-made"), ("expires", "30d")]).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let secret = made.body.split("<code>dkt_").nth(1).and_then(|rest| rest.split('<').next()).unwrap();
    let secret = format!("dkt_{secret}");
    assert_eq!(get_with(&api, &secret, "/api/v1/me").await.status, StatusCode::OK);
    let again = browser.visit("/tokens").await;
    assert!(!again.body.contains(&secret), "shown once");
    let listed = api.get("alice", "/api/v1/tokens").await.json();
    let id = listed["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "browser-made").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(again.body.contains(&format!("action=\"/tokens/{id}/revoke\"")), "{}", again.body);
    // Revoking without the session's CSRF token is refused; with it, the token stops.
    let forged = browser.post(&format!("/tokens/{id}/revoke"), &[("csrf", "nope")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(get_with(&api, &secret, "/api/v1/me").await.status, StatusCode::OK);
    let revoked = browser.post(&format!("/tokens/{id}/revoke"), &[("csrf", &again.csrf())]).await;
    assert!(revoked.body.contains("is revoked"), "{}", revoked.body);
    assert_eq!(get_with(&api, &secret, "/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    // Another person's page does not show alice's tokens.
    browser.act_as("bob").await;
    let bobs = browser.visit("/tokens").await;
    assert!(!bobs.body.contains(&id), "{}", bobs.body);
    api.kit.stop().await;
}
