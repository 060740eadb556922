//! Work begun after an answer (`App::after_answer`) is waited for by a clean stop
//! (`App::settle`), for as long as its grace, and no longer.

use std::time::{Duration, Instant};

use docket_testkit::TestApp;

#[tokio::test]
async fn a_stop_waits_for_work_begun_after_an_answer() {
    let t = TestApp::builder().without_engine().start().await;
    let app = t.app.clone();
    t.app.after_answer(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.remember("clicks", "approve", "done").await.unwrap();
    });
    assert!(t.app.settle(Duration::from_secs(10)).await, "settled within its grace");
    assert_eq!(t.app.recall("clicks", "approve").await.unwrap().as_deref(), Some("done"));
    t.stop().await;
}

#[tokio::test]
async fn a_stop_waits_no_longer_than_its_grace() {
    let t = TestApp::builder().without_engine().start().await;
    t.app.after_answer(tokio::time::sleep(Duration::from_secs(30)));
    let started = Instant::now();
    assert!(!t.app.settle(Duration::from_millis(200)).await, "still running when the grace ran out");
    assert!(started.elapsed() < Duration::from_secs(5), "gave up after its grace: {:?}", started.elapsed());
    // Nothing begun: settled at once.
    let quiet = TestApp::builder().without_engine().start().await;
    assert!(quiet.app.settle(Duration::from_millis(1)).await);
    quiet.stop().await;
    t.stop().await;
}
