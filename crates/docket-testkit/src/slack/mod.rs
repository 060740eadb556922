//! A fake Slack for end-to-end tests: the Web API over HTTP and a Socket Mode WebSocket server,
//! both on loopback, recording what Docket sends and answering like Slack.

pub mod socket;
pub mod web_api;

pub use socket::FakeSocketMode;
pub use web_api::{BOT_TOKEN, BOT_USER, Call, FakeSlack, Message, SharedFile};
