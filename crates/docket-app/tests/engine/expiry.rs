//! Deadlines: an unanswered request expires after its request TTL; an approval that goes
//! unused expires after its approval TTL. Time is moved by hand.

use std::sync::Arc;

use docket_app::ManualClock;
use docket_core::TicketState;
use docket_core::ticket::ExpiryReason;
use docket_testkit::TestApp;
use jiff::SignedDuration;

use crate::{api, deploy, person};

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new("2026-11-24T10:00:00Z".parse().unwrap()))
}

#[tokio::test]
async fn an_unanswered_request_expires_after_its_ttl() {
    let clock = clock();
    let t = TestApp::builder().clock(clock.clone()).without_engine().start().await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("prod"), api()).await.unwrap();
    clock.advance(SignedDuration::from_hours(23));
    assert_eq!(t.app.expire_due().await.unwrap(), 0);
    clock.advance(SignedDuration::from_hours(1));
    assert_eq!(t.app.expire_due().await.unwrap(), 1);
    let expired = t.app.ticket(&ticket.id).await.unwrap();
    assert_eq!(expired.state, TicketState::Expired);
    let late = t.app.approve(&person("bob"), &ticket.id, ticket.digest.unwrap(), None).await.unwrap_err();
    assert_eq!(late.code(), "wrong_state");
    let history = t.app.history(&ticket.id).await.unwrap();
    assert!(history.iter().any(|(e, _)| matches!(e, docket_core::Event::Expired { reason: ExpiryReason::RequestTtl })));
    t.stop().await;
}

#[tokio::test]
async fn an_unused_approval_expires_and_the_run_never_starts() {
    let clock = clock();
    let t = TestApp::builder().clock(clock.clone()).without_engine().start().await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("prod"), api()).await.unwrap();
    let digest = ticket.digest.unwrap();
    t.app.approve(&person("bob"), &ticket.id, digest, None).await.unwrap();
    let queued = t.app.approve(&person("carol"), &ticket.id, digest, None).await.unwrap();
    assert_eq!(queued.state, TicketState::Queued);
    assert_eq!(t.app.stats().await.unwrap().queue_depth, 1);
    clock.advance(SignedDuration::from_mins(61));
    assert_eq!(t.app.expire_due().await.unwrap(), 1);
    assert_eq!(t.app.ticket(&ticket.id).await.unwrap().state, TicketState::Expired);
    assert_eq!(t.app.stats().await.unwrap().queue_depth, 0, "an expired ticket leaves the queue");
    t.stop().await;
}

#[tokio::test]
async fn the_scheduler_expires_on_its_own() {
    let clock = clock();
    let t = TestApp::builder().clock(clock.clone()).start().await;
    let ticket = t.app.request(&person("alice"), &"deploy".into(), deploy("prod"), api()).await.unwrap();
    clock.advance(SignedDuration::from_hours(25));
    t.wait_for_state(&ticket.id, TicketState::Expired).await;
    t.stop().await;
}
