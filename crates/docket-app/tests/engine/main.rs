//! The app and its engine end to end, on the real SQLite store and the real runners: the
//! approval flow, expiry, concurrency keys, cancellation, output caps and redaction, and the
//! outbox's retries.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

mod after_answer;
mod cancel;
mod chain;
mod concurrency;
mod expiry;
mod flow;
mod keyed;
mod logs;
mod orphans;
mod outbox;
mod pruned;
mod relay;
mod run_as;
mod views;
mod watch;

use docket_core::ticket::Origin;
use docket_core::{Actor, RawParams};

pub(crate) fn person(id: &str) -> Actor {
    Actor::person(id)
}

pub(crate) fn params(pairs: &[(&str, &str)]) -> RawParams {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v))).collect()
}

pub(crate) fn deploy(env: &str) -> RawParams {
    params(&[("service", "api"), ("version", "1.2.3"), ("env", env)])
}

pub(crate) fn api() -> Origin {
    Origin { surface: "api".to_owned(), ..Origin::default() }
}
