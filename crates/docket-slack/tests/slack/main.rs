//! The Slack surface end to end, against the fake Slack in `docket-testkit` over real HTTP and
//! WebSockets on loopback, into a real app on the SQLite store with the real runners.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod socket_mode;
