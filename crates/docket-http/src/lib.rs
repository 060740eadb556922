//! Inbound HTTP plumbing that every surface of Docket shares, so each answers the same way:
//!
//! - `server`: the accept loop under the router: a cap on open connections (a 503 beyond it),
//!   a time limit for a request head and for a body (bounded by its size), `TCP_NODELAY` on
//!   every connection, accept errors such as `EMFILE` survived without a tight loop, and a
//!   graceful stop;
//! - `limits`: how many connections the process's file-descriptor limit allows;
//! - `body`: the raw request body as an extractor whose refusals use the JSON error shape;
//! - `error`: that shape, `{"error": {"code", "message", "details"}}`;
//! - `peer`: the address a request came from, for auditing failed authentications;
//! - `hub_signature`: `X-Hub-Signature: sha256=…` webhook signatures (Jira, ServiceNow);
//! - `throttle`: a warning a flood repeats, written once per interval with a count
//!   ([`warn_throttled!`]).

mod body;
mod error;
pub mod hub_signature;
mod limits;
mod peer;
mod server;
mod throttle;

pub use body::RawBody;
pub use error::{error_body, error_response};
pub use limits::{connection_budget, raise_fd_limit};
pub use peer::{Peer, peer};
pub use server::{ServerOptions, serve};
pub use throttle::{FLOOD_INTERVAL, Throttle};

#[doc(hidden)]
pub use tracing as __tracing;
