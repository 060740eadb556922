//! A flood of one warning is a few log lines, not a flood of them: `warn_throttled!` writes the
//! first at once and then one per interval, each with how many it held back. In a test binary
//! of its own, because it captures the log with a thread's default subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures this thread's log lines until the guard drops.
fn capture() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    let lines = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = Arc::clone(&lines);
    let subscriber =
        tracing_subscriber::fmt().with_ansi(false).with_writer(move || Captured(Arc::clone(&sink))).finish();
    (lines, tracing::subscriber::set_default(subscriber))
}

fn dropped(n: u32) {
    docket_http::warn_throttled!(every = Duration::from_secs(1); n, "dropped a modal");
}

fn stopped(n: u32) {
    docket_http::warn_throttled!(every = Duration::from_millis(100); n, "a flood that stops");
}

fn other() {
    docket_http::warn_throttled!(every = Duration::from_secs(1); "another kind");
}

#[test]
fn ten_thousand_warnings_are_two_lines_with_the_count_held_back() {
    let (lines, _logging) = capture();

    for n in 0..10_000 {
        dropped(n);
    }
    // Another kind has its own throttle: its first line is not held back by the flood.
    other();
    // The interval (1 s) is long enough that a slow machine cannot reach its end in the flood.
    std::thread::sleep(Duration::from_millis(1100));
    dropped(10_000);
    dropped(10_001);

    let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
    let flood: Vec<&str> = text.lines().filter(|l| l.contains("dropped a modal")).collect();
    assert_eq!(flood.len(), 2, "{text}");
    assert!(flood[0].contains("WARN") && flood[0].contains("held_back=0") && flood[0].contains("n=0"), "{text}");
    assert!(flood[1].contains("held_back=9999") && flood[1].contains("n=10000"), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains("another kind") && l.contains("held_back=0")).count(), 1, "{text}");
}

// One thread: the summary is written by a task on the thread whose subscriber captures.
#[tokio::test(flavor = "current_thread")]
async fn a_flood_that_stops_still_has_its_count_written_at_the_end_of_its_interval() {
    let (lines, _logging) = capture();

    for n in 0..500 {
        stopped(n);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // After the summary, the next one is written at once, with nothing held back.
    stopped(500);

    let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
    let all: Vec<&str> = text.lines().collect();
    assert_eq!(all.len(), 3, "{text}");
    assert!(all[0].contains("a flood that stops") && all[0].contains("held_back=0"), "{text}");
    assert!(
        all[1].contains("WARN") && all[1].contains("held_back=499") && all[1].contains("throttled_log.rs"),
        "{text}"
    );
    assert!(
        all[2].contains("a flood that stops") && all[2].contains("held_back=0") && all[2].contains("n=500"),
        "{text}"
    );
}
