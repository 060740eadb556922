//! OAuth against the fake instance: tokens from `/oauth_token.do` by the password grant and by
//! client credentials, cached, fetched again before they expire and once when refused; wrong
//! credentials refused without the secret in the error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::sync::Arc;
use std::time::Duration;

use docket_app::Settings;
use docket_core::{Actor, RawParams, TicketState};
use docket_servicenow::{Grant, ServiceNowClient, ServiceNowError, ServiceNowNotifier, ServiceNowSettings};
use docket_testkit::TestApp;
use docket_testkit::ticketing::servicenow::{self, FakeServiceNow};
use docket_testkit::ticketing::servicenow_oauth::{CLIENT_ID, CLIENT_SECRET};
use serde_json::Value;

fn password_grant(fake: &FakeServiceNow) -> ServiceNowSettings {
    let mut settings = ServiceNowSettings::new(&fake.url, servicenow::USERNAME, servicenow::PASSWORD, "cb")
        .with_oauth(CLIENT_ID, CLIENT_SECRET);
    settings.retry.backoff.base = Duration::from_millis(10);
    settings
}

fn client_credentials(fake: &FakeServiceNow, secret: &str) -> ServiceNowSettings {
    let mut settings = ServiceNowSettings::new(&fake.url, "", "", "cb").with_oauth(CLIENT_ID, secret);
    settings.retry.backoff.base = Duration::from_millis(10);
    settings
}

#[tokio::test]
async fn tickets_are_mirrored_with_one_token_by_the_password_grant() {
    let fake = FakeServiceNow::start().await;
    fake.require_oauth();
    let settings = password_grant(&fake);
    assert_eq!(settings.grant(), Some(Grant::Password));
    assert!(!format!("{settings:?}").contains(CLIENT_SECRET));
    let app = TestApp::builder()
        .settings(|s: &mut Settings| {
            s.outbox_backoff = Duration::from_millis(20);
            s.outbox_max_backoff = Duration::from_millis(200);
        })
        .notifier(ServiceNowNotifier::new(ServiceNowClient::new(Arc::new(settings)).unwrap()))
        .start()
        .await;
    let params: RawParams = [("service", "api"), ("version", "1.4.2"), ("env", "staging")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    let ticket = app.app.request(&Actor::person("alice"), &"deploy".into(), params, Default::default()).await.unwrap();
    app.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    for _ in 0..1000 {
        if fake.records().first().is_some_and(|r| r.field("state") == "3") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(fake.records()[0].field("state"), "3", "the record was written with the token");
    assert_eq!(fake.token_requests(), ["password"], "one token, cached for every call");
    assert_eq!(fake.refused_tokens(), 0);
}

#[tokio::test]
async fn client_credentials_need_no_user() {
    let fake = FakeServiceNow::start().await;
    fake.require_oauth();
    let settings = client_credentials(&fake, CLIENT_SECRET);
    assert_eq!(settings.grant(), Some(Grant::ClientCredentials));
    let client = ServiceNowClient::new(Arc::new(settings)).unwrap();
    assert_eq!(client.find("DKT-1").await.unwrap(), None);
    assert_eq!(client.find("DKT-2").await.unwrap(), None);
    assert_eq!(fake.token_requests(), ["client_credentials"]);
}

#[tokio::test]
async fn a_token_is_fetched_again_before_it_expires() {
    let fake = FakeServiceNow::start().await;
    fake.require_oauth();
    fake.set_token_lifetime(Duration::from_secs(2));
    let client = ServiceNowClient::new(Arc::new(password_grant(&fake))).unwrap();
    client.find("DKT-1").await.unwrap();
    client.find("DKT-1").await.unwrap();
    assert_eq!(fake.token_requests().len(), 1, "cached while it lives");
    // Renewed a quarter of its life early: after 1.5 s of 2 s.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    client.find("DKT-1").await.unwrap();
    assert_eq!(fake.token_requests().len(), 2);
    assert_eq!(fake.refused_tokens(), 0, "never sent an expired token");
}

#[tokio::test]
async fn a_refused_token_is_replaced_once() {
    let fake = FakeServiceNow::start().await;
    fake.require_oauth();
    let client = ServiceNowClient::new(Arc::new(password_grant(&fake))).unwrap();
    client.find("DKT-1").await.unwrap();
    fake.expire_tokens();
    client.find("DKT-1").await.unwrap();
    assert_eq!(fake.refused_tokens(), 1);
    assert_eq!(fake.token_requests().len(), 2);
}

#[tokio::test]
async fn wrong_client_credentials_are_refused_without_the_secret_in_the_error() {
    let fake = FakeServiceNow::start().await;
    fake.require_oauth();
    let client = ServiceNowClient::new(Arc::new(client_credentials(&fake, "not-the-s3cret"))).unwrap();
    let error = client.find("DKT-1").await.unwrap_err();
    assert!(matches!(error, ServiceNowError::Status { status: 401, .. }), "{error:?}");
    assert!(!error.is_transient());
    let text = error.to_string();
    assert!(text.contains("access_denied"), "{text}");
    assert!(!text.contains("not-the-s3cret"), "{text}");
    assert_eq!(fake.calls().iter().filter(|c| c.starts_with("GET")).count(), 0, "no Table API call without a token");
}

#[tokio::test]
async fn basic_auth_is_refused_by_an_instance_that_wants_oauth() {
    let fake = FakeServiceNow::start().await;
    fake.require_oauth();
    let settings = ServiceNowSettings::new(&fake.url, servicenow::USERNAME, servicenow::PASSWORD, "cb");
    let client = ServiceNowClient::new(Arc::new(settings)).unwrap();
    let error = client.find("DKT-1").await.unwrap_err();
    assert!(matches!(error, ServiceNowError::Status { status: 401, .. }), "{error:?}");
    assert!(fake.token_requests().is_empty());
}
