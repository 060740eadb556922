//! Timestamps of a step's phases, recorded only while switched on (the bench's breakdown).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

static ON: AtomicBool = AtomicBool::new(false);
static MARKS: Mutex<Vec<(Instant, &'static str)>> = Mutex::new(Vec::new());

/// Records that `what` happened now, if recording is on.
pub fn mark(what: &'static str) {
    if ON.load(Ordering::Relaxed) {
        MARKS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((Instant::now(), what));
    }
}

/// Switches recording on or off.
pub fn record(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

/// Everything recorded so far, in order.
pub fn take() -> Vec<(Instant, &'static str)> {
    std::mem::take(&mut *MARKS.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}
