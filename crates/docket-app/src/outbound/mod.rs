//! The outbound toolkit: what every client that calls another service needs, in one place and
//! free of any HTTP client type, so Slack, Teams, the web UI's sign-in and the integrations to
//! come all behave alike.
//!
//! - [`Backoff`], [`RetryPolicy`], [`retry`], [`Retries`]: exponential delays with equal
//!   jitter, a number of attempts, and never sooner than the server's `Retry-After`.
//! - [`retry_after`]: a `Retry-After` header in seconds (whole or decimal) or as an HTTP-date.
//! - [`RateLimiter`]: per-key or global budgets with bursts, callers served in the order they
//!   came.
//! - [`TtlCache`]: answers kept for a while, "nobody" included, with a bound on their number.
//! - [`KeySet`]: a publisher's signing keys, refreshed on schedule and, at most once a minute,
//!   on an unknown key id.

mod backoff;
mod cache;
mod keys;
mod rate;
mod retry;
mod retry_after;

pub use backoff::{Backoff, Delays};
pub use cache::TtlCache;
pub use keys::{KeyError, KeyPolicy, KeySet, Keys};
pub use rate::{Rate, RateLimiter};
pub use retry::{Retries, RetryPolicy, Verdict, retry};
pub use retry_after::retry_after;
