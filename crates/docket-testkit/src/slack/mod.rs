//! A fake Slack for end-to-end tests: the Web API over HTTP and a Socket Mode WebSocket server,
//! both on loopback, recording what Docket sends and answering like Slack.

pub mod socket;

pub use socket::FakeSocketMode;
