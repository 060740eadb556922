//! The Teams surface end to end: the real app on a temporary store, the router on a real
//! socket, and the fake Bot Framework from docket-testkit signing tokens and recording what
//! Docket sends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod auth;
mod cards;
mod changes;
mod client;
mod flow;
mod fuzz;
mod manifest;
mod messages;
mod results;
mod support;
mod takeover;
