//! The approval flow: staging runs at once; prod waits for two stages; the requester cannot
//! approve; approvals bind to the digest; refusals about who is acting are audited.

use docket_app::AppError;
use docket_core::{Refusal, TicketState};
use docket_testkit::TestApp;

use crate::{api, deploy, person};

#[tokio::test]
async fn staging_is_approved_at_once_and_runs_to_success() {
    let t = TestApp::start().await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    assert_eq!(ticket.id.to_string(), "DKT-1");
    assert!(ticket.digest.is_some());
    let done = t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    assert_eq!(done.runs.len(), 1);
    let logs = t.app.logs(&ticket.id, 0, 1000).await.unwrap();
    assert!(logs.iter().any(|l| l.text == "deploying api 1.2.3 to staging"), "{logs:#?}");
    assert!(logs.windows(2).all(|w| w[0].seq < w[1].seq));
    let report = t.app.verify_audit().await.unwrap();
    assert!(report.broken.is_none());
    assert!(report.records >= 8, "{report:?}");
    t.stop().await;
}

#[tokio::test]
async fn prod_waits_for_both_stages_and_refuses_the_requester() {
    let t = TestApp::start().await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("prod"), api()).await.unwrap();
    assert_eq!(ticket.state, TicketState::AwaitingApproval);
    let digest = ticket.digest.unwrap();

    let own = t.app.approve(&person("alice"), &ticket.id, digest, None).await.unwrap_err();
    assert!(matches!(own, AppError::Refused(Refusal::OwnTicket { .. })), "{own:?}");
    assert!(own.to_string().contains("you requested this ticket"), "{own}");
    let erin = t.app.approve(&person("erin"), &ticket.id, digest, None).await.unwrap_err();
    assert_eq!(erin.code(), "not_eligible");

    let after_bob = t.app.approve(&person("bob"), &ticket.id, digest, Some("lgtm".into())).await.unwrap();
    assert_eq!(after_bob.state, TicketState::AwaitingApproval);
    let again = t.app.approve(&person("bob"), &ticket.id, digest, None).await.unwrap_err();
    assert_eq!(again.code(), "approved_another_stage");
    t.app.approve(&person("carol"), &ticket.id, digest, None).await.unwrap();
    let done = t.wait_for_state(&ticket.id, TicketState::Succeeded).await;
    assert_eq!(done.reviews.len(), 2);

    let records = t.app.audit_records(0, 1000).await.unwrap();
    let refused: Vec<_> = records.iter().filter(|r| r.entry.action == "ticket.refused").collect();
    assert_eq!(refused.len(), 3, "self-approval, ineligible and repeated approver are audited: {refused:#?}");
    assert_eq!(refused[0].entry.actor, "alice");
    assert_eq!(refused[0].entry.details["code"], "own_ticket");
    assert!(t.app.verify_audit().await.unwrap().broken.is_none());
    t.stop().await;
}

#[tokio::test]
async fn amending_voids_approvals_and_old_digests_are_stale() {
    let t = TestApp::start().await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("prod"), api()).await.unwrap();
    let old = ticket.digest.unwrap();
    t.app.approve(&person("bob"), &ticket.id, old, None).await.unwrap();
    let params = crate::params(&[("service", "api"), ("version", "1.2.4"), ("env", "prod")]);
    let amended = t.app.amend(&person("alice"), &ticket.id, params).await.unwrap();
    assert_eq!(amended.state, TicketState::AwaitingApproval);
    let new = amended.digest.unwrap();
    assert_ne!(old, new);
    let stale = t.app.approve(&person("carol"), &ticket.id, old, None).await.unwrap_err();
    assert!(matches!(stale, AppError::Refused(Refusal::StaleDigest { current }) if current == new), "{stale:?}");
    t.stop().await;
}

#[tokio::test]
async fn invalid_params_create_nothing_and_use_no_ticket_number() {
    let t = TestApp::start().await;
    let bad = crate::params(&[("service", "db"), ("version", "latest")]);
    let err = t.app.request(&person("alice"), &"deploy".into(), bad, api()).await.unwrap_err();
    let AppError::Refused(Refusal::InvalidParams(errors)) = &err else { panic!("{err:?}") };
    assert_eq!(errors.0.len(), 3, "service, version and the missing env: {errors:?}");
    let page = t.app.tickets(&Default::default()).await.unwrap();
    assert!(page.tickets.is_empty());
    let ok = t.app.request(&person("alice"), &"deploy".into(), deploy("staging"), api()).await.unwrap();
    assert_eq!(ok.id.to_string(), "DKT-1");
    let unknown = t.app.request(&person("mallory"), &"deploy".into(), deploy("staging"), api()).await.unwrap_err();
    assert_eq!(unknown.code(), "unknown_person");
    t.stop().await;
}
