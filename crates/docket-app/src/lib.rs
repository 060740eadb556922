//! The one door into Docket. Every surface — REST, CLI, Slack, Teams, MCP — turns a user's
//! action into a call on [`App`] with a resolved [`docket_core::Actor`]; the app decides it
//! with core's rules and commits it through the [`Store`] in one transaction.
//!
//! - [`ports`]: what the app needs from outside ([`Store`], [`StepRunner`], [`Notifier`],
//!   [`Clock`]), each with its contract.
//! - [`outbound`]: retries, `Retry-After`, rate limits, caches and signing keys for every
//!   client that calls another service.
//! - the engine (private): planning, workers with leases, the expiry scheduler, the outbox
//!   dispatcher and the live event hub.

pub mod outbound;
pub mod ports;

pub use ports::clock::{Clock, ManualClock, SystemClock};
pub use ports::notifier::{Notifier, NotifyError, Relay, RelayKind};
pub use ports::runner::{Mode, StepJob, StepLog, StepRunner};
pub use ports::store::{
    ApiToken, Change, Claim, Committed, LogLine, LogStream, NewOutboxMessage, OutboxMessage, QueueOp, Store,
    StoreError, StoreStats, StoredTicket, TicketFilter, TicketPage,
};

mod app;
mod engine;
mod error;
mod live;
mod settings;

pub use app::{
    App, AppParts, ApprovalNotice, ApprovalView, AuditReport, Happening, StageView, TOKEN_PREFIX, TicketAction,
    TicketSummary, Tone, plan_lines, raw_params,
};
pub use app::{Blocked, Reached, SessionChange};
pub use engine::Engine;
pub use error::AppError;
pub use live::LiveEvent;
pub use settings::{RuleBook, Settings};
