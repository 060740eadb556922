//! The HTTP surface end to end: requests go through the real router (with
//! `tower::ServiceExt::oneshot`, or a real socket for server-sent events) into a real app on
//! the SQLite store with the real runners, from the test kit's fixture team and policy.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

mod audit;
mod browser;
mod changes;
mod commands;
mod errors;
mod events;
mod oidc;
mod openapi;
mod ops;
mod pages;
mod results;
mod secrets;
mod support;
mod tickets;
mod tokens;
mod ui;
mod workflows;
