//! End-to-end tests of the Slack surface in HTTP mode and Socket Mode: the real app (TestApp),
//! the router on a real TCP socket, the fake Slack (Web API and Socket Mode server), and requests
//! signed exactly as Slack signs them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod approvers;
mod changes;
mod client;
mod events;
mod fuzz;
mod http_mode;
mod relay;
mod results;
mod security;
mod socket_mode;
mod stop;
mod support;
mod takeover;
