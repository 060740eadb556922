//! Once-records a surface counts with `Pruned`: the first count after a start and every
//! `every`-th after it forget what is older than the scope keeps; other scopes and fresh
//! records stay.

use std::sync::Arc;
use std::time::Duration;

use docket_app::{App, ManualClock, Pruned};
use docket_testkit::TestApp;
use jiff::SignedDuration;

/// Waits (at most 5 s) until `key` of `scope` is gone.
async fn gone(app: &App, scope: &str, key: &str) -> bool {
    for _ in 0..500 {
        if app.recall(scope, key).await.unwrap().is_none() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn the_first_count_and_every_nth_forget_what_is_older_than_kept() {
    let clock = Arc::new(ManualClock::new("2026-11-24T10:00:00Z".parse().unwrap()));
    let t = TestApp::builder().clock(clock.clone()).without_engine().start().await;
    let app = &t.app;
    let pruned = Pruned::new("forms", Duration::from_secs(3600), 3);
    app.remember("forms", "old", "DKT-1").await.unwrap();
    app.remember("sessions", "old", "kept").await.unwrap();
    clock.advance(SignedDuration::from_hours(2));
    app.remember("forms", "new", "DKT-2").await.unwrap();

    // The first count after a start prunes: the old form key goes, the rest stays.
    pruned.count(app);
    assert!(gone(app, "forms", "old").await, "the first count prunes");
    assert_eq!(app.recall("forms", "new").await.unwrap().as_deref(), Some("DKT-2"));
    assert_eq!(app.recall("sessions", "old").await.unwrap().as_deref(), Some("kept"), "another scope");

    // Two hours on, the next two counts are not due; the third is.
    clock.advance(SignedDuration::from_hours(2));
    pruned.count(app);
    pruned.count(app);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.recall("forms", "new").await.unwrap().as_deref(), Some("DKT-2"), "not due yet");
    pruned.count(app);
    assert!(gone(app, "forms", "new").await, "every third count prunes");
    t.stop().await;
}
